"""The first flow end to end: FSM job events drain a technician van, stock raises a
stockout, the notifier tells a chat and a mailbox within seconds, in the FSM event's trace,
and tells them again when a receipt refills the van. Extended to assets: an ONT installed
at a customer's, which Alertmanager then reports down, is marked faulty with a failure
recorded, and the chat hears of it, naming the device, the site and the model's failure
rate, in the trace of Alertmanager's call. Extended to replenishment: a van drained below
its minimum gets a transfer from its region's warehouse, the chat hears of the projected
stockout with that transfer in it, in the FSM event's trace, and accepting the transfer
over HTTP ships it, moves the stock and resolves the alert.

Every service runs as a process (``make up``'s harness) on the session's broker
and PostgreSQL, each on databases and consumer groups of their own. The test runs what they
talk to: a Mattermost-compatible chat receiver, an SMTP server and an OTLP/HTTP receiver
that collects every span the three services export. Other tests' records share the topics,
so the rule names this run's van and the checks read only what is about it.
"""

import asyncio
import contextlib
import gzip
import hashlib
import hmac
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from stockwire.contracts.envelope import wrap
from stockwire.contracts.fsm import JobEvent, PartInstalled, PartLine, PartsIssued
from stockwire.contracts.topics import FSM_JOB_EVENTS
from stockwire.devstack.ports import free_port
from stockwire.devstack.receivers import ChatReceiver, ReceivedMail, ReceivedRequest, SmtpSink
from stockwire.devstack.services import SERVICES
from stockwire.devstack.tokens import api_tokens_json, new_secret
from stockwire.runtime.auth import new_token
from stockwire.runtime.harness import ServiceProcess, migrate
from stockwire.runtime.settings import Settings

pytestmark = pytest.mark.slow

READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10
CATALOG_COPY_TIMEOUT_S = 60
APPLIED_TIMEOUT_S = 30
SPANS_TIMEOUT_S = 15
FEW_SECONDS = 10.0
"""An FSM event drains the van -> the stockout is in the chat and in the mailbox."""
EXPORT_DELAY_MS = "200"
"""OTEL_BSP_SCHEDULE_DELAY for the services: spans reach the receiver within a second."""
MAIL_TO = "noc@isp.example"


