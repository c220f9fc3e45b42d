"""What the monitoring webhooks read and answer: each sender's body exactly as it sends
it, and the outcome of each alert.

Bodies are read tolerantly (fields not listed here are ignored: a newer Alertmanager may
add some), but every field read is held to its documented type. Each body becomes the
pure domain's view of its alerts (:mod:`stockwire.assets.domain.monitoring`).
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stockwire.assets.domain.monitoring import (
    AlertmanagerAlert,
    LibreNmsAlert,
    LibreNmsState,
    ZabbixEvent,
)
from stockwire.contracts.vocabulary import MonitoringSource

Labels = dict[str, str]
Scalar = str | int | float | bool | None
Instance = Annotated[
    str,
    Field(
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Names this installation among several of its kind (their ids are "
        "only unique within one); empty with just one.",
    ),
]


class SenderBody(BaseModel):
    """A sender's body: fields not listed are ignored."""

    model_config = ConfigDict(extra="ignore")


# Prometheus Alertmanager ------------------------------------------------------------------


class AlertmanagerAlertIn(SenderBody):
    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime = Field(
        alias="endsAt", description="0001-01-01T00:00:00Z while the alert fires."
    )
    generator_url: str = Field(alias="generatorURL")
    fingerprint: str = Field(
        pattern=r"^[0-9A-Fa-f]{1,64}$",
        description="Alertmanager's hash of the alert's labels (16 hexadecimal digits).",
    )

    def domain(self) -> AlertmanagerAlert:
        return AlertmanagerAlert(
            fingerprint=self.fingerprint,
            firing=self.status == "firing",
            labels=self.labels,
            annotations=self.annotations,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
        )


class AlertmanagerNotification(SenderBody):
    """The body of Alertmanager's ``webhook_config``, version 4."""

    version: Literal["4"] = Field(
        description='The webhook payload version; only "4" (every Alertmanager since 0.9).'
    )
    group_key: str = Field(alias="groupKey")
    truncated_alerts: int = Field(
        default=0,
        alias="truncatedAlerts",
        ge=0,
        description="Alerts Alertmanager left out of this call (its max_alerts).",
    )
    status: Literal["firing", "resolved"]
    receiver: str
    group_labels: Labels = Field(alias="groupLabels")
    common_labels: Labels = Field(alias="commonLabels")
    common_annotations: Labels = Field(alias="commonAnnotations")
    external_url: str = Field(alias="externalURL")
    alerts: list[AlertmanagerAlertIn]

    @field_validator("version", mode="before")
    @classmethod
    def _version_4(cls, value: object) -> object:
        if value != "4":
            raise ValueError(
                f'is {value!r}; this webhook reads Alertmanager\'s payload version "4" only'
            )
        return value


# Zabbix -------------------------------------------------------------------------------------


class ZabbixTag(SenderBody):
    tag: str
    value: str


class ZabbixEventIn(SenderBody):
    """What the Stockwire media type (deploy/monitoring/zabbix_stockwire_media.yaml)
    posts for a trigger's problem, recovery or update."""

    event_id: str = Field(pattern=r"^[0-9]{1,20}$", description="{EVENT.ID}.")
    event_value: Literal[0, 1] = Field(description="{EVENT.VALUE}: 1 problem, 0 recovery.")
    event_update_status: Literal[0, 1] = Field(
        default=0, description="{EVENT.UPDATE.STATUS}: 1 for a problem update."
    )
    event_nseverity: int = Field(ge=0, le=5, description="{EVENT.NSEVERITY}, 0 to 5.")
    event_name: str = Field(max_length=2048, description="{EVENT.NAME}.")
    event_time: datetime = Field(
        description="When the problem started ({EVENT.DATE} {EVENT.TIME}), or for a "
        "recovery when it ended ({EVENT.RECOVERY.DATE} {EVENT.RECOVERY.TIME})."
    )
    event_tags: list[ZabbixTag] = Field(description="{EVENT.TAGSJSON}.")
    host: str = Field(max_length=256, description="{HOST.HOST}.")
    host_name: str = Field(default="", max_length=256, description="{HOST.NAME}.")
    item_name: str = Field(default="", max_length=2048, description="{ITEM.NAME}.")
    item_value: str = Field(default="", max_length=2048, description="{ITEM.VALUE}.")
    instance: Instance = ""

    def domain(self) -> ZabbixEvent:
        return ZabbixEvent(
            event_id=self.event_id,
            problem=self.event_value == 1,
            update=self.event_update_status == 1,
            nseverity=self.event_nseverity,
            name=self.event_name,
            at=self.event_time,
            tags=[(tag.tag, tag.value) for tag in self.event_tags],
            host=self.host_name or self.host,
            item_name=self.item_name,
            item_value=self.item_value,
            instance=self.instance,
        )


