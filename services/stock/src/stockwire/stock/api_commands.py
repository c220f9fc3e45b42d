"""The stock service's command API: the movements FSM systems and scanners send as events,
plus transfers, adjustments, cycle counts and reservations, over HTTP.

Every route needs the ``write`` scope; adjustments need ``admin``. A request may carry an
``Idempotency-Key`` header (any id the client chooses, at most 128 characters): a repeat
with the same key and body gets the first answer, without being applied again; the same
key with another body is a 409. Bodies are checked for shape and range here (a negative
or oversized quantity is a 422), then against the domain's rules for what a command must
say (:mod:`~stockwire.stock.domain.well_formed`; also a 422, naming the field); every
stock rule is the domain's. A movement the rules refuse is a 409 ``rejected`` answer
naming the reason, and is published as a rejection event with an alert, exactly as if it
had arrived on a topic.
"""

import uuid
from collections.abc import Callable
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from stockwire.contracts.stock import RejectionReason
from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.bodies import Body, Decimals
from stockwire.runtime.http.idempotency import (
    Answer,
    IdempotencyKey,
    IdempotencyKeys,
    RequestKey,
)
from stockwire.runtime.http.problems import ErrorOut, ProblemOut, error_responses
from stockwire.runtime.http.text import NO_NUL, text_field
from stockwire.runtime.plain_text import text_pattern
from stockwire.runtime.settings import ApiToken
from stockwire.stock import handlers
from stockwire.stock.domain import well_formed
from stockwire.stock.domain.commands import (
    Adjust,
    AdjustmentReason,
    CancelCount,
    CancelTransfer,
    CloseCount,
    Command,
    InstallPart,
    IssueParts,
    Line,
    OpenCount,
    Origin,
    ReceiptLine,
    ReceiveGoods,
    ReceiveTransfer,
    RecordCount,
    ReleaseReservation,
    Reserve,
    ReturnPart,
    ShipTransfer,
    SwapDevice,
)
from stockwire.stock.domain.events import Movement, Outcome, Rejection
from stockwire.stock.domain.limits import MAX_QUANTITY, PLACES
from stockwire.stock.domain.model import ONE, Count
from stockwire.stock.unit_of_work import StockUnitOfWork

UnitOfWorkFactory = Callable[[], StockUnitOfWork]

MAX_LINES = 500
MOST = int(MAX_QUANTITY)

Code = Annotated[str, text_field(64)]
"""A SKU, location code, lot or document id: 1-64 characters, no control characters,
no spaces at either end."""
Serial = Annotated[str, text_field(128)]
Quantity = Annotated[Decimal, Decimals(PLACES, MOST, above_minimum=True)]
"""More than 0, at most 1,000,000, in thousandths."""
Counted = Annotated[Decimal, Decimals(PLACES, MOST)]
"""0 to 1,000,000, in thousandths."""
Delta = Annotated[Decimal, Decimals(PLACES, MOST, minimum=-MOST, nonzero=True)]
"""-1,000,000 to 1,000,000 but not 0, in thousandths."""
Note = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]


# ---------------------------------------------------------------------------------- bodies


class ReceiptLineIn(Body):
    sku: Code
    ordered_quantity: Quantity | None = Field(
        default=None, description="Omit for stock received without an order line."
    )
    received_quantity: Counted = Field(description="0 records nothing.")
    serials: list[Serial] = Field(
        default_factory=list,
        max_length=MAX_LINES,
        description="For serialized items: as many as received_quantity, none repeated.",
    )
    lot: Code | None = None


class ReceiptIn(Body):
    """Goods received at a location, against a purchase order or not."""

    location: Code
    po_number: Code | None = None
    receipt_id: Code | None = None
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=MAX_LINES)

    def command(self, origin: Origin) -> Command:
        lines = tuple(
            ReceiptLine(
                line.sku,
                line.received_quantity,
                line.ordered_quantity,
                tuple(line.serials),
                line.lot,
            )
            for line in self.lines
        )
        return ReceiveGoods(self.location, lines, origin, self.po_number, self.receipt_id)


