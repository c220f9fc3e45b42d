"""Against the real database: after any sequence of movements, applied in batches of any
size, the ledger's legs summed equal the balances, the levels equal the balances summed,
and the balances as of a past moment are the legs recorded up to then."""

import contextlib
from datetime import UTC, datetime

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stock_refs import Site, assert_books_balance, item, ledger_and_balances, q, ref, seed, uow_for

from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.runtime.domain_errors import Conflict, Invalid, NotFound
from stockwire.stock import handlers
from stockwire.stock.domain.commands import (
    Adjust,
    CancelTransfer,
    CompleteJob,
    InstallPart,
    IssueParts,
    Line,
    Origin,
    ReceiptLine,
    ReceiveGoods,
    ReceiveTransfer,
    ReleaseReservation,
    Reserve,
    ReturnPart,
    ShipTransfer,
)
from stockwire.stock.domain.model import Policy
from stockwire.stock.tables import ledger

ORIGIN = Origin("property")
POLICY = Policy(allow_negative_kinds=frozenset({"technician_van"}))

steps = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "receive",
                "receive",
                "issue",
                "install",
                "return",
                "adjust",
                "ship",
                "arrive",
                "cancel",
                "reserve",
                "release",
                "complete",
            ]
        ),
        st.integers(0, 2),  # which SKU
        st.integers(0, 2),  # which location
        st.integers(1, 8),  # quantity
        st.integers(0, 3),  # which serial / lot / job / document
    ),
    min_size=1,
    max_size=40,
)


class Scenario:
    """Fresh SKUs and locations per example, so examples share the database."""

    def __init__(self) -> None:
        self.site = Site()
        self.items = [item("B"), item("L", "lot"), item("S", "serial")]
        self.places = [self.site.wh, self.site.van, self.site.pop]
        self.serials = [ref("SN") for _ in range(4)]
        self.jobs = [ref("JOB") for _ in range(2)]
        self.transfers: list[str] = []
        self.reservations: list[str] = []

    def line(self, sku_index: int, quantity: int, pick: int) -> Line:
        sku = self.items[sku_index].sku
        if sku_index == 2:
            return Line(sku, q(1), (self.serials[pick],))
        return Line(
            sku, q(quantity), (), f"LOT-{pick % 2}" if sku_index == 1 and pick < 2 else None
        )

    def command(self, step: tuple[str, int, int, int, int]):
        kind, sku_index, where_index, quantity, pick = step
        where = self.places[where_index]
        line = self.line(sku_index, quantity, pick)
        job = self.jobs[pick % 2]
        match kind:
            case "receive":
                return ReceiveGoods(
                    where,
                    (ReceiptLine(line.sku, line.quantity, None, line.serials, line.lot),),
                    ORIGIN,
                )
            case "issue":
                return IssueParts(where, (line,), ORIGIN, job_id=job)
            case "install":
                return InstallPart(where, self.site.customer, line, ORIGIN, job_id=job)
            case "return":
                condition = [ReturnCondition.GOOD, ReturnCondition.FAULTY][pick % 2]
                return ReturnPart(where, line, condition, ORIGIN, job_id=job)
            case "adjust":
                delta = line.quantity if pick % 2 else -line.quantity
                serial = line.serials[0] if line.serials else None
                return Adjust(line.sku, where, delta, "correction", ORIGIN, line.lot, serial)
            case "ship":
                self.transfers.append(ref("T"))
                there = self.places[(where_index + 1) % 3]
                return ShipTransfer(
                    self.transfers[-1],
                    line.sku,
                    where,
                    there,
                    line.quantity,
                    ORIGIN,
                    line.lot,
                    line.serials,
                )
            case "arrive" if self.transfers:
                return ReceiveTransfer(
                    self.transfers[pick % len(self.transfers)], q(quantity % 2), ORIGIN
                )
            case "cancel" if self.transfers:
                return CancelTransfer(self.transfers[pick % len(self.transfers)], ORIGIN)
            case "reserve":
                self.reservations.append(ref("R"))
                return Reserve(self.reservations[-1], job, line.sku, where, line.quantity, ORIGIN)
            case "release" if self.reservations:
                return ReleaseReservation(self.reservations[pick % len(self.reservations)], ORIGIN)
            case "complete":
                return CompleteJob(job, ORIGIN)
        return None


SINGLE = (ReceiveTransfer, CancelTransfer, ReleaseReservation)
"""Commands that may name a missing document (an error, not a rejection): applied alone."""


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps, cuts=st.lists(st.integers(1, 12), min_size=1, max_size=10))
async def test_ledger_summed_equals_balances_and_answers_the_past(
    stock_runtime, stock_engine, plan, cuts
):
    scenario = Scenario()
    await seed(stock_runtime, items=scenario.items, locations=scenario.site.locations())
    skus = [i.sku for i in scenario.items]
    cmds = [cmd for step in plan if (cmd := scenario.command(step)) is not None]

    batches: list[list] = []
    position = 0
    for cut in cuts * (len(cmds) // max(1, sum(cuts)) + 1):
        if position >= len(cmds):
            break
        batch = cmds[position : position + cut]
        position += cut
        batches.extend([cmd] for cmd in batch if isinstance(cmd, SINGLE))
        batches.append([cmd for cmd in batch if not isinstance(cmd, SINGLE)])

    middle = len(batches) // 2
    snapshot = None
    moment = None
    for index, batch in enumerate(batches):
        if index == middle:
            snapshot = (await ledger_and_balances(stock_engine, skus))[1]
            moment = datetime.now(UTC)
        if batch:
            with contextlib.suppress(NotFound, Conflict, Invalid):
                await handlers.apply_commands(batch, uow_for(stock_runtime, POLICY))

    await assert_books_balance(stock_engine, skus)
    if moment is not None:
        async with stock_engine.connect() as conn:
            rows = await conn.execute(
                sa.select(
                    ledger.c.sku,
                    ledger.c.location,
                    ledger.c.lot,
                    ledger.c.serial,
                    sa.func.sum(ledger.c.on_hand_delta),
                    sa.func.sum(ledger.c.reserved_delta),
                    sa.func.sum(ledger.c.in_transit_in_delta),
                    sa.func.sum(ledger.c.in_transit_out_delta),
                )
                .where(ledger.c.sku.in_(skus), ledger.c.recorded_at <= moment)
                .group_by(ledger.c.sku, ledger.c.location, ledger.c.lot, ledger.c.serial)
            )
            as_of = {tuple(r[:4]): tuple(r[4:]) for r in rows if any(r[4:])}
        assert as_of == snapshot