# LibreNMS -----------------------------------------------------------------------------------


class LibreNmsAlertIn(SenderBody):
    """What the Stockwire alert template (deploy/monitoring/librenms_stockwire.blade.php)
    renders for the API transport to post."""

    uid: int = Field(ge=0, description="The alert log entry's id.")
    state: Literal[0, 1, 2, 3, 4] = Field(
        description="0 recovered, 1 active, 2 acknowledged, 3 worse, 4 better."
    )
    severity: Literal["ok", "warning", "critical"]
    timestamp: datetime = Field(description="When LibreNMS logged the alert's state.")
    device_id: int = Field(ge=0)
    hostname: str = Field(max_length=256)
    sys_name: str | None = Field(default=None, alias="sysName", max_length=256)
    rule: str = Field(default="", max_length=2048, description="The rule's name.")
    title: str = Field(default="", max_length=2048)
    device: dict[str, Scalar] = Field(
        default_factory=dict,
        description="The device's fields the template sends: serial, location, "
        "firmware_version, ...",
    )
    faults: list[dict[str, Scalar]] = Field(
        default_factory=list, description="The rows that matched the rule."
    )
    instance: Instance = ""

    def domain(self) -> LibreNmsAlert:
        return LibreNmsAlert(
            uid=self.uid,
            state=LibreNmsState(self.state),
            severity=self.severity,
            at=self.timestamp,
            rule=self.rule,
            title=self.title,
            device=_texts(self.device),
            faults=[_texts(fault) for fault in self.faults],
            instance=self.instance,
        )


def _texts(fields: dict[str, Any]) -> dict[str, str]:
    """The fields that hold text or a whole number, as text."""
    return {
        name: str(value)
        for name, value in fields.items()
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    }


# Answers ------------------------------------------------------------------------------------


class AlertOutcome(StrEnum):
    ACCEPTED = "accepted"
    """Written to the topic now."""
    DUPLICATE = "duplicate"
    """Already written: a repeat."""
    CONFLICT = "conflict"
    """Its id was written for another kind of event: not written."""
    SKIPPED = "skipped"
    """It says nothing Stockwire records (the reason says why)."""


class AlertOutcomeOut(BaseModel):
    ref: str = Field(
        description="The sender's reference of the alert: Alertmanager's fingerprint, "
        "Zabbix's event id, LibreNMS's alert uid."
    )
    outcome: AlertOutcome = Field(
        description="accepted: written to the topic now; duplicate: already written "
        "(a repeat); conflict: its id was written for another kind of event; skipped: "
        "it says nothing Stockwire records (reason)."
    )
    event_id: uuid.UUID | None = Field(description="The device event's id, unless skipped.")
    event_type: str | None
    serial: str | None
    reason: str | None = Field(description="Why it was skipped, or conflicts.")
    notes: list[str] = Field(description="What of the alert was left out, and why.")


class IntakeOut(BaseModel):
    source: MonitoringSource
    accepted: int
    duplicate: int
    conflict: int
    skipped: int
    truncated_alerts: int = Field(
        description="Alerts the sender said it left out of this call: Stockwire never "
        "saw them (raise Alertmanager's max_alerts, or set it to 0)."
    )
    outcomes: list[AlertOutcomeOut] = Field(description="One per alert, in the call's order.")
