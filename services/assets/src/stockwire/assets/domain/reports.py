"""What network monitoring reports of a device, and what it means for the device.

A device reported *failed* while in service (installed) becomes faulty and a failure is
recorded; reported failed anywhere else (in stock, already faulty), the report is only
kept in its timeline. *Degraded* marks its health, *recovered* clears that. Every report,
*seen* included, is a sighting: where the network saw the serial, with which MAC and
firmware, which reconciliation compares with the records.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stockwire.assets.domain.devices import Fact, Failure
from stockwire.assets.domain.monitoring import ReportKind
from stockwire.contracts.vocabulary import FailureSource


class Health(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"


@dataclass(frozen=True, slots=True)
class Report:
    serial: str
    kind: ReportKind
    source: str
    severity: str
    at: datetime
    source_event_id: uuid.UUID
    site: str | None = None
    mac: str | None = None
    detail: str | None = None
    firmware_version: str | None = None


def failure_fact(report: Report, sku: str) -> Fact:
    """The fact a failure report is for a device of ``sku``."""
    return Fact(
        serial=report.serial,
        sku=sku,
        at=report.at,
        to_state=None,
        reason=f"{report.source} reported it failed",
        failure=Failure(
            FailureSource.MONITORING, report.detail or f"{report.source}: {report.severity}"
        ),
        source_event_id=report.source_event_id,
    )


def health_after(report: Report) -> Health | None:
    """The health a report leaves the device in; None when it says nothing of it."""
    match report.kind:
        case ReportKind.DEGRADED:
            return Health.DEGRADED
        case ReportKind.RECOVERED:
            return Health.OK
    return None


def summary(report: Report) -> str:
    where = f" at {report.site}" if report.site else ""
    said = f": {report.detail}" if report.detail else ""
    return f"{report.source} reported it {report.kind.value} ({report.severity}){where}{said}"
