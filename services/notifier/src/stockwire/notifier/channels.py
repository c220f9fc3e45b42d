"""Where messages go: email over our own SMTP client, every chat service through Apprise.

A channel names its target as a literal Apprise URL, or as a reference to one (an
environment variable or a file), so the secret in the URL (a webhook token, a bot key) can
stay out of the database. References are resolved at send time, never stored resolved,
and the API shows a channel only through :func:`masked`.

Secrets never reach a log line or an error: Apprise logs URLs at DEBUG (and urllib3 logs
request paths, where webhook tokens live), so both loggers get a filter that blanks every
part of every URL this process has sent to, and Apprise's own logger is held at WARNING.
Send errors are built from Apprise's warnings and our own words, passed through the same
redaction, and kept to one line.
"""

import asyncio
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum
from pathlib import Path
from threading import Lock
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib
import apprise
from pydantic import SecretStr

from stockwire.notifier.rendering import Format, Rendered, RenderRequest, render
from stockwire.runtime.domain_errors import Invalid
from stockwire.runtime.plain_text import clip


class ChannelType(StrEnum):
    EMAIL = "email"
    SLACK = "slack"
    MSTEAMS = "msteams"
    MATTERMOST = "mattermost"
    DISCORD = "discord"
    TELEGRAM = "telegram"
    JSON = "json"


# The Apprise schemes each chat type accepts. Microsoft Teams is Apprise's Power Automate
# Workflows plugin (Teams' incoming webhooks became workflows; Apprise 2 has no msteams://).
# Native URLs (https://hooks.slack.com/..., https://discord.com/api/webhooks/...) count:
# Apprise turns them into the same plugin, and the check is on the plugin.
APPRISE_SCHEMES: dict[ChannelType, frozenset[str]] = {
    ChannelType.SLACK: frozenset({"slack"}),
    ChannelType.MSTEAMS: frozenset({"workflow", "workflows"}),
    ChannelType.MATTERMOST: frozenset({"mmost", "mmosts"}),
    ChannelType.DISCORD: frozenset({"discord"}),
    ChannelType.TELEGRAM: frozenset({"tgram"}),
    ChannelType.JSON: frozenset({"json", "jsons"}),
}

# The format each channel type's body is written in; email gets text and HTML.
BODY_FORMAT: dict[ChannelType, Format] = {
    ChannelType.SLACK: "markdown",
    ChannelType.MSTEAMS: "markdown",
    ChannelType.MATTERMOST: "markdown",
    ChannelType.DISCORD: "markdown",
    ChannelType.TELEGRAM: "markdown",
    ChannelType.JSON: "text",
}

# Characters a message body may have on each service (Apprise's body_maxlen, less room
# for the title that Mattermost and Telegram prepend to the body, and for Telegram's
# markdown-to-HTML growth). Beyond it, Apprise would split or cut the message anywhere.
BODY_LIMITS: dict[ChannelType, int] = {
    ChannelType.EMAIL: 200_000,
    ChannelType.SLACK: 35_000,
    ChannelType.MSTEAMS: 1_000,
    ChannelType.MATTERMOST: 3_700,
    ChannelType.DISCORD: 2_000,
    ChannelType.TELEGRAM: 3_000,
    ChannelType.JSON: 16_000,
}

ERROR_LIMIT = 300
DEFAULT_TIMEOUT_S = 10.0

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+.-]{1,15}://\S+", re.IGNORECASE)
_NOTIFY_TYPE = {
    "info": apprise.NotifyType.INFO,
    "success": apprise.NotifyType.SUCCESS,
    "warning": apprise.NotifyType.WARNING,
    "failure": apprise.NotifyType.FAILURE,
}


