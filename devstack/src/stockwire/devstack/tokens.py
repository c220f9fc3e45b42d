"""The development secrets ``make up`` hands out, and how services learn of them: an admin
API token, an FSM webhook secret, the monitoring webhooks' secret and the notifier's
acknowledge-link key, new on every run."""

import json
import os
import secrets
from pathlib import Path

from stockwire.runtime.auth import SCOPES, hash_token

DEV_SCOPES = SCOPES
"""The development token may do everything."""


def api_tokens_json(token: str) -> str:
    """The value of STOCKWIRE_API_TOKENS: services keep only the token's SHA-256 digest."""
    return json.dumps([{"name": "dev", "sha256": hash_token(token), "scopes": list(DEV_SCOPES)}])


def new_secret() -> str:
    """A key for signing: FSM webhook calls, acknowledge links (43 characters; the
    settings want at least 16)."""
    return secrets.token_urlsafe(32)


def write_secret(path: Path, secret: str) -> None:
    """Write ``secret`` readable by its owner only, also when the file already exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(secret + "\n")
