"""Reservations: stock held back at a location for a job, fulfilled as parts are issued
to the job, released on request or when the job completes."""

from dataclasses import replace
from decimal import Decimal

from stockwire.contracts.vocabulary import MovementKind
from stockwire.runtime.domain_errors import Conflict, NotFound
from stockwire.stock.domain.checks import active_location, catalog_item
from stockwire.stock.domain.commands import CompleteJob, ReleaseReservation, Reserve
from stockwire.stock.domain.draft import Draft
from stockwire.stock.domain.model import (
    NOT_TRACKED,
    ZERO,
    Amounts,
    BalanceKey,
    Pair,
    Reservation,
    ReservationStatus,
)


def reserve(draft: Draft, cmd: Reserve) -> None:
    if draft.reservation(cmd.reservation_id) is not None:
        raise Conflict("reservation_id", f"reservation {cmd.reservation_id!r} already exists")
    draft.job_id = cmd.job_id
    draft.focus(MovementKind.RESERVE, cmd.sku, cmd.location, cmd.quantity)
    catalog_item(draft, cmd.sku)
    active_location(draft, cmd.location)
    key = BalanceKey(cmd.sku, cmd.location, NOT_TRACKED, NOT_TRACKED)
    draft.record(
        MovementKind.RESERVE,
        "job_reservation",
        cmd.sku,
        cmd.location,
        cmd.quantity,
        [(key, Amounts(reserved=cmd.quantity))],
        job_id=cmd.job_id,
    )
    draft.reservations[cmd.reservation_id] = Reservation(
        reservation_id=cmd.reservation_id,
        job_id=cmd.job_id,
        sku=cmd.sku,
        location=cmd.location,
        quantity=cmd.quantity,
        fulfilled=ZERO,
        status=ReservationStatus.OPEN,
        created_at=draft.book.now,
    )


def release_reservation(draft: Draft, cmd: ReleaseReservation) -> None:
    reservation = draft.reservation(cmd.reservation_id)
    if reservation is None:
        raise NotFound("reservation", cmd.reservation_id)
    if reservation.status != ReservationStatus.OPEN:
        raise Conflict(
            "reservation_id",
            f"reservation {cmd.reservation_id!r} is {reservation.status.value}",
        )
    _release(draft, reservation, "reservation_released")


def complete_job(draft: Draft, cmd: CompleteJob) -> None:
    """A completed job needs nothing more: its open reservations are released."""
    for reservation in draft.open_reservations(cmd.job_id):
        _release(draft, reservation, "job_completed")


def fulfil(draft: Draft, job_id: str, pair: Pair, quantity: Decimal) -> Decimal:
    """Fulfil ``job_id``'s open reservations at ``pair`` by up to ``quantity``, oldest
    first; how much they took."""
    fulfilled = ZERO
    for reservation in draft.open_reservations(job_id, pair):
        if fulfilled >= quantity:
            break
        take = min(reservation.remaining, quantity - fulfilled)
        done = reservation.fulfilled + take
        status = ReservationStatus.FULFILLED if done >= reservation.quantity else reservation.status
        draft.reservations[reservation.reservation_id] = replace(
            reservation, fulfilled=done, status=status
        )
        fulfilled += take
    return fulfilled


def _release(draft: Draft, reservation: Reservation, reason_code: str) -> None:
    """Give back what the reservation still holds, and close it."""
    draft.focus(MovementKind.RELEASE, reservation.sku, reservation.location, reservation.remaining)
    if reservation.remaining > 0:
        key = BalanceKey(reservation.sku, reservation.location, NOT_TRACKED, NOT_TRACKED)
        draft.record(
            MovementKind.RELEASE,
            reason_code,
            reservation.sku,
            reservation.location,
            reservation.remaining,
            [(key, Amounts(reserved=-reservation.remaining))],
            job_id=reservation.job_id,
        )
    draft.reservations[reservation.reservation_id] = replace(
        reservation, status=ReservationStatus.RELEASED
    )