class OtlpReceiver:
    """An OTLP/HTTP trace receiver on 127.0.0.1: takes ``POST /v1/traces`` with a protobuf
    ``ExportTraceServiceRequest`` (gzip or not) and keeps every span with the name of the
    service that exported it."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Span]] = []
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the receiver is not running"
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)

    def in_trace(self, trace_id: str) -> list[tuple[str, Span]]:
        """The spans of one trace (32 hex digits), in the order they arrived."""
        return [(service, span) for service, span in self.spans if span.trace_id.hex() == trace_id]

    async def span_in_trace(self, trace_id: str, name: str) -> tuple[str, Span]:
        """The one span called ``name`` in the trace, once it arrived."""
        [found] = await self.wait_for(
            lambda: [(s, span) for s, span in self.in_trace(trace_id) if span.name == name],
            f"{name!r} in trace {trace_id}",
        )
        return found

    async def wait_for(
        self, found: Callable[[], list[tuple[str, Span]]], what: str
    ) -> list[tuple[str, Span]]:
        """``found()`` once it is not empty; fails naming ``what`` after a while."""
        try:
            async with asyncio.timeout(SPANS_TIMEOUT_S), self._changed:
                await self._changed.wait_for(lambda: bool(found()))
        except TimeoutError:
            names = sorted({span.name for _, span in self.spans})
            pytest.fail(f"no span {what} in {SPANS_TIMEOUT_S} s; spans seen: {names}")
        return found()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *lines = head.decode("latin-1").split("\r\n")
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                status = "404 Not Found"
                answer = b""
                if request_line.startswith("POST /v1/traces "):
                    await self._keep(ExportTraceServiceRequest.FromString(body))
                    status = "200 OK"
                    answer = ExportTraceServiceResponse().SerializeToString()
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/x-protobuf\r\n"
                    f"Content-Length: {len(answer)}\r\n\r\n".encode()
                    + answer
                )
                await writer.drain()
        finally:
            writer.close()

    async def _keep(self, request: ExportTraceServiceRequest) -> None:
        async with self._changed:
            self.requests += 1
            for resource_spans in request.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                service = attributes.get("service.name", "")
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend((service, span) for span in scope_spans.spans)
            self._changed.notify_all()


@dataclass
class Platform:
    """The running services and the receivers they talk to."""

    catalog: httpx.AsyncClient
    stock: httpx.AsyncClient
    assets: httpx.AsyncClient
    replenishment: httpx.AsyncClient
    notifier: httpx.AsyncClient
    chat: ChatReceiver
    mail: SmtpSink
    otlp: OtlpReceiver
    webhook_secret: str
    monitoring_secret: str


@pytest.fixture
async def platform(settings: Settings, tmp_path: Path) -> AsyncIterator[Platform]:
    """Every service of ``make up`` as a process, migrated and ready, exporting its spans to
    the OTLP receiver and its email to the SMTP sink; API clients with a token of every
    scope. Their logs are in ``tmp_path``."""
    run = uuid.uuid4().hex[:8]
    token, _ = new_token()
    webhook_secret = new_secret()
    monitoring_secret = new_secret()
    async with ChatReceiver() as chat, SmtpSink() as mail, OtlpReceiver() as otlp:
        env = {
            **os.environ,
            "STOCKWIRE_DATABASE_PREFIX": f"{settings.database_prefix}e2e_{run}_",
            "STOCKWIRE_CONSUMER_GROUP_PREFIX": f"e2e-{run}-",
            "STOCKWIRE_API_TOKENS": api_tokens_json(token),
            "STOCKWIRE_FSM_WEBHOOK_SECRET": webhook_secret,
            "STOCKWIRE_ASSETS_MONITORING_WEBHOOK_SECRET": monitoring_secret,
            "STOCKWIRE_OTLP_ENDPOINT": otlp.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": EXPORT_DELAY_MS,
            "STOCKWIRE_NOTIFIER_SMTP_HOST": mail.host,
            "STOCKWIRE_NOTIFIER_SMTP_PORT": str(mail.port),
            "PYTHONUNBUFFERED": "1",
        }
        names = [service.name for service in SERVICES]
        await asyncio.gather(
            *(migrate(name, tmp_path / f"{name}-migrate.log", env) for name in names)
        )
        ports = {name: free_port() for name in names}
        processes = [
            ServiceProcess.service(
                name, port=ports[name], log_path=tmp_path / f"{name}.log", env=env
            )
            for name in names
        ]
        async with contextlib.AsyncExitStack() as stack:
            for process in processes:
                stack.push_async_callback(process.stop, STOP_TIMEOUT_S)
                await process.start()
            await asyncio.gather(*(process.wait_ready(READY_TIMEOUT_S) for process in processes))
            clients = {
                name: await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=f"http://127.0.0.1:{ports[name]}/api/v1",
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=10,
                        trust_env=False,
                    )
                )
                for name in names
            }
            yield Platform(
                catalog=clients["catalog"],
                stock=clients["stock"],
                assets=clients["assets"],
                replenishment=clients["replenishment"],
                notifier=clients["notifier"],
                chat=chat,
                mail=mail,
                otlp=otlp,
                webhook_secret=webhook_secret,
                monitoring_secret=monitoring_secret,
            )
            for process in processes:
                process.check()


@dataclass(frozen=True)
class Refs:
    """This run's SKU, warehouse, van and serials (random, so runs never meet)."""

    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8].upper())

    @property
    def sku(self) -> str:
        return f"ONT-G240W-{self.run}"

    @property
    def warehouse(self) -> str:
        return f"WH-DAL-{self.run}"

    @property
    def van(self) -> str:
        return f"VAN-TX-{self.run}"

    @property
    def customer(self) -> str:
        return f"CUST-DAL-{self.run}"

    def serial(self, n: int) -> str:
        return f"ALCL{self.run}{n:02d}"


