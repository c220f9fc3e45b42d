"""Webhook callers prove themselves with the shared secret: as a bearer token when they
cannot sign (Alertmanager, LibreNMS), or as the key of a body signature; a webhook
without a secret is off."""

import hashlib
import hmac
import time

import pytest
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import SecretStr

from stockwire.runtime.http.problems import ApiError
from stockwire.runtime.http.webhooks import (
    configured_secret,
    verify_bearer_secret,
    verify_caller,
)
from stockwire.runtime.settings import Settings

SECRET = "a-monitoring-secret-of-some-length"
BODY = b'{"version": "4"}'
SETTINGS = Settings()


def bearer(credentials: str) -> HTTPAuthorizationCredentials:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=credentials)


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def refusal(call) -> ApiError:
    with pytest.raises(ApiError) as refused:
        call()
    return refused.value


def test_the_secret_as_bearer_token_is_accepted():
    verify_bearer_secret(SECRET, SECRET)


@pytest.mark.parametrize(
    "presented",
    [None, "", "wrong", SECRET[:-1], SECRET + "x", SECRET.upper(), f"{SECRET} "],
    ids=["none", "empty", "wrong", "shorter", "longer", "other case", "trailing space"],
)
def test_anything_but_the_secret_is_401(presented):
    error = refusal(lambda: verify_bearer_secret(SECRET, presented))

    assert error.status_code == 401
    assert error.body.error == "unauthorized"


def test_a_refusal_says_how_to_authenticate_without_echoing_the_secret():
    missing = refusal(lambda: verify_bearer_secret(SECRET, None))
    wrong = refusal(lambda: verify_bearer_secret(SECRET, "guess"))

    assert "Authorization: Bearer" in missing.body.detail
    assert "X-Stockwire-Signature" in missing.body.detail
    assert SECRET not in missing.body.detail + wrong.body.detail


def test_a_caller_may_sign_the_body_instead():
    verify_caller(
        SECRET, BODY, bearer=None, signature=signed(BODY), timestamp=None, settings=SETTINGS
    )


def test_a_caller_that_signs_is_judged_by_its_signature_not_its_bearer():
    error = refusal(
        lambda: verify_caller(
            SECRET,
            BODY,
            bearer=bearer(SECRET),
            signature=signed(BODY, "another-secret"),
            timestamp=None,
            settings=SETTINGS,
        )
    )

    assert error.status_code == 401


def test_a_stale_signed_timestamp_is_refused_by_the_settings_tolerance():
    stale = str(int(time.time()) - 3600)
    signature = signed(stale.encode() + b"." + BODY)

    error = refusal(
        lambda: verify_caller(
            SECRET, BODY, bearer=None, signature=signature, timestamp=stale, settings=SETTINGS
        )
    )

    assert "from our clock" in error.body.detail


def test_a_caller_with_the_bearer_secret_and_no_signature_is_accepted():
    verify_caller(
        SECRET, BODY, bearer=bearer(SECRET), signature=None, timestamp=None, settings=SETTINGS
    )


def test_a_webhook_without_a_secret_is_off_with_503_naming_the_setting():
    error = refusal(lambda: configured_secret(None, "STOCKWIRE_X_SECRET"))

    assert (error.status_code, error.body.error) == (503, "not_configured")
    assert "STOCKWIRE_X_SECRET" in error.body.detail
    assert configured_secret(SecretStr(SECRET), "STOCKWIRE_X_SECRET") == SECRET
