"""Signed, expiring acknowledge links: a person acknowledges an alert from the message
itself, with no API token.

A link carries the alert's ``dedup_key`` and an expiry, signed with HMAC-SHA256 under
``notifier_link_secret``; it grants acknowledging that one alert until then, nothing else.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from stockwire.runtime.domain_errors import Invalid


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class AckLinks:
    secret: bytes
    base_url: str
    ttl: timedelta

    def token(self, dedup_key: str, now: datetime) -> str:
        expires = int((now + self.ttl).timestamp())
        claims = _encode(json.dumps({"k": dedup_key, "e": expires}).encode())
        return f"{claims}.{self._sign(claims)}"

    def url(self, dedup_key: str, now: datetime) -> str:
        return (
            f"{self.base_url.rstrip('/')}/api/v1/ack/{quote(self.token(dedup_key, now), safe='')}"
        )

    def verify(self, token: str, now: datetime) -> str:
        """The ``dedup_key`` a genuine, unexpired token names; Invalid otherwise."""
        claims, _, signature = token.partition(".")
        if not claims or not hmac.compare_digest(signature, self._sign(claims)):
            raise Invalid("token", "is not a link this notifier signed")
        try:
            body = json.loads(_decode(claims))
            dedup_key, expires = str(body["k"]), int(body["e"])
        except (ValueError, KeyError, TypeError) as error:
            raise Invalid("token", "is not a link this notifier signed") from error
        if datetime.fromtimestamp(expires, UTC) < now:
            raise Invalid("token", "has expired; acknowledge in the API instead")
        return dedup_key

    def _sign(self, claims: str) -> str:
        return _encode(hmac.new(self.secret, claims.encode(), hashlib.sha256).digest())