def new_traceparent() -> tuple[str, str]:
    """A W3C traceparent as the FSM system's span would send it, and its trace id."""
    trace_id = secrets.token_hex(16)
    return f"00-{trace_id}-{secrets.token_hex(8)}-01", trace_id


def issued(refs: Refs, job: int, *serials: str) -> PartsIssued:
    return PartsIssued(
        job_id=f"JOB-{refs.run}-{job}",
        technician_id="TECH-0231",
        from_location=refs.van,
        lines=(PartLine(sku=refs.sku, quantity=Decimal(len(serials)), serials=serials),),
    )


async def seed(platform: Platform, refs: Refs, region: str = "TX-NORTH") -> tuple[str, str]:
    """Catalog models and locations (the warehouse and the van in ``region``), the chat and
    email channels and the stockout rule; the names of the two channels."""
    answers = [
        await platform.catalog.post(
            "/items",
            json={
                "sku": refs.sku,
                "name": "Nokia G-240W-F ONT",
                "manufacturer": "Nokia",
                "category": "ont",
                "tracking_mode": "serial",
                "unit_cost": "129.00",
                "currency": "EUR",
                "criticality": "high",
            },
        ),
        await platform.catalog.post(
            "/locations",
            json={
                "code": refs.warehouse,
                "name": "Dallas warehouse",
                "kind": "warehouse",
                "region": region,
            },
        ),
        await platform.catalog.post(
            "/locations",
            json={
                "code": refs.van,
                "name": "Technician van 17",
                "kind": "technician_van",
                "region": region,
                "parent_code": refs.warehouse,
            },
        ),
    ]
    for answer in answers:
        assert answer.status_code == 201, answer.text
    chat, email = f"ops-chat-{refs.run.lower()}", f"noc-mail-{refs.run.lower()}"
    channels = {
        chat: {"type": "mattermost", "url": platform.chat.mattermost_url("e2ehooktoken")},
        email: {"type": "email", "recipients": [MAIL_TO]},
    }
    for name, body in channels.items():
        answer = await platform.notifier.put(f"/channels/{name}", json=body)
        assert answer.status_code == 200, answer.text
    rule = {
        "name": f"stockouts at {refs.van}",
        "position": 10,
        "channels": [chat, email],
        "matchers": [
            {"attribute": "kind", "values": ["stockout"]},
            {"attribute": "location", "values": [refs.van]},
        ],
        "timing": {"group_wait_s": 0, "group_interval_s": 1},
    }
    answer = await platform.notifier.post("/rules", json=rule)
    assert answer.status_code == 201, answer.text
    return chat, email


async def receive(platform: Platform, refs: Refs, *serials: str, at: str | None = None) -> None:
    """A goods receipt into the van (or ``at``) over stock's API; until stock's catalog copy
    knows the SKU and the location, stock rejects it (409) and it is sent again."""
    body = {
        "location": at or refs.van,
        "lines": [{"sku": refs.sku, "received_quantity": str(len(serials)), "serials": serials}],
    }
    deadline = time.monotonic() + CATALOG_COPY_TIMEOUT_S
    while True:
        answer = await platform.stock.post("/receipts", json=body)
        if answer.status_code == 201:
            return
        unknown = answer.status_code == 409 and answer.json()["reason"].startswith("unknown_")
        assert unknown and time.monotonic() < deadline, answer.text
        await asyncio.sleep(0.5)


async def post_webhook(platform: Platform, event: JobEvent, traceparent: str) -> None:
    """The FSM system's signed call, inside its own trace."""
    body = wrap(event, producer="fsm-acme").model_dump_json().encode()
    signature = hmac.new(platform.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    answer = await platform.stock.post(
        "/webhooks/fsm",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Stockwire-Signature": f"sha256={signature}",
            "traceparent": traceparent,
        },
    )
    assert answer.status_code == 202, answer.text


