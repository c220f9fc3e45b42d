"""Turning alerts into messages people read: Jinja2 templates per alert kind and format.

The domain decides *what* goes out (a `Message` with a purpose and its alerts); this module
decides how it reads. It takes its own small input types, :class:`RenderAlert` and
:class:`RenderRequest`, so the templates never depend on the engine's internals.

Templates live in ``templates/``:

- ``<kind>/<format>.j2``: the body of one alert of that kind; ``generic/<format>.j2``
  serves any kind without its own, so a new producer's alerts render the day they exist;
- ``_purpose/<purpose>/<format>.j2``: the message around the alerts (a single alert, a
  group, a digest, a resolution, ...), and ``_purpose/<purpose>/title.j2`` its title;
- ``_layout/<format>.j2`` and ``_macros/<format>.j2``: what every message shares (the ack
  link, one line per alert in a list).

Formats: ``text`` and ``html`` (email), ``markdown`` (chat). Only HTML is autoescaped;
markdown escapes alert text with the ``md`` filter, so a SKU like ``CPE_*_X`` cannot turn
half a message bold. Lists are capped ("and N more") and every body is fitted under the
channel's size limit, while counts always cover every alert.
"""

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from stockwire.runtime.plain_text import clip

Purpose = Literal[
    "alert", "group", "digest", "resolved", "escalation", "overflow", "test", "dead_letter"
]
Format = Literal["text", "html", "markdown"]
Tone = Literal["info", "success", "warning", "failure"]

FORMATS: tuple[Format, ...] = ("text", "html", "markdown")
PURPOSES: tuple[Purpose, ...] = (
    "alert",
    "group",
    "digest",
    "resolved",
    "escalation",
    "overflow",
    "test",
    "dead_letter",
)

# Alerts listed in full in a group, digest or overflow message; the rest are counted.
LIST_CAP = 25
TITLE_LIMIT = 250
_TRUNCATED = "… (message shortened)"

_TEMPLATES = Path(__file__).parent / "templates"
# The contract's pattern for a kind; anything else (a path, say) renders as generic.
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# CommonMark's escapable punctuation that can start or end formatting inline.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~&])")
_BLANK_RUNS = re.compile(r"\n\s*\n(\s*\n)+")
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class RenderAlert:
    """One alert as the templates see it (the lead maps domain alerts onto this)."""

    dedup_key: str
    kind: str
    severity: str
    summary: str
    raised_at: datetime
    location: str | None = None
    region: str | None = None
    sku: str | None = None
    category: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    figures: Mapping[str, Decimal] = field(default_factory=dict)
    link: str | None = None


@dataclass(frozen=True)
class RenderRequest:
    """What to say: the purpose of the message and the alerts it is about.

    ``note`` carries free text the purpose needs: how many alerts an overflow held back,
    which channel a dead letter failed on, the escalation step.
    """

    purpose: Purpose
    alerts: Sequence[RenderAlert]
    ack_url: str | None = None
    rule_name: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Rendered:
    """A message ready for a channel: a title and the body in each format it needs.

    ``tone`` lets chat services colour the message (Apprise's notify type).
    """

    title: str
    text: str
    html: str | None = None
    markdown: str | None = None
    tone: Tone = "info"


