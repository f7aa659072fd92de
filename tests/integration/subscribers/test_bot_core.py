"""The bot conversation through the core (no messenger): a real tenant database, the real services of links,
readings, balances, receipts and appeals. The tenant is the portal tests' (portal_seed.py): account ЛС1
owes 1 030,00 ₽ (receipt of March 2024), each account has one cold water meter."""

from __future__ import annotations

import secrets
from datetime import date

import pytest
from sqlalchemy import text

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.explain import explain_summary
from aquabill.subscribers.bot import BotEnv, BotEvent, PhotoRef, handle
from aquabill.subscribers.bot.types import MAX_PAYLOAD_BYTES
from aquabill.tenants.context import tenant_transaction
from tests.integration.subscribers.portal_seed import portal_registry

TODAY = date(2024, 3, 20)  # inside the default reading window (15–25)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(200)


@pytest.fixture
async def bot_tenant(make_tenant):
    return (await make_tenant(seed=portal_registry)).tenant


class Chat:
    """One messenger chat talking to the core: each call is one update in its own transaction."""

    def __init__(self, core, tenant, channel: str = "telegram", *, today: date = TODAY, photos=None) -> None:
        self.core, self.tenant, self.channel, self.today = core, tenant, channel, today
        self.key = str(secrets.randbelow(10**9) + 1)
        self.n = 0
        self.photos = photos or {}
        self.last = None

    def env(self) -> BotEnv:
        async def fetch(ref: PhotoRef) -> bytes:
            return self.photos[ref.ref]

        return BotEnv(today=self.today, tenant_slug=self.tenant.slug, tenant_name=self.tenant.name,
                      base_url="https://bill.example.ru", pay_secret="s3cret", fetch_photo=fetch)

    async def send(self, *, update_key: str | None = None, **kw):
        self.n += 1
        event = BotEvent(self.channel, self.key, update_key or f"u{self.key}-{self.n}", name="Иван Петров", **kw)
        async with tenant_transaction(self.core.engines, self.tenant) as conn:
            out = await handle(conn, event, self.env())
        for reply in out.replies:
            assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES for p in reply.payloads())
        self.last = out
        return out

    async def text(self, value: str):
        return (await self.send(text=value)).replies[-1]

    async def press(self, payload: str):
        return (await self.send(payload=payload)).replies[-1]

    async def row(self, sql: str, **params):
        async with tenant_transaction(self.core.engines, self.tenant) as conn:
            return (await conn.execute(text(sql), {"k": self.key, **params})).first()


async def linked(chat: Chat, number: str = "ЛС1", check: str = "1030,00"):
    await chat.text("/start")
    await chat.press("link")
    await chat.text(number)
    return await chat.text(check)


