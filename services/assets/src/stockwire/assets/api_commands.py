"""Assets' command API: the records people keep of a device. Its maintenance log, a
warranty set by hand, failures they report, RMAs with the vendor (open, ship, close) and
its disposal.

Every route needs the ``write`` scope. A request may carry an ``Idempotency-Key`` (any id
the client chooses, at most 128 characters): a repeat with the same key and body gets the
first answer without being applied again; the same key with another body is a 409.
Bodies are checked for shape here, then by the domain (:func:`records.check`, a 422
naming the field: a cost without its currency, a firmware upgrade without its version, a
time in the future). A command the lifecycle state machine refuses (an RMA for a device
that is not faulty, the disposal of one not retired) is a 409 naming the rule, and
nothing is written: unlike a stock movement, which happened whatever assets thinks, a
person's command can simply be sent again once the device is where it should be.
"""

import functools
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from stockwire.assets import handlers_records
from stockwire.assets.api_queries import DeviceOut
from stockwire.assets.api_records import MaintenanceOut, RmaOut
from stockwire.assets.domain.records import (
    ACTOR_MAX,
    CERTIFICATE_MAX,
    COST_MAX,
    COST_PLACES,
    FIRMWARE_MAX,
    NAME_MAX,
    RECORD_ID_MAX,
    SERIAL_MAX,
    TEXT_MAX,
    VENDOR_FORBIDDEN,
    CloseRma,
    DisposeDevice,
    OpenRma,
    RecordMaintenance,
    ReportFailure,
    SetWarranty,
    ShipRma,
)
from stockwire.assets.handlers_records import Disposed, Reported
from stockwire.assets.queries import DeviceRow
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.vocabulary import (
    DeviceState,
    DisposalMethod,
    FailureSource,
    MaintenanceKind,
    RmaOutcome,
)
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.bodies import Body, Decimals
from stockwire.runtime.http.idempotency import (
    Answer,
    IdempotencyKey,
    IdempotencyKeys,
    RequestKey,
    execute,
)
from stockwire.runtime.http.problems import error_responses
from stockwire.runtime.http.query import Instant
from stockwire.runtime.http.reads import path_id
from stockwire.runtime.http.text import NO_NUL, text_field
from stockwire.runtime.settings import ApiToken

R = TypeVar("R")
UnitOfWorkFactory = Callable[[], AssetsUnitOfWork]

Serial = Annotated[str, text_field(SERIAL_MAX)]
Actor = Annotated[str, text_field(ACTOR_MAX)]
Text = Annotated[str, Field(min_length=1, max_length=TEXT_MAX, pattern=NO_NUL)]
"""Free text (an outcome, a symptom, a reason, a note): 1-500 characters, no NUL."""
Cost = Annotated[Decimal, Decimals(COST_PLACES, int(COST_MAX))]
Currency = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. USD; given with a cost.")
]
Vendor = Annotated[str, text_field(NAME_MAX, VENDOR_FORBIDDEN)]
RmaNumber = Annotated[str, text_field(RECORD_ID_MAX)]


# ---------------------------------------------------------------------------------- bodies


class MaintenanceIn(Body):
    """Work done on the device: an entry appended to its maintenance log."""

    kind: MaintenanceKind
    performed_by: Actor
    performed_at: Instant = Field(description="When; with a zone, not in the future.")
    outcome: Text
    cost: Cost | None = Field(default=None, description="Given with its currency.")
    currency: Currency | None = None
    firmware_version: Annotated[str, text_field(FIRMWARE_MAX)] | None = Field(
        default=None,
        description="Required for a firmware_upgrade: the version the device runs after it.",
    )
    note: Text | None = None

    def command(self, serial: str) -> RecordMaintenance:
        return RecordMaintenance(
            serial,
            self.kind,
            self.performed_by,
            self.performed_at,
            self.outcome,
            self.cost,
            self.currency,
            self.firmware_version,
            self.note,
        )


class WarrantyIn(Body):
    ends_on: date | None = Field(
        description="The last day of the device's own warranty; null: the model's applies."
    )


class FailureIn(Body):
    """A failure someone saw (monitoring reports through its own intake)."""

    symptom: Text
    failed_at: Instant = Field(description="With a zone, not in the future.")
    source: Literal["operator", "maintenance"] = "operator"

    def command(self, serial: str) -> ReportFailure:
        return ReportFailure(serial, self.symptom, self.failed_at, FailureSource(self.source))