class PartLineIn(Body):
    """One SKU: a quantity (metres for length-tracked items), or serials."""

    sku: Code
    quantity: Quantity
    serials: list[Serial] = Field(
        default_factory=list,
        max_length=MAX_LINES,
        description="For serialized items: as many as the quantity, none repeated.",
    )
    lot: Code | None = None

    def line(self) -> Line:
        return Line(self.sku, self.quantity, tuple(self.serials), self.lot)


class IssueIn(Body):
    """Parts leave a location: into a job's custody, or without a job."""

    from_location: Code
    job_id: Code | None = None
    lines: list[PartLineIn] = Field(min_length=1, max_length=MAX_LINES)

    def command(self, origin: Origin) -> Command:
        lines = tuple(part.line() for part in self.lines)
        return IssueParts(self.from_location, lines, origin, self.job_id)


class InstallIn(Body):
    job_id: Code | None = None
    from_location: Code
    customer_site: Code
    line: PartLineIn

    def command(self, origin: Origin) -> Command:
        return InstallPart(
            self.from_location, self.customer_site, self.line.line(), origin, self.job_id
        )


class ReturnIn(Body):
    job_id: Code | None = None
    to_location: Code
    condition: ReturnCondition
    line: PartLineIn

    def command(self, origin: Origin) -> Command:
        return ReturnPart(self.to_location, self.line.line(), self.condition, origin, self.job_id)


class SwapIn(Body):
    job_id: Code | None = None
    customer_site: Code
    from_location: Code
    installed_sku: Code
    installed_serial: Serial
    removed_sku: Code
    removed_serial: Serial
    removed_condition: ReturnCondition = ReturnCondition.FAULTY

    def command(self, origin: Origin) -> Command:
        return SwapDevice(
            customer_site=self.customer_site,
            from_location=self.from_location,
            installed=Line(self.installed_sku, ONE, (self.installed_serial,)),
            removed=Line(self.removed_sku, ONE, (self.removed_serial,)),
            removed_condition=self.removed_condition,
            origin=origin,
            job_id=self.job_id,
        )


class TransferIn(Body):
    transfer_id: Code | None = Field(default=None, description="Default: a new UUID.")
    sku: Code
    from_location: Code
    to_location: Code = Field(description="Not from_location.")
    quantity: Quantity
    lot: Code | None = None
    serials: list[Serial] = Field(
        default_factory=list,
        max_length=MAX_LINES,
        description="For serialized items: as many as the quantity, none repeated.",
    )

    def command(self, origin: Origin) -> Command:
        return ShipTransfer(
            self.transfer_id or str(uuid.uuid4()),
            self.sku,
            self.from_location,
            self.to_location,
            self.quantity,
            origin,
            self.lot,
            tuple(self.serials),
        )


class TransferReceiptIn(Body):
    quantity_received: Counted
    serials: list[Serial] | None = Field(
        default=None,
        max_length=MAX_LINES,
        description="For serialized transfers that did not arrive whole: the serials that did.",
    )


class AdjustmentIn(Body):
    sku: Code
    location: Code
    quantity_delta: Delta = Field(
        description="Signed change of on hand, not 0; 1 or -1 for a serial."
    )
    reason: AdjustmentReason
    lot: Code | None = None
    serial: Serial | None = None
    note: Note | None = None

    def command(self, origin: Origin) -> Command:
        return Adjust(
            self.sku,
            self.location,
            self.quantity_delta,
            self.reason,
            origin,
            self.lot,
            self.serial,
            self.note,
        )


class CountIn(Body):
    count_id: Code | None = Field(default=None, description="Default: a new UUID.")
    location: Code
    blind: bool = Field(default=False, description="Counters are not shown expected figures.")
    skus: list[Code] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LINES,
        description="Count only these SKUs; default: everything at the location.",
    )

    def command(self, origin: Origin) -> Command:
        skus = tuple(self.skus) if self.skus is not None else None
        return OpenCount(
            self.count_id or str(uuid.uuid4()), self.location, origin, self.blind, skus
        )


