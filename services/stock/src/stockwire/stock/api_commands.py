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
from typing import Annotated, Any, Self

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from stockwire.contracts.base import LocationCode, Quantity, Serial, Sku
from stockwire.contracts.fsm import PartLine
from stockwire.contracts.receipts import ReceivedQuantity
from stockwire.contracts.stock import RejectionReason, SignedQuantity
from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.runtime.auth import require_scope
from stockwire.runtime.settings import ApiToken
from stockwire.stock import handlers
from stockwire.stock.api_queries import ApiError, ErrorOut, ProblemOut, ShapedErrorsRoute
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
from stockwire.stock.domain.errors import Conflict, Invalid, NotFound
from stockwire.stock.domain.events import Movement, Outcome, Rejection
from stockwire.stock.domain.model import ONE, Count
from stockwire.stock.handlers import Answer, RequestId
from stockwire.stock.unit_of_work import StockUnitOfWork

UnitOfWorkFactory = Callable[[], StockUnitOfWork]

MAX_LINES = 500
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Your id for this request; a repeat gets the first answer.",
    ),
]


class Strict(BaseModel):
    """A request body: unknown fields refused, and no text the database cannot store."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _storable(self) -> Self:
        where = _nul_at(self.model_dump())
        if where is not None:
            raise ValueError(f"{where or 'a value'} contains a NUL character")
        return self


def _nul_at(value: object, path: str = "") -> str | None:
    """Where in ``value`` a string holds a NUL (PostgreSQL text cannot), or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, child in items:
        found = _nul_at(child, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------------- bodies


class ReceiptLineIn(Strict):
    sku: Sku
    ordered_quantity: Quantity | None = Field(
        default=None, description="Omit for stock received without an order line."
    )
    received_quantity: ReceivedQuantity = Field(description="0 records nothing.")
    serials: list[Serial] = Field(default_factory=list, max_length=MAX_LINES)
    lot: Id | None = None


class ReceiptIn(Strict):
    """Goods received at a location, against a purchase order or not."""

    location: LocationCode
    po_number: Id | None = None
    receipt_id: Id | None = None
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


def _line(part: PartLine) -> Line:
    return Line(part.sku, part.quantity, part.serials, part.lot)


class IssueIn(Strict):
    """Parts leave a location: into a job's custody, or without a job."""

    from_location: LocationCode
    job_id: Id | None = None
    lines: list[PartLine] = Field(min_length=1, max_length=MAX_LINES)

    def command(self, origin: Origin) -> Command:
        lines = tuple(_line(part) for part in self.lines)
        return IssueParts(self.from_location, lines, origin, self.job_id)


class InstallIn(Strict):
    job_id: Id | None = None
    from_location: LocationCode
    customer_site: LocationCode
    line: PartLine

    def command(self, origin: Origin) -> Command:
        return InstallPart(
            self.from_location, self.customer_site, _line(self.line), origin, self.job_id
        )


class ReturnIn(Strict):
    job_id: Id | None = None
    to_location: LocationCode
    condition: ReturnCondition
    line: PartLine

    def command(self, origin: Origin) -> Command:
        return ReturnPart(self.to_location, _line(self.line), self.condition, origin, self.job_id)


class SwapIn(Strict):
    job_id: Id | None = None
    customer_site: LocationCode
    from_location: LocationCode
    installed_sku: Sku
    installed_serial: Serial
    removed_sku: Sku
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


class TransferIn(Strict):
    transfer_id: Id | None = Field(default=None, description="Default: a new UUID.")
    sku: Sku
    from_location: LocationCode
    to_location: LocationCode
    quantity: Quantity
    lot: Id | None = None
    serials: list[Serial] = Field(default_factory=list, max_length=MAX_LINES)

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


class TransferReceiptIn(Strict):
    quantity_received: ReceivedQuantity
    serials: list[Serial] | None = Field(
        default=None,
        max_length=MAX_LINES,
        description="For serialized transfers that did not arrive whole: the serials that did.",
    )


class AdjustmentIn(Strict):
    sku: Sku
    location: LocationCode
    quantity_delta: SignedQuantity = Field(description="Signed change of on hand, not 0.")
    reason: AdjustmentReason
    lot: Id | None = None
    serial: Serial | None = None
    note: Text | None = None

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


class CountIn(Strict):
    count_id: Id | None = Field(default=None, description="Default: a new UUID.")
    location: LocationCode
    blind: bool = Field(default=False, description="Counters are not shown expected figures.")
    skus: list[Sku] | None = Field(
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


class CountLineIn(Strict):
    """What was counted of one SKU (one lot, or one serial): the total, replacing any
    earlier figure for it. Scans on scanning.scans.v1 add up instead."""

    sku: Sku | None = Field(default=None, description="May be omitted for a known serial.")
    serial: Serial | None = None
    lot: Id | None = None
    counted: ReceivedQuantity


class ReservationIn(Strict):
    reservation_id: Id | None = Field(default=None, description="Default: a new UUID.")
    job_id: Id
    sku: Sku
    location: LocationCode
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


class RejectedOut(ErrorOut):
    """A 409: the stock rules refused the command; nothing of it was applied."""

    reason: RejectionReason


def _answer(status: int, **ids: str) -> Callable[[Outcome], Answer]:
    """Turns an outcome into the HTTP answer (stored for retries with the same key)."""

    def answer(outcome: Outcome) -> Answer:
        if outcome.rejection is not None:
            r = outcome.rejection
            body = RejectedOut(
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
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": RejectedOut, "description": "Rejected by the stock rules, or a clash."},
    422: {"model": ErrorOut},
}


# ---------------------------------------------------------------------------------- routes

Writer = Annotated[ApiToken, Depends(require_scope("write"))]
Admin = Annotated[ApiToken, Depends(require_scope("admin"))]
TransferId = Annotated[str, Path(min_length=1, max_length=64)]
CountId = Annotated[str, Path(min_length=1, max_length=64)]
ReservationId = Annotated[str, Path(min_length=1, max_length=64)]


def commands_router(new_uow: UnitOfWorkFactory) -> APIRouter:
    router = APIRouter(tags=["stock commands"], responses=ANSWERS, route_class=ShapedErrorsRoute)

    async def run(
        request: Request,
        token: ApiToken,
        command: Callable[[Origin], Command],
        body: BaseModel | None,
        key: str | None,
        status: int = HTTPStatus.CREATED,
        **ids: str,
    ) -> Response:
        request_id = None
        if key is not None:
            sent = body.model_dump(mode="json") if body is not None else None
            request_id = RequestId.of(key, request.method, request.url.path, sent)
        cmd = command(Origin(actor=f"api:{token.name}"))
        for name, value in ids.items():
            ids[name] = getattr(cmd, name, value)
        try:
            well_formed.check(cmd)
            reply = await handlers.execute_command(
                cmd, new_uow(), _answer(status, **ids), request_id
            )
        except NotFound as error:
            raise ApiError(404, "not_found", str(error)) from error
        except Conflict as error:
            problems = [ProblemOut(field=error.field, reason=error.reason)]
            raise ApiError(409, "conflict", error.reason, problems) from error
        except Invalid as error:
            problems = [ProblemOut(field=error.field, reason=error.reason)]
            raise ApiError(422, "invalid", str(error), problems) from error
        return JSONResponse(reply.body, status_code=reply.status_code)

    movement = {"status_code": 201, "response_model": AppliedOut}

    @router.post("/receipts", **movement, summary="Receive goods, against a PO or not")
    async def receive(
        request: Request, token: Writer, body: ReceiptIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post("/issues", **movement, summary="Issue parts to a job (or without one)")
    async def issue(
        request: Request, token: Writer, body: IssueIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post("/installs", **movement, summary="Install a part at a customer site")
    async def install(
        request: Request, token: Writer, body: InstallIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post("/returns", **movement, summary="Return a part: good to stock, else quarantine")
    async def take_back(
        request: Request, token: Writer, body: ReturnIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post("/device-swaps", **movement, summary="Swap a device at a customer site")
    async def swap(
        request: Request, token: Writer, body: SwapIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post("/adjustments", **movement, summary="Correct a balance; needs the admin scope")
    async def adjust(
        request: Request, token: Admin, body: AdjustmentIn, key: IdempotencyKey = None
    ) -> Response:
        return await run(request, token, body.command, body, key)

    @router.post("/transfers", **movement, summary="Ship a transfer between two locations")
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
        transfer_id: TransferId,
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
        request: Request, token: Writer, transfer_id: TransferId, key: IdempotencyKey = None
    ) -> Response:
        def command(origin: Origin) -> Command:
            return CancelTransfer(transfer_id, origin)

        return await run(request, token, command, None, key, HTTPStatus.OK)

    @router.post("/counts", **movement, summary="Open a cycle count at a location")
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
        count_id: CountId,
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
        request: Request, token: Writer, count_id: CountId, key: IdempotencyKey = None
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
        request: Request, token: Writer, count_id: CountId, key: IdempotencyKey = None
    ) -> Response:
        def command(origin: Origin) -> Command:
            return CancelCount(count_id, origin)

        return await run(request, token, command, None, key, HTTPStatus.OK)

    @router.post("/reservations", **movement, summary="Reserve stock for a scheduled job")
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
        reservation_id: ReservationId,
        key: IdempotencyKey = None,
    ) -> Response:
        def command(origin: Origin) -> Command:
            return ReleaseReservation(reservation_id, origin)

        return await run(request, token, command, None, key, HTTPStatus.OK)

    return router