class RmaIn(Body):
    vendor: Vendor
    rma_number: RmaNumber = Field(description="The vendor's number; unique per vendor.")
    reason: Text
    opened_by: Actor

    def command(self, serial: str) -> OpenRma:
        return OpenRma(serial, self.vendor, self.rma_number, self.reason, self.opened_by)


class RmaCloseIn(Body):
    outcome: RmaOutcome
    replacement_serial: Serial | None = Field(
        default=None,
        description="Required when replaced (and only then): the unit the vendor sent.",
    )
    note: Text | None = None


class DisposalIn(Body):
    method: DisposalMethod
    certificate_reference: Annotated[str, text_field(CERTIFICATE_MAX)]
    handled_by: Annotated[str, text_field(NAME_MAX)] | None = Field(
        default=None, description="The recycler or buyer, when not the company itself."
    )
    disposed_by: Actor
    disposed_at: Instant = Field(description="With a zone, not in the future.")
    note: Text | None = None

    def command(self, serial: str) -> DisposeDevice:
        return DisposeDevice(
            serial,
            self.method,
            self.certificate_reference,
            self.disposed_by,
            self.disposed_at,
            self.handled_by,
            self.note,
        )


# ---------------------------------------------------------------------------------- answers


class FailureOut(BaseModel):
    failure_id: str
    serial: str
    sku: str
    source: FailureSource
    symptom: str
    failed_at: datetime
    state: DeviceState = Field(description="The device's state after the report.")

    @classmethod
    def of(cls, reported: Reported) -> "FailureOut":
        f = reported.failure
        return cls(
            failure_id=f.failure_id,
            serial=f.serial,
            sku=f.sku,
            source=f.source,
            symptom=f.symptom,
            failed_at=f.at,
            state=reported.state,
        )


class DisposalOut(BaseModel):
    serial: str
    sku: str
    method: DisposalMethod
    certificate_reference: str
    handled_by: str | None
    disposed_by: str
    disposed_at: datetime
    note: str | None

    @classmethod
    def of(cls, disposed: Disposed) -> "DisposalOut":
        d = disposed.disposal
        return cls(
            serial=d.serial,
            sku=disposed.sku,
            method=d.method,
            certificate_reference=d.certificate_reference,
            handled_by=d.handled_by,
            disposed_by=d.disposed_by,
            disposed_at=d.disposed_at,
            note=d.note,
        )


def _answer(status: int, out: Callable[[R], BaseModel]) -> Callable[[R], Answer]:
    """The HTTP answer of a use case's result (kept for retries with the same key)."""

    def answer(result: R) -> Answer:
        return Answer(status, out(result).model_dump(mode="json"))

    return answer


def _device_out(row: DeviceRow) -> DeviceOut:
    return DeviceOut.of(row, datetime.now().astimezone())


# ---------------------------------------------------------------------------------- routes

Writer = Annotated[ApiToken, Depends(require_scope("write"))]
CREATED = HTTPStatus.CREATED
OK = HTTPStatus.OK