class CountLineIn(Body):
    """What was counted of one SKU (one lot, or one serial): the total, replacing any
    earlier figure for it. Scans on scanning.scans.v1 add up instead."""

    sku: Code | None = Field(default=None, description="May be omitted for a known serial.")
    serial: Serial | None = Field(default=None, description="Give a sku, a serial or both.")
    lot: Code | None = None
    counted: Counted = Field(description="0 or 1 for a serial.")


class ReservationIn(Body):
    reservation_id: Code | None = Field(default=None, description="Default: a new UUID.")
    job_id: Code
    sku: Code
    location: Code
    quantity: Quantity

    def command(self, origin: Origin) -> Command:
        return Reserve(
            self.reservation_id or str(uuid.uuid4()),
            self.job_id,
            self.sku,
            self.location,
            self.quantity,
            origin,
        )


# ---------------------------------------------------------------------------------- answers


class MovementOut(BaseModel):
    movement_id: uuid.UUID
    kind: str
    reason_code: str
    sku: str
    location: str
    quantity: Decimal
    lot: str | None
    serial: str | None
    from_location: str | None
    to_location: str | None
    job_id: str | None
    transfer_id: str | None
    count_id: str | None

    @classmethod
    def of(cls, m: Movement) -> "MovementOut":
        return cls(
            movement_id=m.movement_id,
            kind=m.kind.value,
            reason_code=m.reason_code,
            sku=m.sku,
            location=m.location,
            quantity=m.quantity,
            lot=m.lot or None,
            serial=m.serial or None,
            from_location=m.from_location,
            to_location=m.to_location,
            job_id=m.job_id,
            transfer_id=m.transfer_id,
            count_id=m.count_id,
        )


class LevelOut(BaseModel):
    sku: str
    location: str
    on_hand: Decimal
    reserved: Decimal
    in_transit_in: Decimal
    in_transit_out: Decimal
    available: Decimal


class AlertOut(BaseModel):
    kind: str
    severity: str
    summary: str


class RejectionOut(BaseModel):
    reason: RejectionReason
    message: str
    sku: str
    location: str
    serial: str | None

    @classmethod
    def of(cls, r: Rejection) -> "RejectionOut":
        return cls(
            reason=r.reason, message=r.message, sku=r.sku, location=r.location, serial=r.serial
        )


class CountOut(BaseModel):
    """A count; accuracy and matching items only once it is closed (never for a cancelled
    one)."""

    count_id: str
    location: str
    blind: bool
    status: str
    skus: list[str] | None
    items_counted: int | None
    items_matching: int | None
    accuracy: Decimal | None

    @classmethod
    def of(cls, count: Count) -> "CountOut":
        return cls(
            count_id=count.count_id,
            location=count.location,
            blind=count.blind,
            status=count.status.value,
            skus=list(count.skus) if count.skus is not None else None,
            items_counted=count.items_counted,
            items_matching=count.items_matching,
            accuracy=count.accuracy,
        )


class AppliedOut(BaseModel):
    """What the command did: its movements, the levels after it, the alerts it raised."""

    movements: list[MovementOut]
    levels: list[LevelOut]
    alerts: list[AlertOut]
    skipped: list[RejectionOut] = Field(
        default_factory=list,
        description="Lines of a closed count the rules refused (a serial held elsewhere).",
    )
    transfer_id: str | None = None
    reservation_id: str | None = None
    count: CountOut | None = None


class ConflictOut(ErrorOut):
    """A 409: the stock rules refused the command (``reason`` names the rule; the refusal
    is published as a rejection event), or it clashes with what exists (a document id
    already used, an Idempotency-Key used for another request). Nothing was applied."""

    reason: RejectionReason | None = Field(
        default=None, description="The stock rule that refused the command, if one did."
    )


