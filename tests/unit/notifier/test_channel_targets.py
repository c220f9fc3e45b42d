"""Channel targets: what is accepted for each type, why the rest is refused, and what the
API may show of a URL (never its secret)."""

import secrets
from pathlib import Path

import pytest

from stockwire.notifier.channels import (
    ChannelError,
    ChannelSpec,
    ChannelType,
    References,
    masked,
    render_for,
    resolve_url,
    validate_target,
)
from stockwire.notifier.rendering import RenderRequest
from stockwire.runtime.domain_errors import Invalid

SECRET = "s3cr3t" + secrets.token_hex(10)
ANYWHERE = References(env_prefix="", files_dir=Path("/"))
"""No restriction on where a URL is read from, for the tests of the rest."""

VALID = [
    (ChannelType.MATTERMOST, f"mmost://chat.example.test/{SECRET}"),
    (ChannelType.MATTERMOST, f"mmosts://chat.example.test:8443/{SECRET}"),
    (ChannelType.SLACK, f"slack://T1JJ3T3L2/A1BRTD4JD/{SECRET}"),
    (ChannelType.SLACK, f"https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/{SECRET}"),
    (ChannelType.DISCORD, f"discord://4174216298/{SECRET}"),
    (ChannelType.TELEGRAM, f"tgram://123456789:{SECRET}/-100123"),
    (ChannelType.MSTEAMS, f"workflows://prod.example.test:443/wfid/{SECRET}/"),
    (ChannelType.JSON, f"json://hooks.example.test:8080/alerts/{SECRET}"),
    (ChannelType.JSON, f"jsons://user:{SECRET}@hooks.example.test/alerts"),
]


def spec(kind: ChannelType = ChannelType.MATTERMOST, **target) -> ChannelSpec:
    return ChannelSpec(name="ops", type=kind, **target)


@pytest.mark.parametrize(("kind", "url"), VALID)
def test_each_chat_type_accepts_its_apprise_urls(kind, url):
    validate_target(spec(kind, url=url), ANYWHERE)


@pytest.mark.parametrize(("kind", "url"), VALID)
def test_masked_shows_where_a_url_points_but_never_its_secret(kind, url):
    shown = masked(spec(kind, url=url))
    assert SECRET not in shown
    assert "://" in shown


def test_masked_keeps_the_host_so_people_recognise_the_channel():
    shown = masked(spec(ChannelType.JSON, url=f"json://hooks.example.test:8080/a/{SECRET}"))
    assert shown.startswith("json://hooks.example.test:8080/")


def test_masked_references_name_the_reference_not_the_value(monkeypatch):
    monkeypatch.setenv("SW_OPS_URL", f"mmost://chat.example.test/{SECRET}")
    assert masked(spec(url_env="SW_OPS_URL")) == "env:SW_OPS_URL"
    assert masked(spec(url_file="/run/secrets/ops")) == "file:/run/secrets/ops"


def test_masked_email_channel_shows_its_recipients():
    email = ChannelSpec(name="m", type=ChannelType.EMAIL, recipients=("a@x.test", "b@x.test"))
    assert masked(email) == "smtp:a@x.test,b@x.test"


def test_masked_of_an_unusable_url_shows_no_part_of_it():
    assert masked(spec(url=f"mmost://{SECRET}")) == "mmost://***"
    assert masked(spec(url=f"no scheme {SECRET}")) == "***"


@pytest.mark.parametrize(
    ("kind", "url", "reason"),
    [
        (ChannelType.SLACK, f"mmost://chat.example.test/{SECRET}", "is a Mattermost URL"),
        (ChannelType.MATTERMOST, f"json://hooks.example.test/{SECRET}", "is a JSON URL"),
        (ChannelType.JSON, f"discord://4174216298/{SECRET}", "is a Discord URL"),
        (ChannelType.MATTERMOST, f"https://example.test/{SECRET}", "is not a URL Apprise"),
        (ChannelType.MATTERMOST, f"mmost://{SECRET}", "is not a URL Apprise"),
        (ChannelType.MATTERMOST, f"nonsense {SECRET}", "is not a URL Apprise"),
        (ChannelType.DISCORD, "discord://", "is not a URL Apprise"),
        (ChannelType.MATTERMOST, "   ", "is empty"),
    ],
)
def test_a_bad_or_mismatched_url_is_refused_with_a_reason_that_hides_it(kind, url, reason):
    with pytest.raises(Invalid) as refused:
        validate_target(spec(kind, url=url), ANYWHERE)
    assert refused.value.field == "url"
    assert reason in refused.value.reason
    assert SECRET not in str(refused.value)


def test_the_reason_says_which_schemes_the_type_takes():
    with pytest.raises(Invalid) as refused:
        validate_target(spec(ChannelType.MATTERMOST, url=f"slack://T1/B1/{SECRET}"), ANYWHERE)
    assert refused.value.reason.endswith("expected mmost://... or mmosts://...")