async def publish(settings: Settings, event: PartsIssued, traceparent: str) -> None:
    """The FSM system's event on its Kafka topic, with its trace context in the headers."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            FSM_JOB_EVENTS.name,
            value=wrap(event, producer="fsm-acme").model_dump_json().encode(),
            key=event.job_id.encode(),
            headers=[("traceparent", traceparent.encode())],
        )
    finally:
        await producer.stop()


async def van_balance(platform: Platform, refs: Refs) -> dict[str, Any]:
    answer = await platform.stock.get(
        "/balances", params={"sku": refs.sku, "location": refs.van, "include_zero": "true"}
    )
    assert answer.status_code == 200, answer.text
    [balance] = answer.json()["balances"] or [{"available": None}]
    return dict(balance)


async def available_becomes(platform: Platform, refs: Refs, quantity: int) -> dict[str, Any]:
    deadline = time.monotonic() + APPLIED_TIMEOUT_S
    while True:
        balance = await van_balance(platform, refs)
        if balance["available"] is not None and Decimal(balance["available"]) == quantity:
            return balance
        assert time.monotonic() < deadline, f"available never became {quantity}: {balance}"
        await asyncio.sleep(0.1)


async def chat_about(platform: Platform, refs: Refs, count: int) -> list[ReceivedRequest]:
    """The first ``count`` chat messages about this run's van."""
    deadline = time.monotonic() + FEW_SECONDS * 3
    while True:
        found = [r for r in platform.chat.requests if refs.van in (r.text or "")]
        if len(found) >= count:
            return found[:count]
        assert time.monotonic() < deadline, f"{len(found)} of {count} chat messages arrived"
        await asyncio.sleep(0.05)


async def mail_about(platform: Platform, refs: Refs, count: int) -> list[ReceivedMail]:
    deadline = time.monotonic() + FEW_SECONDS * 3
    while True:
        found = [m for m in platform.mail.messages if refs.van in str(m.message["Subject"])]
        if len(found) >= count:
            return found[:count]
        assert time.monotonic() < deadline, f"{len(found)} of {count} emails arrived"
        await asyncio.sleep(0.05)


def described(spans: list[tuple[str, Span]]) -> str:
    """The spans of a trace in a line: each one's service, name and kind, database
    statements only counted."""
    database = [span for _, span in spans if any(a.key == "db.system" for a in span.attributes)]
    named = [
        f"{service}: {span.name} ({Span.SpanKind.Name(span.kind).removeprefix('SPAN_KIND_')})"
        for service, span in spans
        if span not in database
    ]
    return "; ".join([*named, f"and {len(database)} database statements"])


