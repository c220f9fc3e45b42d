"""What a command must say to be considered at all: each rule once, in the domain. A
request that breaks one gets the error back to answer (the HTTP API's 422); a command
that came from an event, with nobody to answer, is published as a rejection."""

import uuid
from decimal import Decimal

import pytest
from stock_world import ORIGIN, World, line, q

from stockwire.runtime.domain_errors import Invalid
from stockwire.stock.domain import well_formed
from stockwire.stock.domain.commands import (
    Adjust,
    AdjustmentReason,
    Command,
    IssueParts,
    Origin,
    ReceiptLine,
    ReceiveGoods,
    ReceiveTransfer,
    RecordCount,
    ShipTransfer,
)
from stockwire.stock.domain.well_formed import Malformed

FROM_A_SCAN = Origin("scanner:gun-7", source_event_id=uuid.uuid4())


@pytest.mark.parametrize(
    ("cmd", "field", "reason"),
    [
        pytest.param(
            ShipTransfer("T1", "A", "WH", "WH", q(1), ORIGIN),
            "to_location",
            "from_location and to_location must differ",
            id="transfer-to-itself",
        ),
        pytest.param(
            ShipTransfer("T1", "ONT", "WH", "POP", q(2), ORIGIN, serials=("S1", "S1")),
            "serials",
            "serials must not repeat",
            id="transfer-serial-twice",
        ),
        pytest.param(
            ReceiveTransfer("T1", q(2), ORIGIN, serials=()),
            "serials",
            "name as many serials as the quantity",
            id="transfer-receipt-naming-no-serial",
        ),
        pytest.param(
            ReceiveGoods(
                "WH", (ReceiptLine("A", q(1)), ReceiptLine("ONT", q(3), None, ("S1",))), ORIGIN
            ),
            "lines.1.serials",
            "name as many serials as the quantity",
            id="receipt-line-serials-short",
        ),
        pytest.param(
            IssueParts("WH", (line("ONT", 1, "S1", "S2"),), ORIGIN),
            "lines.0.serials",
            "name as many serials as the quantity",
            id="issue-line-serials-over",
        ),
        pytest.param(
            Adjust("A", "WH", q(0), AdjustmentReason.FOUND, ORIGIN),
            "quantity_delta",
            "must be non-zero, at most 1000000 either way",
            id="adjustment-by-zero",
        ),
        pytest.param(
            Adjust("A", "WH", q("-1000000.001"), AdjustmentReason.LOST, ORIGIN),
            "quantity_delta",
            "must be non-zero, at most 1000000 either way",
            id="adjustment-beyond-a-movement",
        ),
        pytest.param(
            Adjust("ONT", "WH", q(-2), AdjustmentReason.LOST, ORIGIN, serial="S1"),
            "quantity_delta",
            "a serial is adjusted by 1 or -1",
            id="serial-adjusted-by-two",
        ),
        pytest.param(
            RecordCount("C1", None, q(1), ORIGIN),
            "sku",
            "name a sku, a serial or both",
            id="count-line-naming-nothing",
        ),
        pytest.param(
            RecordCount("C1", "ONT", q("0.5"), ORIGIN, serial="S1", replace=True),
            "counted",
            "a serial is counted 0 or 1",
            id="serial-counted-by-half",
        ),
    ],
)
def test_a_command_that_breaks_a_rule_is_malformed_naming_the_field(
    cmd: Command, field: str, reason: str
):
    with pytest.raises(Malformed) as raised:
        well_formed.check(cmd)

    assert (raised.value.field, raised.value.reason) == (field, reason)


@pytest.mark.parametrize(
    "cmd",
    [
        ShipTransfer("T1", "ONT", "WH", "POP", q(2), ORIGIN, serials=("S1", "S2")),
        ReceiveTransfer("T1", q(0), ORIGIN, serials=()),
        Adjust("A", "WH", q(-1_000_000), AdjustmentReason.LOST, ORIGIN),
        Adjust("ONT", "WH", q(1), AdjustmentReason.FOUND, ORIGIN, serial="S1"),
        RecordCount("C1", None, q(0), ORIGIN, serial="S1", replace=True),
    ],
)
def test_a_command_at_the_edge_of_a_rule_is_well_formed(cmd: Command):
    well_formed.check(cmd)


def test_the_book_gives_a_request_its_malformed_command_back_changing_nothing():
    world = World()
    wh, pop = world.location("WH"), world.location("POP")
    world.item("A")
    world.stock("A", wh, 5)

    with pytest.raises(Invalid):
        world.one(ShipTransfer("T1", "A", wh, wh, q(1), ORIGIN))

    assert world.book.events == [] and world.level("A", pop).in_transit_in == 0


def test_a_serial_scanned_twice_for_a_count_is_rejected_as_an_invalid_quantity():
    world = World()
    wh = world.location("WH")
    world.item("ONT", "serial")
    world.stock("ONT", wh, 1, serial="S1")

    outcome = world.one(RecordCount("C1", "ONT", Decimal(2), FROM_A_SCAN, serial="S1"))

    assert outcome.rejection is not None
    assert outcome.rejection.reason == "invalid_quantity"
    assert outcome.rejection.message == "counted: a serial is counted 0 or 1"
    assert outcome.rejection.source_event_id == FROM_A_SCAN.source_event_id
    assert world.alert_kinds() == ["rejected_movement"]


def test_a_scan_naming_neither_sku_nor_serial_is_rejected_as_an_unknown_sku():
    world = World()
    world.location("WH")

    outcome = world.one(RecordCount("C1", None, Decimal(1), FROM_A_SCAN, location="WH"))

    assert outcome.rejection is not None and outcome.rejection.reason == "unknown_sku"
