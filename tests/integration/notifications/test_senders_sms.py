"""The SMS notice sender against the local SMS.ru fake (devserver/fakes/sms_gateway.py, SMS.ru's HTTP API):
messages arrive with their text, concurrent ones in batched requests (`multi[<number>]`), parts counted, a
wrong number refused alone, the gateway's refusals mapped to failed or retry, no gateway → retry."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from aquabill.channels.notify.sms import SmsSender
from aquabill.devserver.fakes.sms_gateway import FakeSmsGateway
from aquabill.devserver.services import free_port
from aquabill.notifications.ports import Outgoing


@pytest.fixture
async def gateway():
    async with FakeSmsGateway() as fake:
        yield fake


def phone() -> str:
    return f"+7916{secrets.randbelow(10**7):07d}"


def sms(to: str, text: str = "Водоканал: плановое отключение воды 12.03 с 9 до 17.") -> Outgoing:
    return Outgoing(key=f"9:{secrets.token_hex(4)}:sms", channel="sms", address=to, subject="", text=text)


async def test_a_message_arrives_with_its_text_and_parts(gateway):
    sender = SmsSender.from_url(gateway.url)
    to = phone()
    long_text = "Уважаемый абонент! " * 5  # 95 Cyrillic characters: two parts
    try:
        short = await sender.send(sms(to))
        long = await sender.send(sms(to, long_text))
    finally:
        await sender.close()
    assert short.status == "sent" and short.external_id and short.parts == 1 and not short.retry
    assert long.status == "sent" and long.parts == 2
    assert [m.text for m in gateway.to(to)] == ["Водоканал: плановое отключение воды 12.03 с 9 до 17.", long_text]


async def test_concurrent_messages_go_in_batches_each_with_its_own_text(gateway):
    sender = SmsSender.from_url(gateway.url, workers=2)
    messages = [sms(phone(), f"Долг по лицевому счёту {n}: {n},00 руб.") for n in range(250)]
    try:
        results = await asyncio.gather(*(sender.send(m) for m in messages))
    finally:
        await sender.close()
    assert [r.status for r in results] == ["sent"] * 250
    assert len({r.external_id for r in results}) == 250
    assert gateway.received == 250 and not gateway.duplicates()
    assert {(m.phone, m.text) for m in gateway.messages} == {(m.address[1:], m.text) for m in messages}
    assert gateway.requests < 250 / 4  # batched (up to 100 a request), not one request a message


async def test_two_messages_to_one_number_are_not_merged(gateway):
    sender = SmsSender.from_url(gateway.url)
    to = phone()
    try:
        results = await asyncio.gather(sender.send(sms(to, "Первое")), sender.send(sms(to, "Второе")))
    finally:
        await sender.close()
    assert [r.status for r in results] == ["sent", "sent"]
    assert sorted(m.text for m in gateway.to(to)) == ["Второе", "Первое"]


async def test_a_wrong_number_is_refused_alone(gateway):
    sender = SmsSender.from_url(gateway.url)
    good = [phone() for _ in range(5)]
    try:
        results = await asyncio.gather(*(sender.send(sms(p)) for p in [*good[:2], "+3801234567890", *good[2:]]))
        local = await sender.send(sms("12-34"))
    finally:
        await sender.close()
    assert [r.status for r in results] == ["sent", "sent", "failed", "sent", "sent", "sent"]
    assert not results[2].retry and "202" in results[2].detail
    assert local.status == "failed" and not local.retry and gateway.received == 5


@pytest.mark.parametrize("code, retry", [(220, True), (201, True), (206, True), (204, False), (302, False)])
async def test_the_gateways_refusals_are_failed_or_retried(gateway, code, retry):
    gateway.fail_with = code
    sender = SmsSender.from_url(gateway.url)
    try:
        result = await sender.send(sms(phone()))
    finally:
        await sender.close()
    assert result.status == "failed" and result.retry is retry and f"код {code}" in result.detail


async def test_a_wrong_key_fails_and_no_gateway_is_a_retry(gateway):
    wrong = SmsSender.from_url(gateway.url.replace(gateway.api_id, "wrong-key"))
    absent = SmsSender.from_url(f"http://127.0.0.1:{free_port()}/?api_id=x")
    try:
        refused = await wrong.send(sms(phone()))
        down = await absent.send(sms(phone()))
    finally:
        await wrong.close()
        await absent.close()
    assert refused.status == "failed" and not refused.retry and "200" in refused.detail
    assert down.status == "failed" and down.retry and "Нет связи" in down.detail
    assert gateway.received == 0


async def test_the_fake_counts_a_resend_as_a_duplicate(gateway):
    """SMS.ru takes no idempotency key: a message sent again after a lost answer arrives twice; the fake
    counts it (what the campaign benchmark checks)."""
    sender = SmsSender.from_url(gateway.url)
    message = sms(phone(), "Повтор")
    try:
        await sender.send(message)
        await sender.send(message)
    finally:
        await sender.close()
    assert gateway.duplicates() == {(message.address[1:], "Повтор"): 2}
