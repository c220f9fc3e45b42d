"""Bearer-token auth with scopes. Tokens are configured as SHA-256 digests, never in clear.

Scopes: ``read`` (queries), ``write`` (changes), ``admin`` (implies the others).
"""

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stockwire.runtime.settings import ApiToken, Settings

SCOPES = ("read", "write", "admin")

_bearer = HTTPBearer(auto_error=False, description="A Stockwire API token.")


def hash_token(token: str) -> str:
    """The digest stored in configuration for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh random token and its digest."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def find_token(settings: Settings, presented: str) -> ApiToken | None:
    digest = hash_token(presented)
    match = None
    for token in settings.api_tokens:
        if hmac.compare_digest(token.sha256, digest):
            match = token
    return match


def grants(token: ApiToken, scope: str) -> bool:
    return "admin" in token.scopes or scope in token.scopes


def require_scope(scope: str) -> Callable[..., Awaitable[ApiToken]]:
    """A FastAPI dependency: 401 without a valid token, 403 without ``scope``."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; scopes are {', '.join(SCOPES)}")

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiToken:
        settings: Settings = request.app.state.settings
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = find_token(settings, credentials.credentials)
        if token is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "invalid bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not grants(token, scope):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"token {token.name!r} lacks the {scope!r} scope"
            )
        return token

    return dependency