@dataclass(frozen=True)
class ChannelSpec:
    """A named destination. Chat types give exactly one of ``url`` (an Apprise URL),
    ``url_env`` (the environment variable holding it) or ``url_file`` (the file holding
    it); email gives none (the SMTP server is the service's) and may give default
    ``recipients``."""

    name: str
    type: ChannelType
    url: str | None = None
    url_env: str | None = None
    url_file: str | None = None
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class SmtpConfig:
    """The service's SMTP server. ``use_tls`` is TLS from the first byte (port 465);
    ``starttls`` upgrades a plain connection (port 587)."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    use_tls: bool = False
    timeout: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class SendResult:
    """One attempt's outcome. ``error`` is one line that never holds a secret;
    ``message_ref`` is what a follow-up threads to (an email's Message-ID)."""

    ok: bool
    error: str | None
    latency_ms: float
    message_ref: str | None = None


class ChannelError(Exception):
    """A send that cannot be attempted (a missing secret, a bad URL): reported as a
    failed attempt, never raised out of :func:`send`."""


class _Redactor(logging.Filter):
    """Blanks the secret parts of every URL this process sends to, in any log record.

    Apprise can still be logging from a worker thread after a send timed out, so secrets
    stay known (the most recent ``capacity`` of them) rather than for one send only.
    """

    def __init__(self, capacity: int = 1024) -> None:
        super().__init__()
        self._capacity = capacity
        self._secrets: OrderedDict[str, None] = OrderedDict()
        self._lock = Lock()

    def remember(self, pieces: Iterable[str]) -> None:
        with self._lock:
            for piece in pieces:
                self._secrets[piece] = None
                self._secrets.move_to_end(piece)
            while len(self._secrets) > self._capacity:
                self._secrets.popitem(last=False)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return _URL_IN_TEXT.sub(lambda m: f"{m.group(0).split('://', 1)[0]}://***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


_REDACTOR = _Redactor()


def _install_log_guard() -> None:
    """Apprise logs request URLs at DEBUG and urllib3 logs request paths: keep Apprise at
    WARNING and redact both, whatever the application's log level."""
    apprise_logger = logging.getLogger("apprise")
    apprise_logger.setLevel(logging.WARNING)
    for name in ("apprise", "urllib3.connectionpool"):
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


_install_log_guard()


def _secret_pieces(url: str) -> set[str]:
    """Every part of ``url`` that may be a secret: user, password, host (slack:// and
    tgram:// put tokens there), each path segment and query value; pieces under four
    characters are too common to blank usefully."""
    try:
        parts = urlsplit(url)
        userinfo, _, _ = parts.netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        host = parts.hostname or ""
        values = [pair[1] for pair in parse_qsl(parts.query, keep_blank_values=True)]
    except ValueError:
        return {url} if url else set()
    candidates = {user, password, host, *parts.path.split("/"), *values}
    pieces = {unquote(p) for p in candidates} | candidates
    return {p for p in pieces if len(p) >= 4} | {url}


def _path_pieces(url: str) -> set[str]:
    """The secret-bearing parts Apprise's privacy URL may leave visible (it masks what it
    knows as tokens; a generic json:// webhook's path is not one)."""
    return _secret_pieces(url) - {urlsplit(url).hostname or "", url}


def one_line(text: str, limit: int = ERROR_LIMIT) -> str:
    """``text`` as a single redacted line of at most ``limit`` characters."""
    line = _REDACTOR.redact(" ".join(text.split()))
    return clip(line, limit)


def _schemes_of(plugin: apprise.NotifyBase) -> set[str]:
    schemes: set[str] = set()
    for attr in ("protocol", "secure_protocol"):
        value = getattr(plugin, attr, None)
        if isinstance(value, str):
            schemes.add(value)
        elif isinstance(value, tuple | list):
            schemes.update(v for v in value if isinstance(v, str))
    return schemes


def _plugin(kind: ChannelType, url: str, field: str) -> apprise.NotifyBase:
    """The Apprise plugin for ``url``, checked against ``kind``; Invalid (without the URL
    in the reason) otherwise."""
    allowed = APPRISE_SCHEMES[kind]
    if not url.strip():
        raise Invalid(field, "is empty")
    _REDACTOR.remember(_secret_pieces(url))
    plugin = apprise.Apprise.instantiate(url, asset=_asset())
    if plugin is None:
        raise Invalid(
            field,
            f"is not a URL Apprise can use for {kind.value}; "
            f"expected {' or '.join(f'{s}://...' for s in sorted(allowed))}",
        )
    if not _schemes_of(plugin) & allowed:
        raise Invalid(
            field,
            f"is a {plugin.service_name} URL, but the channel type is {kind.value}; "
            f"expected {' or '.join(f'{s}://...' for s in sorted(allowed))}",
        )
    return plugin


def _asset() -> apprise.AppriseAsset:
    """Apprise settings for every send: our name on chat posts, secure logging, no
    persistent state on disk."""
    return apprise.AppriseAsset(
        app_id="Stockwire",
        app_desc="Stockwire notifier",
        secure_logging=True,
        storage_mode="memory",
    )


CHANNEL_ENV_PREFIX = "STOCKWIRE_CHANNEL_"
"""The prefix of the environment variables a channel's ``url_env`` may name."""


@dataclass(frozen=True)
class References:
    """Where a channel's URL may be read from besides the channel itself: only environment
    variables named with ``env_prefix`` and files inside ``files_dir``. Anyone allowed to
    manage channels could otherwise have the notifier read any variable or file it can
    (the database URL, a key) and send to whatever it holds."""

    env_prefix: str
    files_dir: Path

    def allows_env(self, name: str) -> bool:
        return name.startswith(self.env_prefix)

    def allows_file(self, path: Path) -> bool:
        """Inside ``files_dir`` once ``..`` and symbolic links are followed."""
        return path.resolve().is_relative_to(self.files_dir.resolve())


def validate_target(spec: ChannelSpec, references: References) -> None:
    """Raise Invalid unless ``spec`` names a usable target for its type.

    References are checked for form and place only: the variable or file is read when
    sending, so a secret can be rotated, or provided after the channel is created.
    """
    given = [
        (field, value)
        for field, value in (
            ("url", spec.url),
            ("url_env", spec.url_env),
            ("url_file", spec.url_file),
        )
        if value is not None
    ]
    if spec.type is ChannelType.EMAIL:
        if given:
            raise Invalid(given[0][0], "an email channel sends through the service's SMTP server")
        for index, address in enumerate(spec.recipients):
            email_address(address, f"recipients[{index}]")
        return
    if len(given) != 1:
        raise Invalid("url", "give exactly one of url, url_env or url_file")
    field, value = given[0]
    if field == "url":
        _plugin(spec.type, value, "url")
    elif field == "url_env" and not _ENV_NAME.match(value):
        raise Invalid("url_env", "is not an environment variable name")
    elif field == "url_env" and not references.allows_env(value):
        raise Invalid("url_env", f"must start with {references.env_prefix}")
    elif field == "url_file" and not Path(value).is_absolute():
        raise Invalid("url_file", "must be an absolute path")
    elif field == "url_file" and not references.allows_file(Path(value)):
        raise Invalid("url_file", f"must be a file in {references.files_dir}")


def email_address(address: str, field: str) -> Address:
    """``address`` parsed, or Invalid: a mailbox at a domain with a dot."""
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, HeaderParseError) as error:
        raise Invalid(field, "is not an email address") from error
    if not parsed.username or not parsed.domain or "." not in parsed.domain:
        raise Invalid(field, "is not an email address")
    return parsed


def masked(spec: ChannelSpec) -> str:
    """The target as the API shows it: Apprise's privacy URL for a literal URL (with any
    path it leaves readable blanked too), ``env:NAME`` or ``file:PATH`` for references.
    Never the resolved value."""
    if spec.url_env is not None:
        return f"env:{spec.url_env}"
    if spec.url_file is not None:
        return f"file:{spec.url_file}"
    if spec.url is None:
        return "smtp:" + ",".join(spec.recipients)
    try:
        plugin = _plugin(spec.type, spec.url, "url")
    except Invalid:
        scheme = spec.url.split("://", 1)[0] if "://" in spec.url else ""
        return f"{scheme[:16]}://***" if scheme.isalnum() else "***"
    holder = apprise.Apprise(asset=_asset())
    holder.add(plugin)
    (shown,) = holder.urls(privacy=True)
    for piece in sorted(_path_pieces(spec.url), key=len, reverse=True):
        shown = shown.replace(piece, f"{piece[0]}...{piece[-1]}")
    return shown


def resolve_url(spec: ChannelSpec, references: References) -> str:
    """The channel's Apprise URL, read from the environment or file now.

    Raises ChannelError (one clear line, never the value) when the reference is missing,
    empty, unreadable or outside what ``references`` allows.
    """
    if spec.url_env is not None and not references.allows_env(spec.url_env):
        raise ChannelError(f"environment variable {spec.url_env} is not one for channels")
    if spec.url_file is not None and not references.allows_file(Path(spec.url_file)):
        raise ChannelError(f"{spec.url_file} is not in {references.files_dir}")
    if spec.url is not None:
        url = spec.url
    elif spec.url_env is not None:
        value = os.environ.get(spec.url_env)
        if value is None or not value.strip():
            raise ChannelError(f"environment variable {spec.url_env} is not set or empty")
        url = value.strip()
    elif spec.url_file is not None:
        try:
            url = Path(spec.url_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise ChannelError(f"cannot read {spec.url_file}: {reason}") from None
        if not url:
            raise ChannelError(f"{spec.url_file} is empty")
    else:
        raise ChannelError(f"channel {spec.name} has no URL")
    _REDACTOR.remember(_secret_pieces(url))
    return url


def render_for(channel_type: ChannelType, request: RenderRequest) -> Rendered:
    """``request`` rendered in the formats ``channel_type`` sends, under its size limit."""
    formats: tuple[Format, ...] = (
        ("text", "html") if channel_type is ChannelType.EMAIL else (BODY_FORMAT[channel_type],)
    )
    return render(request, formats, BODY_LIMITS[channel_type])


async def send(
    spec: ChannelSpec,
    rendered: Rendered,
    recipients: Sequence[str],
    smtp: SmtpConfig,
    thread_ref: str | None = None,
    *,
    references: References,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> SendResult:
    """Deliver ``rendered`` once on ``spec``; never raises for a failed delivery.

    ``recipients`` are email addresses (the channel's defaults are used when empty);
    chat channels post to the channel their URL names. ``thread_ref`` is the
    ``message_ref`` of the message a follow-up belongs to (email threads on it).
    """
    started = time.perf_counter()
    ref: str | None = None
    try:
        if spec.type is ChannelType.EMAIL:
            ref = await _send_email(spec, rendered, recipients or spec.recipients, smtp, thread_ref)
        else:
            await _send_apprise(spec, rendered, timeout_s, references)
    except ChannelError as error:
        return _result(started, error=one_line(str(error)))
    except TimeoutError:
        return _result(started, error=f"timed out after {timeout_s:g} s")
    except Exception as error:
        # A delivery's failure is a logged attempt to retry, whatever raised it.
        return _result(started, error=one_line(f"{type(error).__name__}: {error}"))
    return _result(started, message_ref=ref)


def _result(started: float, error: str | None = None, message_ref: str | None = None) -> SendResult:
    latency_ms = (time.perf_counter() - started) * 1000
    return SendResult(error is None, error, round(latency_ms, 3), message_ref)


async def _send_apprise(
    spec: ChannelSpec, rendered: Rendered, timeout_s: float, references: References
) -> None:
    url = resolve_url(spec, references)
    try:
        plugin = _plugin(spec.type, url, "url")
    except Invalid as error:
        raise ChannelError(f"the URL of channel {spec.name} {error.reason}") from None
    fmt = BODY_FORMAT[spec.type]
    body = rendered.markdown if fmt == "markdown" else rendered.text
    if body is None:
        raise ChannelError(f"nothing rendered in {fmt} for a {spec.type.value} channel")
    notifier = apprise.Apprise(asset=_asset())
    notifier.add(plugin)
    body_format = apprise.NotifyFormat.MARKDOWN if fmt == "markdown" else apprise.NotifyFormat.TEXT
    result = await asyncio.wait_for(
        notifier.async_notify(
            body=body,
            title=rendered.title,
            notify_type=_NOTIFY_TYPE[rendered.tone],
            body_format=body_format,
            timeout=timeout_s,
        ),
        timeout=timeout_s + 1,
    )
    if result.status == apprise.AppriseResultStatus.SUCCESS:
        return
    if result.status == apprise.AppriseResultStatus.TIMEOUT:
        raise TimeoutError
    warnings = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
    detail = warnings[-1] if warnings else f"Apprise status {result.status.name}"
    raise ChannelError(f"{plugin.service_name}: {detail}")


async def _send_email(
    spec: ChannelSpec,
    rendered: Rendered,
    recipients: Sequence[str],
    smtp: SmtpConfig,
    thread_ref: str | None,
) -> str:
    if not recipients:
        raise ChannelError(f"email channel {spec.name} has no recipients")
    try:
        addresses = [email_address(a, f"recipients[{i}]") for i, a in enumerate(recipients)]
        sender = email_address(smtp.sender, "sender")
    except Invalid as error:
        raise ChannelError(f"{error.field} {error.reason}") from None
    message = EmailMessage()
    message["Subject"] = rendered.title
    message["From"] = sender
    message["To"] = addresses
    message["Date"] = formatdate(localtime=False)
    message_id = make_msgid(domain=sender.domain)
    message["Message-ID"] = message_id
    if thread_ref:
        message["In-Reply-To"] = thread_ref
        message["References"] = thread_ref
    message.set_content(rendered.text)
    if rendered.html is not None:
        message.add_alternative(rendered.html, subtype="html")
    password = smtp.password.get_secret_value() if smtp.password else None
    if password:
        _REDACTOR.remember([password])
    await aiosmtplib.send(
        message,
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=password,
        start_tls=smtp.starttls,
        use_tls=smtp.use_tls,
        timeout=smtp.timeout,
    )
    return message_id
