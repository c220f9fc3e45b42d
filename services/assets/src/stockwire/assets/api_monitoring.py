"""The monitoring webhooks: Prometheus Alertmanager, Zabbix and LibreNMS post alerts, and
each alert about a device goes to ``monitoring.device-events.v1`` through the outbox,
once.

Alertmanager and LibreNMS cannot sign a body, so a caller proves itself with the shared
secret as a bearer token, or with the runtime's HMAC signature when it can sign
(:func:`stockwire.runtime.http.webhooks.verify_caller`). Which alert is which device event
is the pure domain's (:mod:`stockwire.assets.domain.monitoring`), with the operator's
label mapping. All the events of one call are written in one transaction, each once: a
repeat (Alertmanager re-sends firing alerts every ``repeat_interval``) is answered
``duplicate`` and written no more. Nothing is written unless the answer is 202.
"""

from collections import Counter
from collections.abc import Sequence
from http import HTTPStatus

from fastapi import APIRouter, Request

from stockwire.assets.domain.monitoring import (
    DeviceReport,
    Read,
    ReportKind,
    Skipped,
    from_alertmanager,
    from_librenms,
    from_zabbix,
)
from stockwire.assets.monitoring_payloads import (
    AlertmanagerNotification,
    AlertOutcome,
    AlertOutcomeOut,
    IntakeOut,
    LibreNmsAlertIn,
    ZabbixEventIn,
)
from stockwire.assets.settings import AssetsSettings
from stockwire.contracts.network import (
    DeviceDegraded,
    DeviceEvent,
    DeviceFailed,
    DeviceRecovered,
    DeviceSeen,
)
from stockwire.contracts.topics import NETWORK_DEVICE_EVENTS
from stockwire.contracts.vocabulary import MonitoringSource
from stockwire.runtime.http.problems import error_responses
from stockwire.runtime.http.webhooks import (
    BearerSecret,
    Incoming,
    Outcome,
    SameEvent,
    Signature,
    Timestamp,
    add_all_once,
    configured_secret,
    verify_caller,
)
from stockwire.runtime.service import ServiceRuntime

ALERTMANAGER_PATH = "/webhooks/alertmanager"
ZABBIX_PATH = "/webhooks/zabbix"
LIBRENMS_PATH = "/webhooks/librenms"
BODY_LIMITS = {
    f"/api/v1{ALERTMANAGER_PATH}": 1024 * 1024,
    f"/api/v1{ZABBIX_PATH}": 64 * 1024,
    f"/api/v1{LIBRENMS_PATH}": 256 * 1024,
}
"""An Alertmanager group may hold many alerts; Zabbix and LibreNMS post one event (a
LibreNMS rule that matched many ports lists each)."""

SECRET_SETTING = "STOCKWIRE_ASSETS_MONITORING_WEBHOOK_SECRET"

EVENTS: dict[ReportKind, type[DeviceEvent]] = {
    ReportKind.FAILED: DeviceFailed,
    ReportKind.DEGRADED: DeviceDegraded,
    ReportKind.RECOVERED: DeviceRecovered,
    ReportKind.SEEN: DeviceSeen,
}

ANSWERS = "202 with each alert's outcome (also when every alert is a repeat or skipped); "
REFUSALS = (
    "401 without the secret (bearer) or a valid signature, 413 for a body over {cap}, 422 "
    "naming the field for anything else, 503 when no secret is configured. Nothing is "
    "written unless 202."
)


