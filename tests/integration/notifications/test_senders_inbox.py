"""The portal inbox sender (one row per delivery key, whatever the number of sends) and `open_senders`: the
channels a tenant has (SMTP and SMS when the service has them, the bots staff enabled, the inbox always, no
autocall without telephony), each working, all closed together."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace

import pytest
from sqlalchemy import text

from aquabill.channels.notify import close_senders, open_senders
from aquabill.channels.notify.inbox import InboxSender
from aquabill.devserver.fakes.sms_gateway import FakeSmsGateway
from aquabill.devserver.fakes.telegram_api import FakeTelegram
from aquabill.devserver.services import free_port
from aquabill.notifications.ports import Outgoing
from aquabill.platform.secret_box import SecretBox
from aquabill.tenants.context import tenant_transaction
from tests.conftest import with_settings
from tests.integration.billing_core.conftest import small_registry


async def registry_with_subscribers(conn, tenant=None) -> None:
    await small_registry(conn, tenant, 2)
    await conn.execute(text(
        "INSERT INTO subscribers(id, email, full_name, is_active) VALUES "
        "(1, 'one@mail.example', 'Абонент Один', true), (2, 'two@mail.example', 'Абонент Два', true), "
        "(3, 'off@mail.example', 'Отключённый', false)"))


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return (await make_tenant(seed=registry_with_subscribers)).tenant


def to_inbox(subscriber: int | str, key: str, *, account: int | None = 1, subject: str = "Отключение воды") -> Outgoing:
    return Outgoing(key=key, channel="inbox", address=str(subscriber), subject=subject,
                    text="12.03 с 9:00 до 17:00 не будет холодной воды.", account_id=account)


async def rows(core, tenant, sql: str, **params) -> list:
    async with tenant_transaction(core.engines, tenant) as conn:
        return list(await conn.execute(text(sql), params))


async def test_one_key_one_row_however_often_it_is_sent(core, tenant):
    key = f"5:{secrets.token_hex(4)}:inbox"
    sender = InboxSender(core.engines, tenant)
    try:
        first = await sender.send(to_inbox(1, key))
        again = await sender.send(to_inbox(1, key))
        together = await asyncio.gather(*(sender.send(to_inbox(1, key)) for _ in range(5)))
    finally:
        await sender.close()
    [row] = await rows(core, tenant, "SELECT id, subscriber_id, account_id, kind, title, body, read_at "
                                     "FROM subscriber_inbox WHERE dedupe_key = :k", k=key)
    assert (row.subscriber_id, row.account_id, row.kind, row.title, row.read_at) == \
        (1, 1, "notice", "Отключение воды", None)
    assert row.body == "12.03 с 9:00 до 17:00 не будет холодной воды."
    assert first.status == again.status == "delivered" and first.external_id == again.external_id == str(row.id)
    assert {(d.status, d.external_id) for d in together} == {("delivered", str(row.id))}


async def test_many_at_once_and_the_unreachable(core, tenant):
    tag = secrets.token_hex(4)
    sender = InboxSender(core.engines, tenant, batch=50)
    try:
        many = await asyncio.gather(*(sender.send(to_inbox(1 + n % 2, f"6:{tag}{n}:inbox")) for n in range(300)))
        unknown = await sender.send(to_inbox(999, f"6:{tag}x:inbox"))
        inactive = await sender.send(to_inbox(3, f"6:{tag}y:inbox"))
        no_account = await sender.send(to_inbox(2, f"6:{tag}z:inbox", account=424242, subject="Т" * 300))
        bad = await sender.send(to_inbox("abc", f"6:{tag}w:inbox"))
    finally:
        await sender.close()
    assert [d.status for d in many] == ["delivered"] * 300
    [(count,)] = await rows(core, tenant, "SELECT count(*) FROM subscriber_inbox WHERE dedupe_key LIKE :k",
                            k=f"6:{tag}%")
    assert count == 301
    assert unknown.status == inactive.status == bad.status == "failed"
    assert not (unknown.retry or inactive.retry or bad.retry)
    [row] = await rows(core, tenant, "SELECT account_id, title FROM subscriber_inbox WHERE dedupe_key = :k",
                       k=f"6:{tag}z:inbox")
    assert no_account.status == "delivered" and row.account_id is None and len(row.title) == 200


async def test_open_senders_gives_the_tenants_channels(core, settings, tenant):
    token = f"{secrets.randbelow(10**9) + 10**9}:{secrets.token_urlsafe(20)}"
    async with FakeTelegram() as telegram, FakeSmsGateway() as gateway:
        telegram.add_bot(token, "river_bot")
        async with tenant_transaction(core.engines, tenant) as conn:
            await conn.execute(text(
                "INSERT INTO bot_settings(channel, token_sealed, enabled, username) VALUES ('telegram', :t, true, "
                "'river_bot'), ('max', :t, false, '') ON CONFLICT (channel) DO UPDATE SET token_sealed = :t"),
                {"t": SecretBox(settings.secret_key).seal(token)})
        own = replace(core, settings=with_settings(
            settings, smtp_url=f"smtp://127.0.0.1:{free_port()}", sms_url=gateway.url,
            telegram_api_url=telegram.url))
        senders = await open_senders(own, tenant)
        try:
            assert sorted(senders) == ["email", "inbox", "sms", "telegram"]  # MAX disabled, no telephony
            assert all(s.channel == c for c, s in senders.items())
            sms = await senders["sms"].send(Outgoing("8:1:sms", "sms", "+79160000001", "", "Проверка"))
            chat = await senders["telegram"].send(Outgoing("8:1:telegram", "telegram", "4242", "", "Проверка"))
            mail = await senders["email"].send(Outgoing("8:1:email", "email", "a@mail.example", "Т", "Проверка"))
        finally:
            await close_senders(senders)
    assert sms.status == "sent" and [m.text for m in gateway.to("79160000001")] == ["Проверка"]
    assert chat.status == "sent" and [c.text for c in telegram.sent(token, chat_id=4242)] == ["Проверка"]
    assert mail.status == "failed" and mail.retry  # nothing listens at that SMTP port

    bare = replace(core, settings=with_settings(settings, smtp_url="", sms_url=""))
    async with tenant_transaction(core.engines, tenant) as conn:
        await conn.execute(text("UPDATE bot_settings SET enabled = false"))
    senders = await open_senders(bare, tenant)
    try:
        assert sorted(senders) == ["inbox"]
    finally:
        await close_senders(senders)