async def test_fsm_events_that_drain_a_van_reach_chat_and_email_within_seconds_in_one_trace(
    settings: Settings, platform: Platform
) -> None:
    # Given an ONT SKU, a warehouse and a van in the catalog, a rule sending the van's
    # stockouts to a chat and a mailbox, and two ONTs received into the van
    refs = Refs()
    chat, email = await seed(platform, refs)
    await receive(platform, refs, refs.serial(1), refs.serial(2))
    await available_becomes(platform, refs, 2)

    # When the FSM system issues one ONT over the signed webhook, then the other over Kafka
    webhook_parent, _ = new_traceparent()
    await post_webhook(platform, issued(refs, 1, refs.serial(1)), webhook_parent)
    await available_becomes(platform, refs, 1)
    kafka_parent, kafka_trace = new_traceparent()
    drained_at = time.time()
    await publish(settings, issued(refs, 2, refs.serial(2)), kafka_parent)

    # Then the van is empty, and the stockout is in the chat and the mailbox within seconds
    balance = await available_becomes(platform, refs, 0)
    assert Decimal(balance["on_hand"]) == 0
    [message] = await chat_about(platform, refs, 1)
    [mail] = await mail_about(platform, refs, 1)
    to_chat, to_mail = message.received_at - drained_at, mail.received_at - drained_at
    print(
        f"\nstockout: FSM event -> chat {to_chat * 1000:.0f} ms, -> email {to_mail * 1000:.0f} ms"
    )
    assert to_chat < FEW_SECONDS
    assert to_mail < FEW_SECONDS
    assert message.path == "/hooks/e2ehooktoken"
    assert "Out of stock" in message.json["text"]
    assert refs.sku in message.json["text"]
    assert mail.rcpt_tos == [MAIL_TO]
    assert refs.sku in mail.message.get_body(("plain",)).get_content()

    # And one trace runs from the FSM event to the chat delivery (and the email's)
    service, delivery = await platform.otlp.span_in_trace(kafka_trace, f"deliver alert to {chat}")
    assert service == "stockwire-notifier"
    assert delivery.kind == Span.SpanKind.SPAN_KIND_CLIENT
    assert delivery.parent_span_id.hex() == kafka_parent.split("-")[2]
    await platform.otlp.span_in_trace(kafka_trace, f"deliver alert to {email}")
    print(f"trace {kafka_trace}: {described(platform.otlp.in_trace(kafka_trace))}")

    # When a receipt refills the van
    refilled_at = time.time()
    await receive(platform, refs, refs.serial(3))

    # Then the "resolved" follow-up reaches the chat, and the mailbox in the alert's thread
    _, resolved = await chat_about(platform, refs, 2)
    _, resolved_mail = await mail_about(platform, refs, 2)
    print(
        f"resolved: receipt -> chat {(resolved.received_at - refilled_at) * 1000:.0f} ms, "
        f"-> email {(resolved_mail.received_at - refilled_at) * 1000:.0f} ms"
    )
    assert "Resolved" in resolved.json["text"]
    assert str(resolved_mail.message["Subject"]).startswith("[RESOLVED]")
    assert resolved_mail.message["In-Reply-To"] == mail.message["Message-ID"]
    assert resolved.received_at - refilled_at < FEW_SECONDS

    # When the FSM webhook drains the van again
    webhook_parent, webhook_trace = new_traceparent()
    drained_at = time.time()
    await post_webhook(platform, issued(refs, 3, refs.serial(3)), webhook_parent)

    # Then that stockout reaches the chat in the trace of the webhook call, which stock's
    # HTTP server span continues
    *_, again = await chat_about(platform, refs, 3)
    print(
        f"stockout over the webhook: call -> chat {(again.received_at - drained_at) * 1000:.0f} ms"
    )
    assert "Out of stock" in again.json["text"]
    await platform.otlp.span_in_trace(webhook_trace, f"deliver alert to {chat}")
    servers = [
        (service, span)
        for service, span in platform.otlp.in_trace(webhook_trace)
        if span.kind == Span.SpanKind.SPAN_KIND_SERVER
    ]
    assert [service for service, _ in servers] == ["stockwire-stock"], described(servers)
    assert servers[0][1].parent_span_id.hex() == webhook_parent.split("-")[2]
    print(f"trace {webhook_trace}: {described(platform.otlp.in_trace(webhook_trace))}")


async def seed_failures(platform: Platform, refs: Refs, chat: str) -> None:
    """The customer's site in the catalog, and a rule sending device failures there to the
    chat."""
    answer = await platform.catalog.post(
        "/locations",
        json={
            "code": refs.customer,
            "name": "Customer 4711, Dallas",
            "kind": "customer_site",
            "region": "TX-NORTH",
        },
    )
    assert answer.status_code == 201, answer.text
    rule = {
        "name": f"devices down at {refs.customer}",
        "position": 20,
        "channels": [chat],
        "matchers": [
            {"attribute": "kind", "values": ["device_failed"]},
            {"attribute": "location", "values": [refs.customer]},
        ],
        "timing": {"group_wait_s": 0, "group_interval_s": 1},
    }
    answer = await platform.notifier.post("/rules", json=rule)
    assert answer.status_code == 201, answer.text


async def device_becomes(platform: Platform, serial: str, state: str) -> dict[str, Any]:
    """The device as assets answers once it is in ``state``."""
    deadline = time.monotonic() + APPLIED_TIMEOUT_S
    while True:
        answer = await platform.assets.get(f"/devices/{serial}")
        if answer.status_code == 200 and answer.json()["device"]["state"] == state:
            return dict(answer.json())
        assert time.monotonic() < deadline, f"{serial} never became {state}: {answer.text}"
        await asyncio.sleep(0.1)