def monitoring_router(runtime: ServiceRuntime, settings: AssetsSettings) -> APIRouter:
    mapping = settings.monitoring_mapping()
    router = APIRouter(tags=["webhooks"], responses=error_responses(401, 413, 422, 503))

    async def authenticate(
        request: Request,
        bearer: BearerSecret,
        signature: str | None,
        timestamp: str | None,
    ) -> None:
        secret = configured_secret(settings.assets_monitoring_webhook_secret, SECRET_SETTING)
        verify_caller(
            secret,
            await request.body(),
            bearer=bearer,
            signature=signature,
            timestamp=timestamp,
            settings=settings,
        )

    async def record(
        source: MonitoringSource, reads: Sequence[Read], truncated: int = 0
    ) -> IntakeOut:
        reports = [read for read in reads if isinstance(read, DeviceReport)]
        written = iter(
            await add_all_once(
                runtime,
                NETWORK_DEVICE_EVENTS,
                [_incoming(report) for report in reports],
                same=SameEvent.TYPE_AND_KEY,
            )
        )
        outcomes = [
            _written(read, next(written)) if isinstance(read, DeviceReport) else _skipped(read)
            for read in reads
        ]
        counts = Counter(outcome.outcome for outcome in outcomes)
        return IntakeOut(
            source=source,
            accepted=counts[AlertOutcome.ACCEPTED],
            duplicate=counts[AlertOutcome.DUPLICATE],
            conflict=counts[AlertOutcome.CONFLICT],
            skipped=counts[AlertOutcome.SKIPPED],
            truncated_alerts=truncated,
            outcomes=outcomes,
        )

    @router.post(
        ALERTMANAGER_PATH,
        status_code=HTTPStatus.ACCEPTED,
        summary="Receive a Prometheus Alertmanager notification (webhook payload version 4)",
        description=ANSWERS
        + "alerts Alertmanager left out (truncatedAlerts) are counted in truncated_alerts. "
        + REFUSALS.format(cap="1 MiB"),
    )
    async def receive_alertmanager(
        request: Request,
        notification: AlertmanagerNotification,
        bearer: BearerSecret,
        signature: Signature = None,
        timestamp: Timestamp = None,
    ) -> IntakeOut:
        await authenticate(request, bearer, signature, timestamp)
        reads = from_alertmanager([alert.domain() for alert in notification.alerts], mapping)
        return await record(MonitoringSource.ALERTMANAGER, reads, notification.truncated_alerts)

    @router.post(
        ZABBIX_PATH,
        status_code=HTTPStatus.ACCEPTED,
        summary="Receive a Zabbix problem, recovery or update (the Stockwire media type)",
        description=ANSWERS + REFUSALS.format(cap="64 KiB"),
    )
    async def receive_zabbix(
        request: Request,
        event: ZabbixEventIn,
        bearer: BearerSecret,
        signature: Signature = None,
        timestamp: Timestamp = None,
    ) -> IntakeOut:
        await authenticate(request, bearer, signature, timestamp)
        return await record(MonitoringSource.ZABBIX, [from_zabbix(event.domain(), mapping)])

    @router.post(
        LIBRENMS_PATH,
        status_code=HTTPStatus.ACCEPTED,
        summary="Receive a LibreNMS alert (the API transport with the Stockwire template)",
        description=ANSWERS + REFUSALS.format(cap="256 KiB"),
    )
    async def receive_librenms(
        request: Request,
        alert: LibreNmsAlertIn,
        bearer: BearerSecret,
        signature: Signature = None,
        timestamp: Timestamp = None,
    ) -> IntakeOut:
        await authenticate(request, bearer, signature, timestamp)
        return await record(MonitoringSource.LIBRENMS, [from_librenms(alert.domain(), mapping)])

    return router


def _incoming(report: DeviceReport) -> Incoming:
    payload = EVENTS[report.kind](
        serial=report.serial,
        mac=report.mac,
        site=report.site,
        severity=report.severity,
        source=report.source,
        detail=report.detail,
        firmware_version=report.firmware_version,
        observed_at=report.observed_at,
    )
    return Incoming(
        event_id=report.event_id,
        payload=payload,
        producer=report.source.value,
        occurred_at=report.observed_at,
    )


def _skipped(read: Skipped) -> AlertOutcomeOut:
    return AlertOutcomeOut(
        ref=read.ref,
        outcome=AlertOutcome.SKIPPED,
        event_id=None,
        event_type=None,
        serial=None,
        reason=read.reason,
        notes=[],
    )


def _written(report: DeviceReport, written: Outcome) -> AlertOutcomeOut:
    conflict = written is Outcome.CONFLICT
    return AlertOutcomeOut(
        ref=report.ref,
        outcome=AlertOutcome(written.value),
        event_id=report.event_id,
        event_type=EVENTS[report.kind].event_type,
        serial=report.serial,
        reason="its id was already written for another kind of event or device (was the "
        "label mapping changed?)"
        if conflict
        else None,
        notes=list(report.notes),
    )
