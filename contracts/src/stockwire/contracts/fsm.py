"""Inbound job events from field-service-management (FSM) systems, keyed by job id."""

from typing import Annotated

from pydantic import Field, model_validator

from stockwire.contracts.base import Contract, Event, LocationCode, Quantity, Serial, Sku
from stockwire.contracts.vocabulary import ReturnCondition

__all__ = [
    "DeviceSwapped",
    "JobCompleted",
    "JobEvent",
    "PartInstalled",
    "PartLine",
    "PartReturned",
    "PartsIssued",
    "ReturnCondition",
]

JobId = Annotated[str, Field(min_length=1, max_length=64)]


class PartLine(Contract):
    """One SKU on a job: a quantity, or meters for length-tracked items, or serials."""

    sku: Sku
    quantity: Quantity
    serials: tuple[Serial, ...] = ()
    lot: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _serials_match_quantity(self) -> "PartLine":
        if len(set(self.serials)) != len(self.serials):
            raise ValueError("serials must not repeat")
        if self.serials and len(self.serials) != self.quantity:
            raise ValueError("quantity must equal the number of serials when serials are given")
        return self


class JobEvent(Event):
    """Fields every FSM job event carries."""

    job_id: JobId
    technician_id: str | None = Field(default=None, max_length=64)


class PartsIssued(JobEvent):
    """Parts left a warehouse or van for a job."""

    event_type = "fsm.parts.issued"

    from_location: LocationCode
    lines: tuple[PartLine, ...] = Field(min_length=1)


class PartInstalled(JobEvent):
    """A part was installed (or cable consumed) at a customer site."""

    event_type = "fsm.part.installed"

    from_location: LocationCode
    customer_site: LocationCode
    line: PartLine


class PartReturned(JobEvent):
    """A part came back unused from a job, in the stated condition."""

    event_type = "fsm.part.returned"

    to_location: LocationCode
    line: PartLine
    condition: ReturnCondition


class DeviceSwapped(JobEvent):
    """A device at a customer site was replaced by another one."""

    event_type = "fsm.device.swapped"

    customer_site: LocationCode
    from_location: LocationCode = Field(description="Where the new device came from (a van).")
    removed_sku: Sku
    removed_serial: Serial
    installed_sku: Sku
    installed_serial: Serial
    removed_condition: ReturnCondition = ReturnCondition.FAULTY
    reason: str | None = Field(default=None, max_length=500)


class JobCompleted(JobEvent):
    """A job was closed; first_time_fix says whether no return visit was needed."""

    event_type = "fsm.job.completed"

    first_time_fix: bool
    job_kind: str | None = Field(default=None, max_length=64, description="install, repair, ...")
