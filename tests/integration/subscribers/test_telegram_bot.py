"""The Telegram bot end to end: the real python-telegram-bot `Application` of the service, behind its webhook
route, against a local fake of the Bot API that delivers updates over HTTP (with the secret header) and
records what the bot sends. Staff enable the bot through the settings API, which sets the webhook."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from aquabill.channels.bots.service import Conversations
from aquabill.channels.telegram.setup import poll
from aquabill.devserver.fakes.telegram_api import Call
from tests.integration.subscribers.bot_support import JPEG, enable_bot, scalar, settle, start_service
from tests.unit.print.scan import text as pdf_text


@pytest.fixture(scope="module")
async def service(settings, core):
    service = await start_service(settings)
    yield service
    await service.close()


@pytest.fixture(scope="module")
async def bot(service, make_tenant):
    handle, token = await enable_bot(service, make_tenant, "telegram")
    return handle, token


class Dialog:
    """One user's private chat with the tenant's bot through the fake Telegram."""

    def __init__(self, service, token: str) -> None:
        self.fake, self.token = service.telegram, token
        self.chat = secrets.randbelow(10**9) + 1

    def replies(self) -> list[Call]:
        return self.fake.sent(self.token, self.chat)

    async def deliver(self, update: dict, *, expect: int = 1) -> list[Call]:
        before = len(self.replies())
        assert await self.fake.inject(self.token, update) == 200
        if expect == 0:
            await settle()
            return []
        return (await self.fake.wait_for(lambda c: c.token == self.token and c.chat_id == self.chat
                                         and c.method in ("sendMessage", "sendDocument"), count=before + expect))[before:]

    async def text(self, value: str) -> Call:
        return (await self.deliver(self.fake.message(self.chat, value)))[-1]

    async def press(self, data: str) -> Call:
        return (await self.deliver(self.fake.callback(self.chat, data)))[-1]


async def link(d: Dialog) -> Call:
    await d.text("/start")
    await d.press("link")
    await d.text("ЛС1")
    return await d.text("1030,00")


async def test_enabling_sets_the_webhook_with_a_secret(service, bot):
    handle, token = bot
    fake_bot = service.telegram.bots[token]
    assert fake_bot.webhook_url == f"{service.url}/bots/telegram/{handle.tenant.slug}"
    assert len(fake_bot.secret_token) >= 32
    r = await service.http.get("/api/bots", headers=handle.headers)
    telegram = next(b for b in r.json()["items"] if b["channel"] == "telegram")
    assert {k: telegram[k] for k in ("enabled", "token_set", "username", "last_error")} == {
        "enabled": True, "token_set": True, "username": f"{handle.tenant.slug}_bot", "last_error": ""}
    assert token not in r.text
    core = service.app.state.core
    sealed = await scalar(core, handle.tenant, "SELECT token_sealed FROM bot_settings")
    assert token not in sealed
    logged = await scalar(core, handle.tenant, "SELECT array_agg(DISTINCT k) FROM audit_log, "
                          "jsonb_object_keys(new_row) k WHERE table_name = 'bot_settings'")
    assert "enabled" in logged and "token_sealed" not in logged and "webhook_secret_hash" not in logged
    page = await service.http.get("/bots", headers=handle.headers)
    assert page.status_code == 200 and f"@{handle.tenant.slug}_bot" in page.text


async def test_start_shows_the_menu(service, bot):
    d = Dialog(service, bot[1])
    reply = await d.text("/start")
    assert reply.text.startswith("Здравствуйте! Это бот «")
    assert reply.payloads() == ["link", "ap", "nt:on"]


async def test_link_balance_and_readings_meter_by_meter(service, bot):
    d = Dialog(service, bot[1])
    linked = await link(d)
    assert linked.text.startswith("Готово! Лицевой счёт ЛС1 привязан")
    press = service.telegram.callback(d.chat, "bal")
    [balance] = await d.deliver(press)
    assert "К оплате: 1\u202f030,00 ₽" in balance.text
    [pay_url] = [u for u in balance.urls() if u.startswith(f"{service.url}/pay/")]
    pay_page = await service.http.get(pay_url)  # the link opens the public payment page of that account
    assert pay_page.status_code == 200 and "ЛС1" in pay_page.text
    answered = [c for c in service.telegram.calls if c.method == "answerCallbackQuery"
                and c.params.get("callback_query_id") == press["callback_query"]["id"]]
    assert len(answered) == 1  # every press is answered (in the webhook's response)
    first = await d.press("rd")
    assert "Счётчик 1 из 2: Холодное водоснабжение, № ХВ-101." in first.text
    second = await d.text("20,5")
    assert "Показание 20,5 по счётчику № ХВ-101 (холодное водоснабжение) принято." in second.text
    assert "Счётчик 2 из 2: Горячее водоснабжение" in second.text and "№ ГВ-102" in second.text
    done = await d.text("8")
    assert "по счётчику № ГВ-102" in done.text and "Спасибо! Показания переданы." in done.text
    assert done.payloads()[0] == "bal"  # back at the menu


async def test_a_meter_photo_is_fetched_with_get_file(service, bot):
    handle, token = bot
    service.telegram.add_file("photo-1", JPEG)
    d = Dialog(service, token)
    await link(d)
    await d.press("rd")
    [reply] = await d.deliver(service.telegram.photo(d.chat, "photo-1", caption="30"))
    assert "Показание 30 по счётчику № ХВ-101" in reply.text
    assert any(c.method == "getFile" and c.params.get("file_id") == "photo-1" for c in service.telegram.calls)
    size = await scalar(service.app.state.core, handle.tenant,
                        "SELECT ph.size FROM reading_photos ph JOIN readings r ON r.id = ph.reading_id "
                        "WHERE r.value = 30 AND r.source = 'bot'")
    assert size == len(JPEG)


async def test_the_receipt_goes_as_a_document(service, bot, tmp_path):
    d = Dialog(service, bot[1])
    await link(d)
    doc = await d.press("rc")
    assert doc.method == "sendDocument" and doc.text.startswith("Квитанция за март 2024")
    [(filename, content)] = doc.files.values()
    # the PDF the portal gives (platform/printing/receipt_files.py), its text read back by pdftotext
    assert filename.endswith(".pdf") and content.startswith(b"%PDF-")
    words = " ".join(pdf_text(content, tmp_path).split())
    assert "Итого к оплате" in words and "1 030,00 ₽" in words.replace("\u202f", " ").replace("\u00a0", " ")


async def test_webhook_refusals(service, bot):
    handle, token = bot
    d = Dialog(service, token)
    url = f"/bots/telegram/{handle.tenant.slug}"
    update = service.telegram.message(d.chat, "/start")
    assert await service.telegram.inject(token, update, secret="wrong") == 403
    assert (await service.http.post(url, json=update)).status_code == 403  # no secret at all
    secret = {"X-Telegram-Bot-Api-Secret-Token": service.telegram.bots[token].secret_token}
    assert (await service.http.post("/bots/telegram/nosuchtenant", json=update, headers=secret)).status_code == 404
    assert (await service.http.post("/bots/telegram/Bad_Slug!", json=update, headers=secret)).status_code == 404
    assert (await service.http.post(url, content=b"{not json", headers=secret)).status_code == 400
    assert (await service.http.post(url, json={"hello": 1}, headers=secret)).status_code == 200
    assert (await service.http.post(url, json={"update_id": 5, "message": "x"}, headers=secret)).status_code == 200
    await settle()
    assert d.replies() == []


async def test_the_same_update_twice_gets_one_reply(service, bot):
    d = Dialog(service, bot[1])
    update = service.telegram.message(d.chat, "/start")
    await d.deliver(update)
    await d.deliver(update, expect=0)
    assert len(d.replies()) == 1


async def test_429_is_retried_after_retry_after(service, bot):
    d = Dialog(service, bot[1])
    await d.text("/start")
    service.telegram.throttle(bot[1], "sendMessage", retry_after=1)
    before = len(service.telegram.throttled)
    reply = await d.press("link")  # a press's reply is the bot's own request: the pacer waits and retries
    assert reply.text
    assert service.telegram.throttled[before:] == [(bot[1], "sendMessage")]


async def test_a_text_message_is_answered_in_the_webhook_response(service, bot):
    handle, token = bot
    chat = secrets.randbelow(10**9) + 1
    headers = {"X-Telegram-Bot-Api-Secret-Token": service.telegram.bots[token].secret_token}
    url = f"/bots/telegram/{handle.tenant.slug}"
    r = await service.http.post(url, json=service.telegram.message(chat, "/start"), headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert (body["method"], body["chat_id"]) == ("sendMessage", chat)
    assert body["text"].startswith("Здравствуйте!")
    assert body["reply_markup"]["inline_keyboard"]  # the menu's buttons
    # three more at once: the chat's burst (3) is spent, so the fourth reply waits for its slot and goes
    # through the bot's own request instead of the response
    bodies = []
    for _ in range(3):
        r = await service.http.post(url, json=service.telegram.message(chat, "/start"), headers=headers)
        bodies.append(r.json())
    assert [b.get("method") for b in bodies] == ["sendMessage", "sendMessage", None]
    await service.telegram.wait_for(lambda c: c.token == token and c.chat_id == chat and c.method == "sendMessage")


async def test_a_restart_keeps_the_conversation(service, bot):
    d = Dialog(service, bot[1])
    await d.text("/start")
    await d.press("link")
    await d.text("ЛС1")
    await service.restart_bots()  # a new Application from here on
    assert (await d.text("1030,00")).text.startswith("Готово! Лицевой счёт ЛС1 привязан")


async def test_disabling_removes_the_webhook_and_the_route(service, make_tenant):
    handle, token = await enable_bot(service, make_tenant, "telegram")
    secret = {"X-Telegram-Bot-Api-Secret-Token": service.telegram.bots[token].secret_token}
    r = await service.http.put("/api/bots/telegram", json={"enabled": False}, headers=handle.headers)
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert service.telegram.bots[token].webhook_url == ""
    update = service.telegram.message(1, "/start")
    assert (await service.http.post(f"/bots/telegram/{handle.tenant.slug}", json=update,
                                    headers=secret)).status_code == 404


async def test_long_polling_for_development(service, make_tenant, core):
    handle = await make_tenant()
    token = f"{secrets.randbelow(10**9) + 10**9}:dev"
    service.telegram.add_bot(token)
    settings = service.app.state.core.settings
    stop = asyncio.Event()
    conversations = Conversations(core)
    polling = asyncio.create_task(poll(settings, conversations, handle.tenant, token, stop))
    try:
        await service.telegram.inject(token, service.telegram.message(77, "/start"))  # queued for getUpdates
        [reply] = await service.telegram.wait_for(lambda c: c.token == token and c.method == "sendMessage")
        assert reply.chat_id == 77 and reply.text.startswith("Здравствуйте!")
        assert any(c.token == token and c.method == "deleteWebhook" for c in service.telegram.calls)
    finally:
        stop.set()
        await polling
        await conversations.close()