@pytest.mark.parametrize(
    "target",
    [
        {},
        {"url": "mmost://chat.example.test/abcd", "url_env": "X"},
        {"url_env": "X", "url_file": "/run/x"},
    ],
)
def test_a_chat_channel_names_exactly_one_target(target):
    with pytest.raises(Invalid, match="exactly one of url, url_env or url_file"):
        validate_target(spec(**target), ANYWHERE)


@pytest.mark.parametrize(
    ("field", "value"), [("url_env", "1BAD"), ("url_env", "A-B"), ("url_env", "")]
)
def test_an_env_reference_must_be_a_variable_name(field, value):
    with pytest.raises(Invalid, match="not an environment variable name"):
        validate_target(spec(**{field: value}), ANYWHERE)


def test_a_file_reference_must_be_absolute():
    with pytest.raises(Invalid, match="must be an absolute path"):
        validate_target(spec(url_file="secrets/ops"), ANYWHERE)


def test_references_are_accepted_before_the_secret_exists():
    validate_target(spec(url_env="SW_NOT_SET_YET"), ANYWHERE)
    validate_target(spec(url_file="/run/secrets/not-yet"), ANYWHERE)


def test_an_email_channel_takes_recipients_not_a_url():
    validate_target(
        ChannelSpec(name="m", type=ChannelType.EMAIL, recipients=("ops@x.test",)), ANYWHERE
    )
    with pytest.raises(Invalid) as refused:
        validate_target(ChannelSpec(name="m", type=ChannelType.EMAIL, url="mailto://x"), ANYWHERE)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    "address", ["not-an-address", "ops@", "@x.test", "ops@localhost", "a b@x.test"]
)
def test_an_email_channel_refuses_a_malformed_recipient(address):
    with pytest.raises(Invalid) as refused:
        validate_target(
            ChannelSpec(name="m", type=ChannelType.EMAIL, recipients=("ok@x.test", address)),
            ANYWHERE,
        )
    assert refused.value.field == "recipients[1]"


def test_resolve_url_prefers_nothing_it_was_not_given(monkeypatch, tmp_path):
    path = tmp_path / "url"
    path.write_text(f"  mmost://chat.example.test/{SECRET}\n")
    monkeypatch.setenv("SW_OPS_URL", f"mmost://env.example.test/{SECRET}")
    assert resolve_url(spec(url_file=str(path)), ANYWHERE) == f"mmost://chat.example.test/{SECRET}"
    assert resolve_url(spec(url_env="SW_OPS_URL"), ANYWHERE) == f"mmost://env.example.test/{SECRET}"


@pytest.mark.parametrize(
    ("kind", "formats"),
    [
        (ChannelType.EMAIL, {"text", "html"}),
        (ChannelType.MATTERMOST, {"text", "markdown"}),
        (ChannelType.SLACK, {"text", "markdown"}),
        (ChannelType.JSON, {"text"}),
    ],
)
def test_each_channel_type_gets_the_formats_it_sends(kind, formats):
    rendered = render_for(kind, RenderRequest("test", []))
    present = {name for name in ("text", "html", "markdown") if getattr(rendered, name) is not None}
    assert present == formats


CHANNELS_ONLY = References(
    env_prefix="STOCKWIRE_CHANNEL_", files_dir=Path("/etc/stockwire/channels")
)


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ({"url_env": "STOCKWIRE_DATABASE_URL"}, "url_env"),
        ({"url_env": "HOME"}, "url_env"),
        ({"url_file": "/etc/passwd"}, "url_file"),
        ({"url_file": "/etc/stockwire/channels/../../passwd"}, "url_file"),
    ],
    ids=repr,
)
def test_a_reference_outside_what_channels_may_read_is_refused(target, field):
    with pytest.raises(Invalid) as refused:
        validate_target(spec(**target), CHANNELS_ONLY)
    assert refused.value.field == field


def test_a_reference_meant_for_channels_is_accepted():
    validate_target(spec(url_env="STOCKWIRE_CHANNEL_OPS"), CHANNELS_ONLY)
    validate_target(spec(url_file="/etc/stockwire/channels/ops"), CHANNELS_ONLY)


def test_a_url_is_not_read_from_outside_what_channels_may_read_even_if_stored(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("SW_ELSEWHERE", f"mmost://chat.example.test/{SECRET}")
    outside = tmp_path / "url"
    outside.write_text(f"mmost://chat.example.test/{SECRET}")
    only = References(env_prefix="STOCKWIRE_CHANNEL_", files_dir=tmp_path / "channels")

    with pytest.raises(ChannelError, match="not one for channels"):
        resolve_url(spec(url_env="SW_ELSEWHERE"), only)
    with pytest.raises(ChannelError, match="is not in"):
        resolve_url(spec(url_file=str(outside)), only)
