"""Reading an item import file (CSV) into commands, noting every unreadable row.

The file is UTF-8 CSV with a header row naming the fields of ``POST /items``; substitutes
are separated by ``|``; an empty cell means "not given" (the default applies). Line
numbers count physical lines from 1 (the header), so a reported line is the one an editor
shows.
"""

import csv
import io

from pydantic import ValidationError

from stockwire.catalog.domain.commands import ImportItems, ImportRow
from stockwire.catalog.domain.model import IMPORT_PROBLEMS_MAX, import_rejected
from stockwire.catalog.schemas import ItemIn
from stockwire.runtime.domain_errors import Invalid, Problem

ITEM_COLUMNS = tuple(ItemIn.model_fields)
REQUIRED_COLUMNS = tuple(name for name, f in ItemIn.model_fields.items() if f.is_required())
SUBSTITUTE_SEPARATOR = "|"
HEADER_LINE = 1


def _reject(line: int, field: str, reason: str) -> Invalid:
    return import_rejected([Problem(field, reason, line)])


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = body[: error.start].count(b"\n") + 1
        raise _reject(line, "body", f"not UTF-8 text (byte {error.start})") from error


def _header(fields: list[str]) -> list[str]:
    header = [name.strip() for name in fields]
    problems = []
    unknown = [name for name in header if name not in ITEM_COLUMNS]
    if unknown:
        problems.append(
            Problem(
                "header",
                f"unknown column(s): {', '.join(map(repr, unknown))}; "
                f"columns are: {', '.join(ITEM_COLUMNS)}",
                HEADER_LINE,
            )
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.append(Problem("header", f"missing column(s): {', '.join(missing)}", HEADER_LINE))
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(
            Problem("header", f"repeated column(s): {', '.join(repeated)}", HEADER_LINE)
        )
    if problems:
        raise import_rejected(problems)
    return header


def _row(line: int, header: list[str], cells: list[str]) -> ImportRow | list[Problem]:
    if len(cells) != len(header):
        reason = f"has {len(cells)} cells; the header has {len(header)} columns"
        return [Problem("row", reason, line)]
    data: dict[str, object] = {}
    for name, cell in zip(header, cells, strict=True):
        value = cell.strip()
        if not value:
            continue
        if name == "substitutes":
            data[name] = [s.strip() for s in value.split(SUBSTITUTE_SEPARATOR) if s.strip()]
        else:
            data[name] = value
    try:
        return ImportRow(line, ItemIn.model_validate(data).command())
    except ValidationError as error:
        return [
            Problem(".".join(str(part) for part in e["loc"]) or "row", e["msg"], line)
            for e in error.errors()
        ]


def read_items(body: bytes) -> ImportItems:
    """Parse an import file. A file that cannot be read at all raises :class:`Invalid`; bad
    rows are returned as ``unreadable`` so the handler can report them with its own findings
    (reading stops at :data:`IMPORT_PROBLEMS_MAX` of them).
    """
    text = _decode(body)
    if not text.strip():
        raise _reject(HEADER_LINE, "header", "the file is empty; expected a header row")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[ImportRow] = []
    problems: list[Problem] = []
    try:
        header = _header(next(reader))
        line = reader.line_num + 1
        for cells in reader:
            if len(problems) >= IMPORT_PROBLEMS_MAX:
                break
            if cells:
                parsed = _row(line, header, cells)
                if isinstance(parsed, ImportRow):
                    rows.append(parsed)
                else:
                    problems.extend(parsed)
            line = reader.line_num + 1
    except csv.Error as error:
        raise _reject(reader.line_num, "body", f"not valid CSV: {error}") from error
    if not rows and not problems:
        raise _reject(HEADER_LINE + 1, "body", "the file has a header row but no data rows")
    return ImportItems(rows=tuple(rows), unreadable=tuple(problems))
