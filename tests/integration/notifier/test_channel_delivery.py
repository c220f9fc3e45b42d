"""Sending through the real clients to real local servers: Apprise to an HTTP receiver
(Mattermost-compatible and generic JSON), aiosmtplib to an aiosmtpd sink; failures come
back as one clean line, and the secret in a URL reaches neither logs nor errors."""

import logging
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from stockwire.devstack.ports import free_port
from stockwire.devstack.receivers import ChatReceiver, SmtpSink
from stockwire.notifier.channels import (
    BODY_LIMITS,
    ChannelSpec,
    ChannelType,
    References,
    SendResult,
    SmtpConfig,
    render_for,
)
from stockwire.notifier.channels import send as send_on
from stockwire.notifier.rendering import RenderAlert, RenderRequest
from stockwire.notifier.settings import NotifierSettings

LINK = "https://stock.example.test/api/v1/balances?sku=ONT-4X"
ACK = "https://notifier.example.test/ack/signed-token"
ANYWHERE = References(env_prefix="", files_dir=Path("/"))
"""No restriction on where a URL is read from: these tests are about sending."""


async def send(*args: Any, **kwargs: Any) -> SendResult:
    return await send_on(*args, references=ANYWHERE, **kwargs)


def stockout(**changes) -> RenderAlert:
    fields = {
        "dedup_key": "stockout:VAN-12:ONT-4X",
        "kind": "stockout",
        "severity": "critical",
        "summary": "ONT-4X ran out at VAN-12",
        "raised_at": datetime(2026, 12, 2, 8, 30, tzinfo=UTC),
        "location": "VAN-12",
        "region": "north",
        "sku": "ONT-4X",
        "category": "ont",
        "labels": {"job_id": "JOB-77"},
        "figures": {"available": Decimal("0"), "requested": Decimal("2")},
        "link": LINK,
    }
    fields.update(changes)
    return RenderAlert(**fields)


def token() -> str:
    return "tok" + secrets.token_hex(12)


@pytest.fixture
async def chat():
    async with ChatReceiver() as receiver:
        yield receiver


@pytest.fixture
async def sink():
    async with SmtpSink() as server:
        yield server


@pytest.fixture
def smtp(sink) -> SmtpConfig:
    return SmtpConfig(host=sink.host, port=sink.port, sender="alerts@stockwire.test", timeout=5)


def chat_spec(kind: ChannelType = ChannelType.MATTERMOST, **target) -> ChannelSpec:
    return ChannelSpec(name="ops-chat", type=kind, **target)


NO_SMTP = SmtpConfig(host="127.0.0.1", port=1, sender="alerts@stockwire.test")


async def test_a_stockout_reaches_a_mattermost_webhook_readably(chat):
    # Given a Mattermost channel whose webhook is the local receiver
    secret = token()
    spec = chat_spec(url=chat.mattermost_url(secret))
    rendered = render_for(ChannelType.MATTERMOST, RenderRequest("alert", [stockout()], ACK))

    # When the stockout is sent
    result = await send(spec, rendered, [], NO_SMTP, None)

    # Then one Mattermost-shaped post arrived carrying the facts and both links
    assert result.ok, result.error
    assert result.error is None and result.latency_ms > 0
    [request] = await chat.wait_for(1)
    assert request.method == "POST"
    assert request.path == f"/hooks/{secret}"
    assert request.headers["content-type"] == "application/json"
    assert request.json["username"] == "Stockwire"
    text = request.text
    assert text.startswith("[CRITICAL] stockout: ONT-4X ran out at VAN-12")
    for fact in ("**Out of stock:** ONT-4X (ont) at VAN-12", "available **0**", LINK, ACK):
        assert fact in text


async def test_a_generic_json_webhook_gets_title_and_plain_text(chat):
    spec = chat_spec(ChannelType.JSON, url=chat.json_url("alerts/in"))
    rendered = render_for(ChannelType.JSON, RenderRequest("alert", [stockout(sku="CPE_*_X")]))

    result = await send(spec, rendered, [], NO_SMTP, None)

    assert result.ok, result.error
    [request] = await chat.wait_for(1)
    assert request.path == "/alerts/in"
    assert request.json["title"].startswith("[CRITICAL] stockout")
    assert request.json["type"] == "failure"
    # plain text: no markdown escapes in a generic webhook's message
    assert "SKU: CPE_*_X (ont)" in request.json["message"]