def ont_down(refs: Refs, serial: str) -> dict[str, Any]:
    """Alertmanager's v4 webhook body for one firing alert, as Alertmanager sends it."""
    labels = {
        "alertname": "OntDown",
        "severity": "critical",
        "serial": serial,
        "site": refs.customer,
        "instance": f"olt-dal-1:{serial}",
    }
    return {
        "version": "4",
        "groupKey": '{}:{alertname="OntDown"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "stockwire",
        "groupLabels": {"alertname": "OntDown"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": f"ONT {serial} is down (LOS)"},
        "externalURL": "http://alertmanager.isp.example:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"ONT {serial} is down (LOS)"},
                "startsAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.isp.example:9090/graph?g0.expr=up",
                "fingerprint": uuid.uuid4().hex[:16],
            }
        ],
    }


async def test_an_installed_ont_alertmanager_reports_down_reaches_chat_with_its_failure_rate(
    platform: Platform,
) -> None:
    # Given an ONT received into the van and installed at a customer's over the FSM webhook,
    # and a rule sending device failures at that customer's to the chat
    refs = Refs()
    chat, _ = await seed(platform, refs)
    await seed_failures(platform, refs, chat)
    serial = refs.serial(1)
    await receive(platform, refs, serial)
    install = PartInstalled(
        job_id=f"JOB-{refs.run}-1",
        technician_id="TECH-0231",
        from_location=refs.van,
        customer_site=refs.customer,
        line=PartLine(sku=refs.sku, quantity=Decimal(1), serials=(serial,)),
    )
    await post_webhook(platform, install, new_traceparent()[0])
    installed = await device_becomes(platform, serial, "installed")
    assert installed["device"]["location"] == refs.customer

    # When Alertmanager reports the ONT down, in its own trace
    parent, trace = new_traceparent()
    reported_at = time.time()
    answer = await platform.assets.post(
        "/webhooks/alertmanager",
        json=ont_down(refs, serial),
        headers={
            "Authorization": f"Bearer {platform.monitoring_secret}",
            "traceparent": parent,
        },
    )
    assert answer.status_code == 202, answer.text

    # Then the device is faulty with a failure recorded from monitoring
    faulty = await device_becomes(platform, serial, "faulty")
    failures = [entry for entry in faulty["timeline"] if entry["kind"] == "failure"]
    assert [entry["detail"]["source"] for entry in failures] == ["monitoring"]

    # And the chat hears of it within seconds, naming the device, the customer's site and
    # the model's failure rate
    deadline = time.monotonic() + FEW_SECONDS * 3
    while not (found := [r for r in platform.chat.requests if serial in (r.text or "")]):
        assert time.monotonic() < deadline, "no chat message about the device"
        await asyncio.sleep(0.05)
    [message] = found
    text = message.json["text"]
    took_ms = (message.received_at - reported_at) * 1000
    print(f"\ndevice down: Alertmanager call -> chat {took_ms:.0f} ms\n{text}")
    assert refs.customer in text
    assert refs.sku in text
    assert "per device-year" in text
    assert message.received_at - reported_at < FEW_SECONDS

    # And one trace runs from Alertmanager's call, through assets, to the chat delivery
    await platform.otlp.span_in_trace(trace, f"deliver alert to {chat}")
    servers = [
        (service, span)
        for service, span in platform.otlp.in_trace(trace)
        if span.kind == Span.SpanKind.SPAN_KIND_SERVER
    ]
    assert [service for service, _ in servers] == ["stockwire-assets"], described(servers)
    assert servers[0][1].parent_span_id.hex() == parent.split("-")[2]
    print(f"trace {trace}: {described(platform.otlp.in_trace(trace))}")


async def seed_projected_stockouts(platform: Platform, refs: Refs, chat: str) -> None:
    """A rule sending the van's projected stockouts to the chat."""
    rule = {
        "name": f"projected stockouts at {refs.van}",
        "position": 30,
        "channels": [chat],
        "matchers": [
            {"attribute": "kind", "values": ["projected_stockout"]},
            {"attribute": "location", "values": [refs.van]},
        ],
        "timing": {"group_wait_s": 0, "group_interval_s": 1},
    }
    answer = await platform.notifier.post("/rules", json=rule)
    assert answer.status_code == 201, answer.text