async def test_first_contact_creates_a_subscriber_and_shows_the_menu(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    reply = await chat.text("/start")
    assert reply.text.startswith(f"Здравствуйте! Это бот «{bot_tenant.name}»")
    assert "привяжите лицевой счёт" in reply.text
    assert reply.payloads() == ["link", "ap", "nt:on"]
    row = await chat.row("SELECT s.created_via, s.preferred_channel, s.email, s.phone, s.full_name "
                         "FROM bot_chats c JOIN subscribers s ON s.id = c.subscriber_id "
                         "WHERE c.channel = 'telegram' AND c.chat_key = :k")
    assert tuple(row) == ("telegram", "telegram", None, None, "Иван Петров")


async def test_linking_an_account_by_the_receipt_amount(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    await chat.text("/start")
    assert (await chat.press("link")).text == "Введите номер лицевого счёта (он есть в квитанции)."
    assert "сумму из последней квитанции" in (await chat.text("ЛС1")).text
    reply = await chat.text("1030,00")
    assert reply.text.startswith("Готово! Лицевой счёт ЛС1 привязан: ")
    assert reply.payloads() == ["bal", "rd", "rc", "pay", "ap", "accs", "nt:on"]
    row = await chat.row("SELECT l.created_via FROM subscriber_links l JOIN bot_chats c "
                         "ON c.subscriber_id = l.subscriber_id WHERE c.chat_key = :k AND l.revoked_at IS NULL")
    assert row.created_via == "telegram"


async def test_a_wrong_check_value_asks_for_the_number_again(core, bot_tenant):
    chat = Chat(core, bot_tenant, "max")
    reply = await linked(chat, check="999,99")
    assert reply.text == ("Лицевой счёт или проверочное значение не подходят. "
                          "Попробуйте ещё раз: введите номер лицевого счёта.")
    assert "сумму из последней квитанции" in (await chat.text("ЛС1")).text  # back at the number step
    assert (await chat.text("1030")).text.startswith("Готово! Лицевой счёт ЛС1 привязан")


async def test_balance_with_the_pay_link_and_the_explanation_button(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    await linked(chat)
    reply = await chat.press("bal")
    assert "К оплате: 1\u202f030,00 ₽" in reply.text
    assert "• Холодное водоснабжение — 520,00 ₽" in reply.text
    account_id = (await chat.row("SELECT id FROM accounts WHERE number = 'ЛС1'")).id
    [url] = [b.url for row in reply.buttons for b in row if b.url]
    assert url.startswith("https://bill.example.ru/pay/")
    assert f"why:{account_id}:2024-03" in reply.payloads()


async def test_why_this_amount_is_the_charges_explanation(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    await linked(chat)
    account_id = (await chat.row("SELECT id FROM accounts WHERE number = 'ЛС1'")).id
    reply = await chat.press(f"why:{account_id}:2024-03")
    async with tenant_transaction(core.engines, bot_tenant) as conn:
        expected = await explain_summary(conn, account_id, Period(2024, 3))
    assert expected and reply.text == expected and reply.payloads() == ["menu"]
    other = (await chat.row("SELECT id FROM accounts WHERE number = 'ЛС2'")).id
    refused = await chat.press(f"why:{other}:2024-03")  # not linked: the same as no such account
    assert refused.text.startswith("Лицевой счёт не найден")


async def test_pay_and_receipt(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    await linked(chat)
    pay = await chat.press("pay")
    assert pay.text.startswith("Оплата по лицевому счёту ЛС1: к оплате 1\u202f030,00 ₽")
    receipt = await chat.press("rc")
    assert receipt.text.startswith("Квитанция за март 2024, лицевой счёт ЛС1")
    assert "К оплате: 1\u202f030,00 ₽" in receipt.text
    assert receipt.document is not None and receipt.document.mime_type == "text/html"
    assert "Квитанция за март 2024" in receipt.document.content.decode()


async def test_readings_meter_by_meter_with_plain_answers(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    await linked(chat)
    ask = await chat.press("rd")
    assert "№ ХВ-101" in ask.text and "Прошлое показание: нет" in ask.text
    assert ask.payloads() == ["skip", "cancel"]
    retry = await chat.text("много")
    assert "не является числом" in retry.text and retry.text.endswith("Введите показание ещё раз или нажмите «Пропустить».")
    done = await chat.text("15,5")
    assert "Показание 15,5 по счётчику № ХВ-101 (холодное водоснабжение) принято." in done.text
    assert "Спасибо! Показания переданы." in done.text
    row = await chat.row("SELECT r.value, r.source, r.status FROM readings r JOIN meters m ON m.id = r.meter_id "
                         "WHERE m.serial = 'ХВ-101'")
    assert (str(row.value), row.source, row.status) == ("15.500", "bot", "accepted")


async def test_a_meter_photo_is_kept_with_the_reading(core, bot_tenant):
    chat = Chat(core, bot_tenant, photos={"ph-1": JPEG})
    await linked(chat)
    await chat.press("rd")
    kept = (await chat.send(photo=PhotoRef("ph-1"))).replies[-1]
    assert kept.text == "Фото получено. Теперь введите показание цифрами."
    assert "принято" in (await chat.text("16")).text
    row = await chat.row("SELECT ph.content_type, ph.size FROM reading_photos ph JOIN readings r "
                         "ON r.id = ph.reading_id JOIN meters m ON m.id = r.meter_id WHERE m.serial = 'ХВ-101'")
    assert tuple(row) == ("image/jpeg", len(JPEG))


async def test_readings_outside_the_window_are_refused_plainly(core, bot_tenant):
    chat = Chat(core, bot_tenant, today=date(2024, 3, 5))
    await linked(chat)
    reply = await chat.press("rd")
    assert reply.text == ("Показания принимаются с 15 по 25 число месяца. "
                          "Сегодня 5 марта — передайте показания с 15 марта.")


async def test_an_appeal_lands_in_the_journal(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    await linked(chat)
    assert (await chat.press("ap")).text.startswith("Опишите ваш вопрос")
    out = await chat.send(text="Течёт кран в подвале\nПросим прислать слесаря")
    assert out.replies[-1].text.startswith("Обращение № О-")
    [(name, data)] = out.events
    assert name == "appeal.created" and data["source"] == "bot" and data["account_number"] == "ЛС1"
    row = await chat.row("SELECT a.source, a.subject, a.text, a.subscriber_id = c.subscriber_id AS mine "
                         "FROM appeals a, bot_chats c WHERE c.chat_key = :k AND a.id = :id", id=data["id"])
    assert tuple(row) == ("bot", "Течёт кран в подвале", "Течёт кран в подвале\nПросим прислать слесаря", True)


async def test_notifications_opt_in_and_out(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    await chat.text("/start")
    on = await chat.press("nt:on")
    assert on.text.startswith("Уведомления включены") and "nt:off" in on.payloads()
    assert (await chat.row("SELECT notify FROM bot_chats WHERE chat_key = :k")).notify is True
    off = await chat.press("nt:off")
    assert off.text.startswith("Уведомления выключены") and "nt:on" in off.payloads()
    assert (await chat.row("SELECT notify FROM bot_chats WHERE chat_key = :k")).notify is False


async def test_a_repeated_update_is_answered_once(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    first = await chat.send(text="/start", update_key="dup-1")
    again = await chat.send(text="/start", update_key="dup-1")
    assert len(first.replies) == 1 and again.duplicate and again.replies == []
    assert (await chat.row("SELECT count(*) AS n FROM bot_updates WHERE update_key = 'dup-1'")).n == 1


async def test_several_accounts_are_chosen_by_a_button(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    await linked(chat)
    async with tenant_transaction(core.engines, bot_tenant) as conn:
        await conn.execute(text("UPDATE billing_settings SET value = '\"surname\"' WHERE key = 'portal_link_check'"))
    await chat.press("link")
    assert (await chat.text("ЛС2")).text == "Теперь введите первые три буквы фамилии владельца счёта."
    assert (await chat.text("Або")).text.startswith("Готово! Лицевой счёт ЛС2 привязан")
    choose = await chat.press("bal")
    ids = {r.number: r.id for r in [await chat.row("SELECT id, number FROM accounts WHERE number = :n", n=n)
                                    for n in ("ЛС1", "ЛС2")]}
    assert choose.text == "Выберите лицевой счёт:"
    assert choose.payloads() == [f"bal:{ids['ЛС1']}", f"bal:{ids['ЛС2']}", "menu"]
    assert "Долга нет" in (await chat.press(f"bal:{ids['ЛС2']}")).text


async def test_anything_unexpected_answers_with_the_menu(core, bot_tenant):
    chat = Chat(core, bot_tenant)
    await chat.text("/start")
    reply = await chat.text("привет")
    assert reply.text.startswith("Не понял вас.") and reply.payloads()[0] == "link"
    assert (await chat.press("bal:abc")).text.startswith("У вас пока нет привязанных лицевых счетов.")
    assert (await chat.press("zzz")).text.startswith("Не понял вас.")