def commands_router(new_uow: UnitOfWorkFactory, keys: IdempotencyKeys) -> APIRouter:
    router = APIRouter(tags=["device records"], responses=error_responses(401, 403, 404, 409, 422))

    async def run(
        request: Request,
        token: ApiToken,
        body: BaseModel | None,
        key: str | None,
        use_case: Callable[[AssetsUnitOfWork], Awaitable[R]],
        answer: Callable[[R], Answer],
    ) -> Response:
        request_key = None
        if key is not None:
            sent = body.model_dump(mode="json") if body is not None else None
            request_key = RequestKey.of(token.name, key, request.method, request.url.path, sent)
        reply = await execute(use_case, new_uow, answer, keys, request_key)
        return JSONResponse(reply.body, status_code=reply.status_code)

    def device(serial: str) -> str:
        return path_id(serial, f"device {serial!r}")

    def rma(vendor: str, rma_number: str) -> tuple[str, str]:
        what = f"RMA {rma_number!r} of {vendor!r}"
        return path_id(vendor, what, NAME_MAX), path_id(rma_number, what, RECORD_ID_MAX)

    @router.post(
        "/devices/{serial:path}/maintenance",
        status_code=CREATED,
        response_model=MaintenanceOut,
        summary="Append an entry to a device's maintenance log",
    )
    async def record_maintenance(
        request: Request,
        token: Writer,
        serial: str,
        body: MaintenanceIn,
        key: IdempotencyKey = None,
    ) -> Response:
        """A firmware upgrade later than the device's last known firmware becomes its
        firmware. Not for a disposed device (409)."""
        cmd = body.command(device(serial))
        use_case = functools.partial(handlers_records.record_maintenance, cmd)
        return await run(request, token, body, key, use_case, _answer(CREATED, MaintenanceOut.of))

    @router.put(
        "/devices/{serial:path}/warranty",
        response_model=DeviceOut,
        summary="Set or clear a device's own warranty end",
    )
    async def set_warranty(
        request: Request, token: Writer, serial: str, body: WarrantyIn, key: IdempotencyKey = None
    ) -> Response:
        """The device's warranty then ends on ``ends_on`` whatever its model says; null
        clears it, and the model's warranty from receipt applies again."""
        cmd = SetWarranty(device(serial), body.ends_on)
        use_case = functools.partial(handlers_records.set_warranty, cmd)
        return await run(request, token, body, key, use_case, _answer(OK, _device_out))

    @router.post(
        "/devices/{serial:path}/failures",
        status_code=CREATED,
        response_model=FailureOut,
        summary="Report a device's failure: it is recorded, and the device is faulty",
    )
    async def report_failure(
        request: Request, token: Writer, serial: str, body: FailureIn, key: IdempotencyKey = None
    ) -> Response:
        """From installed, in stock or on its way, the device goes to faulty and the
        failure counts in its model's reliability. A device faulty already, in an RMA,
        retired or disposed of is a 409."""
        cmd = body.command(device(serial))
        use_case = functools.partial(handlers_records.report_failure, cmd)
        return await run(request, token, body, key, use_case, _answer(CREATED, FailureOut.of))

    @router.post(
        "/devices/{serial:path}/rmas",
        status_code=CREATED,
        response_model=RmaOut,
        summary="Open an RMA with the vendor for a faulty device",
    )
    async def open_rma(
        request: Request, token: Writer, serial: str, body: RmaIn, key: IdempotencyKey = None
    ) -> Response:
        """The device goes from faulty to rma_open; any other state is a 409 naming the
        rule, as is a second open RMA for it or a vendor's number used already."""
        cmd = body.command(device(serial))
        use_case = functools.partial(handlers_records.open_rma, cmd)
        return await run(request, token, body, key, use_case, _answer(CREATED, RmaOut.of))

    @router.post(
        "/rmas/{vendor}/{rma_number:path}/ship",
        response_model=RmaOut,
        summary="The device left for the vendor: in repair",
    )
    async def ship_rma(
        request: Request, token: Writer, vendor: str, rma_number: str, key: IdempotencyKey = None
    ) -> Response:
        cmd = ShipRma(*rma(vendor, rma_number))
        use_case = functools.partial(handlers_records.ship_rma, cmd)
        return await run(request, token, None, key, use_case, _answer(OK, RmaOut.of))

    @router.post(
        "/rmas/{vendor}/{rma_number:path}/close",
        response_model=RmaOut,
        summary="Close an RMA: repaired, replaced or scrapped",
    )
    async def close_rma(
        request: Request,
        token: Writer,
        vendor: str,
        rma_number: str,
        body: RmaCloseIn,
        key: IdempotencyKey = None,
    ) -> Response:
        """Repaired: the device is refurbished, and back in stock with stock's next
        movement of it. Replaced: it is retired, and the replacement unit (now, or when
        stock first receives it) records that it replaces it. Scrapped: retired."""
        vendor, rma_number = rma(vendor, rma_number)
        cmd = CloseRma(vendor, rma_number, body.outcome, body.replacement_serial, body.note)
        use_case = functools.partial(handlers_records.close_rma, cmd)
        return await run(request, token, body, key, use_case, _answer(OK, RmaOut.of))

    @router.post(
        "/devices/{serial:path}/disposal",
        status_code=CREATED,
        response_model=DisposalOut,
        summary="Dispose of a retired device, with its certificate",
    )
    async def dispose_device(
        request: Request, token: Writer, serial: str, body: DisposalIn, key: IdempotencyKey = None
    ) -> Response:
        """Only a retired device (else 409). The serial never comes back: stock's later
        movements of it are refused and alerted."""
        cmd = body.command(device(serial))
        use_case = functools.partial(handlers_records.dispose_device, cmd)
        return await run(request, token, body, key, use_case, _answer(CREATED, DisposalOut.of))

    return router