def escape_markdown(value: object) -> str:
    """``value`` as literal text inside markdown: specials backslash-escaped (CommonMark,
    which Apprise turns into each chat service's own escaping) and newlines flattened so
    a summary cannot break the message's layout."""
    flat = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def markdown_url(url: str) -> str:
    """``url`` safe inside a markdown link target: spaces, parentheses and angle brackets
    percent-encoded, everything already valid left as it is."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~")


def format_figure(value: Decimal | int | float) -> str:
    """A number as people write it: no exponent, no trailing zeros (``1E+2`` -> ``100``)."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        return str(number)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def format_time(moment: datetime) -> str:
    """A timestamp in UTC, to the second, readable in every channel."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=lambda name: name is not None and name.endswith("html.j2"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters["md"] = escape_markdown
    env.filters["mdurl"] = markdown_url
    env.filters["figure"] = format_figure
    env.filters["when"] = format_time
    env.filters["one_line"] = _one_line
    return env


_ENV = _environment()


def _alert_templates(kind: str, fmt: Format) -> list[str]:
    """The kind's own template first, then the generic one (Jinja picks the first that
    exists)."""
    own = [f"{kind}/{fmt}.j2"] if _KIND.match(kind) and kind != "generic" else []
    return [*own, f"generic/{fmt}.j2"]


def _tone(request: RenderRequest) -> Tone:
    if request.purpose == "resolved":
        return "success"
    if request.purpose == "dead_letter":
        return "failure"
    severities = {alert.severity for alert in request.alerts}
    if "critical" in severities:
        return "failure"
    if "warning" in severities or request.purpose == "escalation":
        return "warning"
    return "info"


def _context(request: RenderRequest, fmt: Format, cap: int) -> dict[str, Any]:
    alerts = list(request.alerts)
    ordered = sorted(alerts, key=lambda a: (_SEVERITY_ORDER.get(a.severity, 3), a.raised_at))
    shown = ordered[:cap]
    kinds = Counter(alert.kind for alert in alerts)
    severities = Counter(alert.severity for alert in alerts)
    return {
        "purpose": request.purpose,
        "fmt": fmt,
        "alerts": alerts,
        "first": alerts[0] if alerts else None,
        "shown": shown,
        "total": len(alerts),
        "more": len(alerts) - len(shown),
        "kinds": sorted(kinds.items(), key=lambda item: (-item[1], item[0])),
        "severities": sorted(severities.items(), key=lambda i: _SEVERITY_ORDER.get(i[0], 3)),
        "ack_url": request.ack_url,
        "rule_name": request.rule_name,
        "note": request.note,
        "alert_templates": _alert_templates(alerts[0].kind, fmt) if alerts else [],
    }


def render_title(request: RenderRequest) -> str:
    """The message's one-line title (an email subject, a chat heading), at most
    ``TITLE_LIMIT`` characters."""
    template = _ENV.get_template(f"_purpose/{request.purpose}/title.j2")
    title = _one_line(template.render(_context(request, "text", LIST_CAP)))
    return clip(title, TITLE_LIMIT)


def render_body(request: RenderRequest, fmt: Format, limit: int | None = None) -> str:
    """The body in ``fmt``, at most ``limit`` characters.

    Too long, the alert lists are shortened first (the "and N more" count grows, every
    alert is still counted); only if a single alert is still too long is the text cut at
    a line boundary, so no markdown construct is cut in half.
    """
    template = _ENV.get_template(f"_purpose/{request.purpose}/{fmt}.j2")
    caps = [LIST_CAP, 10, 5, 3, 1, 0]
    body = ""
    for cap in caps:
        body = _BLANK_RUNS.sub("\n\n", template.render(_context(request, fmt, cap))).strip() + "\n"
        if limit is None or len(body) <= limit:
            return body
    assert limit is not None
    return _cut(body, limit)


def _cut(body: str, limit: int) -> str:
    room = max(limit - len(_TRUNCATED) - 1, 0)
    head = body[:room]
    line_end = head.rfind("\n")
    if line_end > 0:
        head = head[: line_end + 1]
    elif room:
        head += "\n"
    return (head + _TRUNCATED)[:limit]


def render(
    request: RenderRequest, formats: Iterable[Format], body_limit: int | None = None
) -> Rendered:
    """``request`` as a title plus each of ``formats`` (text is always rendered: email's
    plain part and the fallback of every channel)."""
    wanted = set(formats)
    if not request.alerts and request.purpose != "test":
        raise ValueError(f"a {request.purpose} message needs at least one alert")
    return Rendered(
        title=render_title(request),
        text=render_body(request, "text", body_limit),
        html=render_body(request, "html", body_limit) if "html" in wanted else None,
        markdown=render_body(request, "markdown", body_limit) if "markdown" in wanted else None,
        tone=_tone(request),
    )