async def open_transfer(platform: Platform, refs: Refs) -> dict[str, Any]:
    """The van's open transfer suggestion, once replenishment made it."""
    deadline = time.monotonic() + APPLIED_TIMEOUT_S
    while True:
        answer = await platform.replenishment.get(
            "/suggestions", params={"location": refs.van, "status": "open", "kind": "transfer"}
        )
        assert answer.status_code == 200, answer.text
        if found := answer.json()["suggestions"]:
            return dict(found[0])
        assert time.monotonic() < deadline, "no transfer suggestion for the van"
        await asyncio.sleep(0.1)


async def chat_saying(platform: Platform, words: str) -> ReceivedRequest:
    """The first chat message containing ``words``."""
    deadline = time.monotonic() + FEW_SECONDS * 3
    while True:
        found = [r for r in platform.chat.requests if words in (r.text or "")]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no chat message saying {words!r}"
        await asyncio.sleep(0.05)


async def test_a_van_drained_below_its_minimum_gets_a_transfer_chat_hears_of_and_acceptance_moves(
    settings: Settings, platform: Platform
) -> None:
    # Given a region of its own with a warehouse holding ten ONTs and a van holding three
    # (a van's ONT policy by default: min 2, max 5), and a rule sending the van's projected
    # stockouts to the chat
    refs = Refs()
    chat, _ = await seed(platform, refs, region=f"TX-{refs.run}")
    await seed_projected_stockouts(platform, refs, chat)
    await receive(platform, refs, *(refs.serial(n) for n in range(10, 20)), at=refs.warehouse)
    await receive(platform, refs, refs.serial(1), refs.serial(2), refs.serial(3))
    await available_becomes(platform, refs, 3)

    # When the FSM system issues two ONTs from the van to a job, over Kafka in its own trace
    parent, trace = new_traceparent()
    drained_at = time.time()
    await publish(settings, issued(refs, 1, refs.serial(1), refs.serial(2)), parent)
    await available_becomes(platform, refs, 1)

    # Then replenishment suggests a transfer of four from the warehouse (up to the max of 5)
    suggestion = await open_transfer(platform, refs)
    assert suggestion["from_location"] == refs.warehouse
    assert Decimal(suggestion["quantity"]) == 4

    # And the chat hears of the projected stockout with that transfer in it, within seconds
    message = await chat_saying(platform, f"{refs.sku} at {refs.van} runs out")
    text = message.json["text"]
    print(
        f"\nprojected stockout: FSM event -> chat "
        f"{(message.received_at - drained_at) * 1000:.0f} ms\n{text}"
    )
    assert f"a transfer of 4 from {refs.warehouse} is suggested" in text
    assert message.received_at - drained_at < FEW_SECONDS

    # And one trace runs from the FSM event, through stock's level change and
    # replenishment's alert, to the chat delivery
    service, delivery = await platform.otlp.span_in_trace(trace, f"deliver alert to {chat}")
    assert service == "stockwire-notifier"
    assert delivery.parent_span_id.hex() == parent.split("-")[2]
    print(f"trace {trace}: {described(platform.otlp.in_trace(trace))}")

    # When a planner accepts the suggestion over HTTP
    answer = await platform.replenishment.post(f"/suggestions/{suggestion['suggestion_id']}/accept")
    assert answer.status_code == 200, answer.text

    # Then stock ships four of the warehouse's ONTs to the van, and the alert resolves
    deadline = time.monotonic() + APPLIED_TIMEOUT_S
    while Decimal((await van_balance(platform, refs))["in_transit_in"]) != 4:
        assert time.monotonic() < deadline, "the transfer never shipped"
        await asyncio.sleep(0.1)
    resolved = await chat_saying(platform, "Resolved")
    assert refs.van in resolved.json["text"]

    # And receiving the transfer at the van puts the stock on its shelf
    answer = await platform.stock.post(
        f"/transfers/{suggestion['suggestion_id']}/receive", json={"quantity_received": "4"}
    )
    assert answer.status_code in (200, 201), answer.text
    await available_becomes(platform, refs, 5)