def _answer(status: int, **ids: str) -> Callable[[Outcome], Answer]:
    """Turns an outcome into the HTTP answer (stored for retries with the same key)."""

    def answer(outcome: Outcome) -> Answer:
        if outcome.rejection is not None:
            r = outcome.rejection
            body = ConflictOut(
                error="rejected",
                detail=r.message,
                problems=[ProblemOut(field=r.reason.value, reason=r.message)],
                reason=r.reason,
            )
            return Answer(HTTPStatus.CONFLICT, body.model_dump(mode="json"))
        applied = AppliedOut(
            movements=[MovementOut.of(m) for m in outcome.movements],
            levels=[
                LevelOut(
                    sku=pair.sku,
                    location=pair.location,
                    on_hand=level.on_hand,
                    reserved=level.reserved,
                    in_transit_in=level.in_transit_in,
                    in_transit_out=level.in_transit_out,
                    available=level.available,
                )
                for pair, level in sorted(outcome.levels.items())
            ],
            alerts=[
                AlertOut(kind=a.kind.value, severity=a.severity.value, summary=a.summary)
                for a in outcome.alerts
            ],
            skipped=[RejectionOut.of(r) for r in outcome.skipped],
            count=CountOut.of(outcome.count) if outcome.count is not None else None,
            **ids,
        )
        return Answer(status, applied.model_dump(mode="json"))

    return answer


ANSWERS: dict[int | str, dict[str, Any]] = {
    **error_responses(401, 403, 404, 422),
    409: {"model": ConflictOut, "description": "Rejected by the stock rules, or a clash."},
}


# ---------------------------------------------------------------------------------- routes

Writer = Annotated[ApiToken, Depends(require_scope("write"))]
Admin = Annotated[ApiToken, Depends(require_scope("admin"))]
DocumentId = Annotated[str, Path(min_length=1, max_length=64, pattern=text_pattern())]


