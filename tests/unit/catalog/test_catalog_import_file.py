"""Reading item import files (CSV): shapes, line numbers and unreadable files, no database."""

from decimal import Decimal

import pytest

from stockwire.catalog.imports import read_items
from stockwire.runtime.domain_errors import Invalid

HEADER = "sku,name,manufacturer,category,tracking_mode,unit_cost,currency,substitutes\n"


def rejected(body: bytes) -> list[tuple[int, str, str]]:
    with pytest.raises(Invalid) as error:
        read_items(body)
    return [(p.line, p.field, p.reason) for p in error.value.problems]


def test_rows_become_commands_with_their_line_numbers():
    body = (
        HEADER
        + "ONT-1,GPON ONT,Nokia,ont,serial,54.90,EUR,ONT-2|ONT-3\n"
        + "\n"
        + "ONT-2,GPON ONT,Nokia,ont,serial,50,EUR,\n"
    ).encode()

    parsed = read_items(body)

    assert [row.line for row in parsed.rows] == [2, 4]
    first = parsed.rows[0].item
    assert first.unit_cost == Decimal("54.90")
    assert first.substitutes == ("ONT-2", "ONT-3")
    assert parsed.rows[1].item.substitutes == ()
    assert parsed.unreadable == ()


def test_a_quoted_cell_spanning_lines_keeps_later_line_numbers_true():
    body = (
        HEADER
        + 'ONT-1,GPON ONT,Nokia,ont,serial,1,EUR,"ONT-8|\nONT-9"\n'
        + "ONT-2,GPON,Nokia,ont,serial,-,EUR,\n"
    ).encode()

    parsed = read_items(body)

    assert [row.line for row in parsed.rows] == [2]
    assert [(p.line, p.field) for p in parsed.unreadable] == [(4, "unit_cost")]


def test_a_byte_order_mark_is_ignored():
    parsed = read_items(b"\xef\xbb\xbf" + (HEADER + "ONT-1,ONT,Nokia,ont,serial,1,EUR,\n").encode())

    assert parsed.rows[0].item.sku == "ONT-1"


def test_unreadable_rows_are_collected_not_raised():
    body = (
        HEADER
        + "ONT-1,GPON,Nokia,ont,serial,abc,EUR,\n"
        + "ONT-2,GPON,Nokia,ont\n"
        + "ONT-3,GPON,Nokia,toaster,serial,1,EUR,\n"
    ).encode()

    problems = [(p.line, p.field) for p in read_items(body).unreadable]

    assert problems == [(2, "unit_cost"), (3, "row"), (4, "category")]


def test_an_empty_file_is_rejected_clearly():
    assert rejected(b"") == [(1, "header", "the file is empty; expected a header row")]
    assert rejected(b"  \n\n") == [(1, "header", "the file is empty; expected a header row")]


def test_a_header_without_rows_is_rejected():
    assert rejected(HEADER.encode()) == [(2, "body", "the file has a header row but no data rows")]


def test_unknown_and_missing_columns_are_named():
    [(line, field, unknown), (_, _, missing)] = rejected(b"sku,colour\nONT-1,red\n")

    assert (line, field) == (1, "header")
    assert "'colour'" in unknown
    assert "missing column(s): name, manufacturer" in missing


def test_a_file_that_is_not_utf8_is_rejected():
    [(line, field, reason)] = rejected(HEADER.encode() + b"ONT-1,\xff\xfe,Nokia\n")

    assert (line, field) == (2, "body")
    assert "UTF-8" in reason


def test_garbled_csv_is_rejected_with_its_line():
    [(line, field, reason)] = rejected((HEADER + 'ONT-1,"unterminated,x\n').encode())

    assert field == "body"
    assert "not valid CSV" in reason
    assert line >= 2


def test_a_file_without_a_warranty_column_leaves_the_warranty_unknown():
    parsed = read_items((HEADER + "ONT-1,ONT,Nokia,ont,serial,1,EUR,\n").encode())

    assert parsed.rows[0].item.warranty_months is None


def test_a_warranty_column_is_read_as_whole_months_and_an_empty_cell_as_unknown():
    body = (
        "sku,name,manufacturer,category,tracking_mode,unit_cost,currency,warranty_months\n"
        + "ONT-1,ONT,Nokia,ont,serial,1,EUR, 36 \n"
        + "ONT-2,ONT,Nokia,ont,serial,1,EUR,\n"
    ).encode()

    parsed = read_items(body)

    assert [row.item.warranty_months for row in parsed.rows] == [36, None]
    assert parsed.unreadable == ()


@pytest.mark.parametrize("cell", ["601", "-1", "3 years", "12.5"])
def test_a_bad_warranty_cell_is_an_unreadable_row_naming_the_column(cell: str):
    body = (
        "sku,name,manufacturer,category,tracking_mode,unit_cost,currency,warranty_months\n"
        + f"ONT-1,ONT,Nokia,ont,serial,1,EUR,{cell}\n"
    ).encode()

    problems = [(p.line, p.field) for p in read_items(body).unreadable]

    assert problems == [(2, "warranty_months")]