async def test_an_email_from_the_default_sender_is_sent(sink):
    # Given the SMTP settings a deployment gets when it names no sender
    default = NotifierSettings.model_fields["notifier_smtp_sender"].default
    smtp = SmtpConfig(host=sink.host, port=sink.port, sender=default, timeout=5)
    spec = ChannelSpec(name="ops-mail", type=ChannelType.EMAIL, recipients=("ops@example.test",))

    # When an alert is emailed
    result = await send(
        spec, render_for(ChannelType.EMAIL, RenderRequest("alert", [stockout()])), [], smtp, None
    )

    # Then it arrives from that sender
    assert result.ok, result.error
    [mail] = await sink.wait_for(1)
    assert mail.mail_from == default


async def test_an_email_has_text_and_html_parts_and_threads_its_follow_up(sink, smtp):
    # Given an email channel with default recipients
    spec = ChannelSpec(name="ops-mail", type=ChannelType.EMAIL, recipients=("ops@example.test",))
    first = render_for(ChannelType.EMAIL, RenderRequest("alert", [stockout()], ACK))

    # When the alert and then its resolution are sent, the resolution threaded to it
    sent = await send(spec, first, [], smtp, None)
    resolved = render_for(ChannelType.EMAIL, RenderRequest("resolved", [stockout()]))
    follow_up = await send(spec, resolved, ["lead@example.test"], smtp, sent.message_ref)

    # Then both arrived, multipart text + HTML, the second one replying to the first
    assert sent.ok and follow_up.ok, (sent.error, follow_up.error)
    original, reply = await sink.wait_for(2)
    assert original.rcpt_tos == ["ops@example.test"]
    assert reply.rcpt_tos == ["lead@example.test"]
    message = original.message
    assert message["Message-ID"] == sent.message_ref
    assert message["Subject"] == first.title
    assert message["From"] == "alerts@stockwire.test"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (plain, html):
        assert "VAN-12" in body and "ONT-4X" in body and "available" in body
    assert ACK in plain and f'href="{ACK}"' in html
    assert reply.message["In-Reply-To"] == sent.message_ref
    assert reply.message["References"] == sent.message_ref
    assert reply.message["Subject"].startswith("[RESOLVED]")
    assert follow_up.message_ref != sent.message_ref


async def test_an_email_without_recipients_fails_cleanly(smtp):
    spec = ChannelSpec(name="ops-mail", type=ChannelType.EMAIL)
    rendered = render_for(ChannelType.EMAIL, RenderRequest("test", []))
    result = await send(spec, rendered, [], smtp, None)
    assert not result.ok
    assert result.error == "email channel ops-mail has no recipients"


async def test_an_smtp_server_refusing_the_message_is_a_failed_send(sink, smtp):
    sink.fail_next(1)
    spec = ChannelSpec(name="ops-mail", type=ChannelType.EMAIL, recipients=("ops@example.test",))
    rendered = render_for(ChannelType.EMAIL, RenderRequest("alert", [stockout()]))

    refused = await send(spec, rendered, [], smtp, None)
    accepted = await send(spec, rendered, [], smtp, None)

    assert not refused.ok and "451" in refused.error and "\n" not in refused.error
    assert accepted.ok
    assert len(await sink.wait_for(1)) == 1


async def test_an_unreachable_smtp_server_is_a_failed_send_not_a_crash():
    spec = ChannelSpec(name="ops-mail", type=ChannelType.EMAIL, recipients=("ops@example.test",))
    dead = SmtpConfig(host="127.0.0.1", port=free_port(), sender="alerts@stockwire.test", timeout=2)
    password_holder = SmtpConfig(**{**dead.__dict__, "username": "u"})
    rendered = render_for(ChannelType.EMAIL, RenderRequest("alert", [stockout()]))
    for config in (dead, password_holder):
        result = await send(spec, rendered, [], config, None)
        assert not result.ok
        assert result.error and "\n" not in result.error


async def test_a_failing_receiver_gives_a_one_line_error_without_the_token(chat, caplog):
    # Given a receiver that fails the first post, and every log record captured at DEBUG
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="apprise")
    secret = token()
    spec = chat_spec(url=chat.mattermost_url(secret))
    rendered = render_for(ChannelType.MATTERMOST, RenderRequest("alert", [stockout()]))
    chat.fail_next(1, status=503)

    # When it is sent twice
    failed = await send(spec, rendered, [], NO_SMTP, None)
    delivered = await send(spec, rendered, [], NO_SMTP, None)

    # Then the failure is one line naming the service and status, without the token...
    assert not failed.ok
    assert "Mattermost" in failed.error and "503" in failed.error
    assert "\n" not in failed.error and secret not in failed.error
    assert delivered.ok
    assert [r.status for r in await chat.wait_for(2)] == [503, 200]
    # ...and no log line of either send holds it
    assert caplog.records, "the test must capture something to mean anything"
    for record in caplog.records:
        assert secret not in record.getMessage()
    assert secret not in caplog.text


