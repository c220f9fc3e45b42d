"""Settings a notifier could not work with fail when it starts, not at the first email."""

import pytest
from pydantic import ValidationError

from stockwire.notifier.settings import NotifierSettings


@pytest.mark.parametrize("sender", ["stockwire@localhost", "not an address", "@example.com"])
def test_a_sender_the_smtp_client_would_refuse_is_refused_at_start(sender: str) -> None:
    with pytest.raises(ValidationError, match="notifier_smtp_sender"):
        NotifierSettings(notifier_smtp_sender=sender)


def test_the_default_sender_is_one_the_smtp_client_takes() -> None:
    assert NotifierSettings().notifier_smtp_sender == "stockwire@localhost.localdomain"


def test_a_link_secret_too_short_to_sign_with_is_refused() -> None:
    with pytest.raises(ValidationError, match="notifier_link_secret"):
        NotifierSettings(notifier_link_secret="short")