def commands_router(new_uow: UnitOfWorkFactory, keys: IdempotencyKeys) -> APIRouter:
    router = APIRouter(tags=["stock commands"], responses=ANSWERS)

    async def run(
        request: Request,
        token: ApiToken,
        command: Callable[[Origin], Command],
        body: BaseModel | None,
        key: str | None,
        status: int = HTTPStatus.CREATED,
        **ids: str,
    ) -> Response:
        cmd = command(Origin(actor=f"api:{token.name}"))
        well_formed.check(cmd)
        for name, value in ids.items():
            ids[name] = getattr(cmd, name, value)
        request_key = None
        if key is not None:
            sent = body.model_dump(mode="json") if body is not None else None
            request_key = RequestKey.of(token.name, key, request.method, request.url.path, sent)
        reply = await handlers.execute_command(
            cmd, new_uow, _answer(status, **ids), keys, request_key
        )
        return JSONResponse(reply.body, status_code=reply.status_code)

    @router.post(
        "/receipts",
        status_code=201,
        response_model=AppliedOut,
        summary="Receive goods, against a PO or not",
    )
    async def receive(
        request: Request, token: Writer, body: ReceiptIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post(
        "/issues",
        status_code=201,
        response_model=AppliedOut,
        summary="Issue parts to a job (or without one)",
    )
    async def issue(
        request: Request, token: Writer, body: IssueIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post(
        "/installs",
        status_code=201,
        response_model=AppliedOut,
        summary="Install a part at a customer site",
    )
    async def install(
        request: Request, token: Writer, body: InstallIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post(
        "/returns",
        status_code=201,
        response_model=AppliedOut,
        summary="Return a part: good to stock, else quarantine",
    )
    async def take_back(
        request: Request, token: Writer, body: ReturnIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post(
        "/device-swaps",
        status_code=201,
        response_model=AppliedOut,
        summary="Swap a device at a customer site",
    )
    async def swap(
        request: Request, token: Writer, body: SwapIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post(
        "/adjustments",
        status_code=201,
        response_model=AppliedOut,
        summary="Correct a balance; needs the admin scope",
    )
    async def adjust(
        request: Request, token: Admin, body: AdjustmentIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post(
        "/transfers",
        status_code=201,
        response_model=AppliedOut,
        summary="Ship a transfer between two locations",
    )
    async def ship(
        request: Request, token: Writer, body: TransferIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key, transfer_id="")

    @router.post(
        "/transfers/{transfer_id}/receive",
        response_model=AppliedOut,
        summary="Receive a transfer; fewer than shipped is written off and reported",
    )
    async def receive_transfer(
        request: Request,
        token: Writer,
        transfer_id: DocumentId,
        body: TransferReceiptIn,
        key: IdempotencyKey = None,
    ) -> Response:
        def command(origin: Origin) -> Command:
            serials = tuple(body.serials) if body.serials is not None else None
            return ReceiveTransfer(transfer_id, body.quantity_received, origin, serials)

        return await run(request, token, command, body, key, HTTPStatus.OK)

    @router.post(
        "/transfers/{transfer_id}/cancel",
        response_model=AppliedOut,
        summary="Cancel a transfer in transit: what was shipped is back on hand at the origin",
    )
    async def cancel_transfer(
        request: Request, token: Writer, transfer_id: DocumentId, key: IdempotencyKey = None
    ) -> Response:
        def command(origin: Origin) -> Command:
            return CancelTransfer(transfer_id, origin)

        return await run(request, token, command, None, key, HTTPStatus.OK)

    @router.post(
        "/counts",
        status_code=201,
        response_model=AppliedOut,
        summary="Open a cycle count at a location",
    )
    async def open_count(
        request: Request, token: Writer, body: CountIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post(
        "/counts/{count_id}/lines",
        response_model=AppliedOut,
        summary="Record what was counted of a SKU, lot or serial (replaces its figure)",
    )
    async def record_count(
        request: Request,
        token: Writer,
        count_id: DocumentId,
        body: CountLineIn,
        key: IdempotencyKey = None,
    ) -> Response:
        def command(origin: Origin) -> Command:
            return RecordCount(
                count_id, body.sku, body.counted, origin, body.lot, body.serial, replace=True
            )

        return await run(request, token, command, body, key, HTTPStatus.OK)

    @router.post(
        "/counts/{count_id}/close",
        response_model=AppliedOut,
        summary="Close a count: variances become count adjustments",
    )
    async def close_count(
        request: Request, token: Writer, count_id: DocumentId, key: IdempotencyKey = None
    ) -> Response:
        def command(origin: Origin) -> Command:
            return CloseCount(count_id, origin)

        return await run(request, token, command, None, key, HTTPStatus.OK)

    @router.post(
        "/counts/{count_id}/cancel",
        response_model=AppliedOut,
        summary="Cancel an open count: nothing is adjusted",
    )
    async def cancel_count(
        request: Request, token: Writer, count_id: DocumentId, key: IdempotencyKey = None
    ) -> Response:
        def command(origin: Origin) -> Command:
            return CancelCount(count_id, origin)

        return await run(request, token, command, None, key, HTTPStatus.OK)

    @router.post(
        "/reservations",
        status_code=201,
        response_model=AppliedOut,
        summary="Reserve stock for a scheduled job",
    )
    async def reserve(
        request: Request, token: Writer, body: ReservationIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key, reservation_id="")

    @router.post(
        "/reservations/{reservation_id}/release",
        response_model=AppliedOut,
        summary="Release what is left of a reservation",
    )
    async def release(
        request: Request,
        token: Writer,
        reservation_id: DocumentId,
        key: IdempotencyKey = None,
    ) -> Response:
        def command(origin: Origin) -> Command:
            return ReleaseReservation(reservation_id, origin)

        return await run(request, token, command, None, key, HTTPStatus.OK)

    return router
