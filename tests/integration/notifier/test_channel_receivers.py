"""The local receivers other tests rely on: they record what arrives, fail on request and
survive malformed input, so a test that uses them fails for the notifier's reasons only."""

import asyncio
import smtplib
from email.message import EmailMessage

import httpx
import pytest

from stockwire.devstack.receivers import MAX_BODY, ChatReceiver, SmtpSink


async def test_the_chat_receiver_records_each_request_and_fails_on_request():
    async with ChatReceiver() as chat, httpx.AsyncClient(base_url=chat.base_url) as client:
        chat.fail_next(2, status=502)
        statuses = [
            (await client.post("/hooks/abc", json={"text": f"n{i}", "username": "x"})).status_code
            for i in range(3)
        ]
        recorded = await chat.wait_for(3)

    assert statuses == [502, 502, 200]
    assert [r.status for r in recorded] == statuses
    assert [r.text for r in recorded] == ["n0", "n1", "n2"]
    assert [r.text for r in chat.delivered] == ["n2"]
    assert recorded[0].headers["content-type"] == "application/json"
    assert recorded[0].received_at <= recorded[2].received_at


async def test_the_chat_receiver_takes_chunked_and_non_json_bodies():
    async def chunks():
        yield b'{"message": '
        yield b'"chunked"}'

    async with ChatReceiver() as chat, httpx.AsyncClient(base_url=chat.base_url) as client:
        await client.post("/a", content=chunks())
        await client.post("/b", content=b"not json")
        first, second = await chat.wait_for(2)

    assert first.text == "chunked"
    assert second.json is None and second.text is None and second.body == b"not json"


async def test_the_chat_receiver_answers_malformed_and_oversized_requests_without_recording():
    async with ChatReceiver() as chat:
        for raw in (
            b"GARBAGE\r\n\r\n",
            b"POST /x HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
            b"POST /x HTTP/1.1\r\nbroken header\r\n\r\n",
            f"POST /x HTTP/1.1\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode(),
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", chat.port)
            writer.write(raw)
            await writer.drain()
            answer = await reader.read()
            writer.close()
            assert answer.split(b" ")[1] in (b"400", b"413"), answer
        reader, writer = await asyncio.open_connection("127.0.0.1", chat.port)
        writer.close()
        async with httpx.AsyncClient(base_url=chat.base_url) as client:
            assert (await client.post("/ok", json={"text": "still up"})).status_code == 200

    assert [r.text for r in chat.requests] == ["still up"]


async def test_waiting_for_more_than_arrived_says_how_many_did():
    async with ChatReceiver() as chat:
        with pytest.raises(TimeoutError, match=r"0 of 1 requests arrived in 0\.1 s"):
            await chat.wait_for(1, within_s=0.1)


def _mail(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "a@x.test"
    message["To"] = "b@x.test"
    message.set_content("body")
    return message


async def test_the_smtp_sink_records_parsed_messages_and_fails_on_request():
    async with SmtpSink() as sink:
        sink.fail_next(1)

        def deliver() -> list[str]:
            outcomes = []
            for subject in ("refused", "accepted"):
                with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
                    try:
                        client.send_message(_mail(subject))
                        outcomes.append("ok")
                    except smtplib.SMTPDataError as error:
                        outcomes.append(str(error.smtp_code))
            return outcomes

        outcomes = await asyncio.to_thread(deliver)
        [mail] = await sink.wait_for(1)

    assert outcomes == ["451", "ok"]
    assert mail.message["Subject"] == "accepted"
    assert mail.mail_from == "a@x.test" and mail.rcpt_tos == ["b@x.test"]
    assert mail.message.get_content().strip() == "body"
