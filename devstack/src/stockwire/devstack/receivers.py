"""Local stand-ins for the chat services and mail server the notifier talks to.

Real servers on 127.0.0.1 (a free port each), so tests, the end-to-end test and the
benchmark exercise the notifier's real HTTP and SMTP clients; each records what arrived
and can be told to fail, for retry and dead-letter tests.

- :class:`ChatReceiver`: an HTTP server taking what Apprise posts for ``mmost://``
  (Mattermost-compatible ``{"text": ..., "username": ...}``) and ``json://`` (generic
  JSON), or anything else, and recording every request.
- :class:`SmtpSink`: an SMTP server (aiosmtpd) recording every message, parsed.

aiosmtpd is a development dependency of the workspace, not of devstack: it is imported
when an SmtpSink starts, so ``make up`` never needs it.

Both run on the caller's event loop and are async context managers::

    async with ChatReceiver() as chat, SmtpSink() as mail:
        url = chat.mattermost_url("token")
        ...
        [request] = await chat.wait_for(1)
"""

import asyncio
import contextlib
import email.policy
import json
import time
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

if TYPE_CHECKING:
    from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
_T = TypeVar("_T")
# Bodies beyond this are refused (413): a receiver for tests, not a sink for floods.
MAX_BODY = 10 * 1024 * 1024
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}


@dataclass(frozen=True)
class ReceivedRequest:
    """One HTTP request as it arrived, and the status it was answered with."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    status: int

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None when it is not JSON)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def text(self) -> str | None:
        """The message text: Mattermost's ``text`` or generic JSON's ``message``."""
        body = self.json
        if not isinstance(body, dict):
            return None
        value = body.get("text", body.get("message"))
        return value if isinstance(value, str) else None


class _BadRequest(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Countdown:
    """Failures still to inject, and what every waiter waits on."""

    def __init__(self) -> None:
        self.failures: list[int] = []
        self.changed = asyncio.Condition()

    def next_status(self, ok: int) -> int:
        return self.failures.pop(0) if self.failures else ok


class ChatReceiver:
    """An HTTP server on 127.0.0.1 recording every request (method, path, headers, body,
    time), answering 200 ``ok``, or a chosen status for the next N requests.

    ``delay_s`` holds every answer back that long (for timeout tests).
    """

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.requests: list[ReceivedRequest] = []
        self._state = _Countdown()
        self._server: asyncio.Server | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the receiver is not running")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def mattermost_url(self, token: str) -> str:
        """The Apprise URL posting to this receiver as a Mattermost incoming webhook
        (plain http: ``mmost://``; Apprise posts to ``/hooks/<token>``)."""
        return f"mmost://{HOST}:{self.port}/{token}"

    def json_url(self, path: str = "hook") -> str:
        """The Apprise generic JSON webhook URL posting to ``/<path>`` here."""
        return f"json://{HOST}:{self.port}/{path.lstrip('/')}"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests with ``status`` (they are still recorded)."""
        self._state.failures.extend([status] * count)

    @property
    def delivered(self) -> list[ReceivedRequest]:
        """The requests answered with success."""
        return [r for r in self.requests if 200 <= r.status < 300]

    async def wait_for(self, count: int, within_s: float = 5.0) -> list[ReceivedRequest]:
        """The first ``count`` requests, once that many arrived; TimeoutError naming how
        many did otherwise."""
        return await _wait(self._state.changed, self.requests, count, within_s, "requests")

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One request per connection, answered with ``Connection: close``."""
        try:
            status = 200
            try:
                method, path, headers, body = await _read_request(reader)
            except _BadRequest as bad:
                status = bad.status
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            else:
                status = self._state.next_status(200)
                await self._record(
                    ReceivedRequest(method, path, headers, body, time.time(), status)
                )
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            payload = b"ok" if status < 300 else b"failing on purpose"
            reason = _REASONS.get(status, "Error")
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _record(self, request: ReceivedRequest) -> None:
        async with self._state.changed:
            self.requests.append(request)
            self._state.changed.notify_all()


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3:
        raise _BadRequest(400)
    method, path, _ = parts
    headers: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest(400)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return method, path, headers, await _read_chunked(reader)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise _BadRequest(400) from None
    if length < 0:
        raise _BadRequest(400)
    if length > MAX_BODY:
        raise _BadRequest(413)
    return method, path, headers, await reader.readexactly(length)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = (await reader.readuntil(b"\r\n")).split(b";")[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise _BadRequest(400) from None
        if size == 0:
            await reader.readuntil(b"\r\n")
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise _BadRequest(413)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def _wait(
    changed: asyncio.Condition, items: list[_T], count: int, within_s: float, what: str
) -> list[_T]:
    try:
        async with asyncio.timeout(within_s), changed:
            await changed.wait_for(lambda: len(items) >= count)
    except TimeoutError:
        raise TimeoutError(f"{len(items)} of {count} {what} arrived in {within_s:g} s") from None
    return items[:count]


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server took it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    received_at: float


class SmtpSink:
    """An SMTP server on 127.0.0.1 recording every message; ``fail_next`` makes it answer
    the next N messages with a temporary failure (451), so they are not recorded."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self._state = _Countdown()
        self._server: asyncio.Server | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the SMTP sink is not running")
        return self._port

    @property
    def host(self) -> str:
        return HOST

    def fail_next(self, count: int, code: int = 451) -> None:
        self._state.failures.extend([code] * count)

    async def wait_for(self, count: int, within_s: float = 5.0) -> list[ReceivedMail]:
        return await _wait(self._state.changed, self.messages, count, within_s, "messages")

    async def __aenter__(self) -> Self:
        from aiosmtpd.smtp import SMTP

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="stockwire-smtp-sink"), HOST, 0
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)
            self._server = None

    async def handle_DATA(self, server: "SMTP", session: "Session", envelope: "Envelope") -> str:
        """aiosmtpd's hook for a complete message."""
        code = self._state.next_status(250)
        if code != 250:
            return f"{code} 4.3.0 failing on purpose"
        content = envelope.content
        raw = content if isinstance(content, bytes) else (content or "").encode()
        message = message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            message=message,
            received_at=time.time(),
        )
        async with self._state.changed:
            self.messages.append(mail)
            self._state.changed.notify_all()
        return "250 Message accepted for delivery"