async def test_an_unreachable_webhook_never_leaks_its_token_to_logs(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="apprise")
    secret = token()
    spec = chat_spec(ChannelType.JSON, url=f"json://127.0.0.1:{free_port()}/hooks/{secret}")
    rendered = render_for(ChannelType.JSON, RenderRequest("alert", [stockout()]))

    result = await send(spec, rendered, [], NO_SMTP, None)

    assert not result.ok
    assert secret not in result.error and "\n" not in result.error
    assert secret not in caplog.text


async def test_a_slow_receiver_times_out_within_the_bound():
    async with ChatReceiver(delay_s=5) as slow:
        spec = chat_spec(url=slow.mattermost_url(token()))
        rendered = render_for(ChannelType.MATTERMOST, RenderRequest("alert", [stockout()]))

        result = await send(spec, rendered, [], NO_SMTP, None, timeout_s=0.5)

        assert not result.ok
        assert "timed out" in result.error
        assert result.latency_ms < 2500


async def test_a_url_from_the_environment_is_read_at_send_time(chat, monkeypatch):
    secret = token()
    spec = chat_spec(url_env="SW_TEST_CHAT_URL")
    rendered = render_for(ChannelType.MATTERMOST, RenderRequest("test", []))

    missing = await send(spec, rendered, [], NO_SMTP, None)
    monkeypatch.setenv("SW_TEST_CHAT_URL", chat.mattermost_url(secret))
    found = await send(spec, rendered, [], NO_SMTP, None)

    assert not missing.ok
    assert missing.error == "environment variable SW_TEST_CHAT_URL is not set or empty"
    assert found.ok, found.error
    [request] = await chat.wait_for(1)
    assert request.path == f"/hooks/{secret}"


async def test_a_url_from_a_file_is_read_at_send_time(chat, tmp_path):
    secret = token()
    path = tmp_path / "chat-url"
    spec = chat_spec(url_file=str(path))
    rendered = render_for(ChannelType.MATTERMOST, RenderRequest("test", []))

    missing = await send(spec, rendered, [], NO_SMTP, None)
    path.write_text(chat.mattermost_url(secret) + "\n")
    found = await send(spec, rendered, [], NO_SMTP, None)
    path.write_text("   \n")
    empty = await send(spec, rendered, [], NO_SMTP, None)

    assert not missing.ok
    assert missing.error == f"cannot read {path}: No such file or directory"
    assert found.ok, found.error
    assert not empty.ok and empty.error == f"{path} is empty"
    assert [r.path for r in await chat.wait_for(1)] == [f"/hooks/{secret}"]


async def test_a_referenced_url_of_the_wrong_type_fails_without_showing_it(monkeypatch):
    secret = token()
    monkeypatch.setenv("SW_TEST_WRONG_URL", f"discord://{secret}/{secret}")
    spec = chat_spec(url_env="SW_TEST_WRONG_URL")
    rendered = render_for(ChannelType.MATTERMOST, RenderRequest("test", []))

    result = await send(spec, rendered, [], NO_SMTP, None)

    assert not result.ok
    assert "Discord URL, but the channel type is mattermost" in result.error
    assert secret not in result.error


async def test_an_oversized_digest_reaches_mattermost_under_its_limit_with_the_full_count(chat):
    alerts = [
        stockout(dedup_key=f"k{i}", location=f"VAN-{i}", summary=f"alert {i}", severity="warning")
        for i in range(1500)
    ]
    rendered = render_for(ChannelType.MATTERMOST, RenderRequest("digest", alerts, ACK))

    result = await send(chat_spec(url=chat.mattermost_url(token())), rendered, [], NO_SMTP, None)

    assert result.ok, result.error
    [request] = await chat.wait_for(1)
    assert len(rendered.markdown) <= BODY_LIMITS[ChannelType.MATTERMOST]
    assert len(request.text) <= 4000
    assert "Digest: 1500 alerts" in request.text
    assert "(1500 in all)" in request.text
    assert ACK in request.text
