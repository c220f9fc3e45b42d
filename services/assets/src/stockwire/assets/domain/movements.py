"""What a stock movement of one serial says about its device."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from stockwire.assets.domain.devices import Fact, Failure
from stockwire.assets.domain.lifecycle import state_after_movement
from stockwire.contracts.vocabulary import (
    FailureSource,
    LocationKind,
    MovementKind,
    ReturnCondition,
)


@dataclass(frozen=True, slots=True)
class Moved:
    """A stock movement of one serial, as stock recorded it."""

    serial: str
    sku: str
    kind: MovementKind
    reason_code: str
    location: str
    from_location: str | None
    to_location: str | None
    condition: ReturnCondition | None
    job_id: str | None
    at: datetime
    source_event_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Place:
    """What the catalog copy says of a location (None: not in the copy yet)."""

    kind: LocationKind | None
    region: str | None


def destination(moved: Moved) -> str:
    """Where the device is after the movement: the site for an install, the receiving
    location for a shipment in transit, else the movement's own location."""
    if moved.kind in (MovementKind.INSTALL, MovementKind.TRANSFER_SHIP) and moved.to_location:
        return moved.to_location
    return moved.location


def movement_fact(moved: Moved, place: Place) -> Fact | None:
    """The fact a movement is for its device; None for one that says nothing of it."""
    gain = moved.to_location is not None or moved.from_location is None
    to_state = state_after_movement(
        moved.kind, gain=gain, condition=moved.condition, destination_kind=place.kind
    )
    if to_state is None:
        return None
    failure = None
    if moved.kind is MovementKind.RETURN and moved.condition is ReturnCondition.FAULTY:
        failure = Failure(FailureSource.FAULTY_RETURN, f"returned faulty ({moved.reason_code})")
    return Fact(
        serial=moved.serial,
        sku=moved.sku,
        at=moved.at,
        to_state=to_state,
        reason=f"stock {moved.kind.value} ({moved.reason_code})",
        location=destination(moved),
        location_kind=place.kind,
        region=place.region,
        job_id=moved.job_id,
        failure=failure,
        source_event_id=moved.source_event_id,
    )
