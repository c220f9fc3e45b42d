"""Request bodies are capped before anything reads, parses or authenticates them.

Without a cap, one client without a token could make a service read an unbounded body
into memory. :class:`BodyLimit` wraps the whole app: a request that declares a longer
``Content-Length`` is answered 413 without reading any of it, and one that streams more
is answered 413 as soon as the cap is passed, so at most the cap is ever read. Routes
that take large uploads (the catalog's CSV import) get a larger cap by path.
"""

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = 413


def _too_large(limit: int) -> HTTPException:
    return HTTPException(TOO_LARGE, f"the request body may be at most {limit} bytes")


class BodyLimit:
    """ASGI middleware: at most ``default`` bytes of body per request, or the cap that
    ``by_path`` gives for the request's exact path."""

    def __init__(self, app: ASGIApp, default: int, by_path: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.by_path = dict(by_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer_too_large(send, limit)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside whatever reads the body; the app's HTTPException
                    # handler answers it as the 413 every other error looks like.
                    raise _too_large(limit)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _answer_too_large(send: Send, limit: int) -> None:
    """The 413 in the shape of :class:`stockwire.runtime.http.problems.ErrorOut`, sent
    before the app (and its error handlers) ever sees the request."""
    error = _too_large(limit)
    body = json.dumps(
        {
            "error": "request_entity_too_large",
            "detail": error.detail,
            "problems": [{"field": "body", "reason": "too large"}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": TOO_LARGE,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
