"""The MAX bot end to end: the service's MAX adapter (httpx) behind its webhook route, against a local fake of
the documented MAX Bot API endpoints that delivers updates with `X-Max-Bot-Api-Secret` and records what the
bot sends. Staff enable the bot through the settings API, which subscribes the webhook."""

from __future__ import annotations

import secrets

import pytest

from aquabill.devserver.fakes.max_api import MaxCall
from tests.integration.subscribers.bot_support import JPEG, enable_bot, scalar, settle, start_service
from tests.unit.print.scan import text as pdf_text


@pytest.fixture(scope="module")
async def service(settings, core):
    service = await start_service(settings)
    yield service
    await service.close()


@pytest.fixture(scope="module")
async def bot(service, make_tenant):
    return await enable_bot(service, make_tenant, "max")


class Dialog:
    def __init__(self, service, token: str) -> None:
        self.fake, self.token = service.max, token
        self.user = secrets.randbelow(10**9) + 1

    def replies(self) -> list[MaxCall]:
        return self.fake.sent(self.token, self.user)

    async def deliver(self, update: dict, *, expect: int = 1) -> list[MaxCall]:
        before = len(self.replies())
        assert await self.fake.inject(self.token, update) == 200
        if expect == 0:
            await settle()
            return []
        return (await self.fake.wait_for(
            lambda c: c.token == self.token and c.user_id == self.user and c.method == "POST"
            and (c.path == "/messages" or c.path == "/answers" and bool(c.message)), count=before + expect))[before:]

    async def text(self, value: str) -> MaxCall:
        return (await self.deliver(self.fake.message(self.token, self.user, value)))[-1]

    async def press(self, payload: str, expect: int = 1) -> MaxCall:
        return (await self.deliver(self.fake.callback(self.token, self.user, payload), expect=expect))[-1]


async def link(d: Dialog) -> MaxCall:
    await d.deliver(d.fake.started(d.token, d.user))
    await d.press("link")
    await d.text("ЛС1")
    return await d.text("1030,00")


async def test_enabling_subscribes_the_webhook_with_a_secret(service, bot):
    handle, token = bot
    [(url, sub)] = service.max.bots[token].subscriptions.items()
    assert url == f"{service.url}/bots/max/{handle.tenant.slug}"
    assert len(sub["secret"]) >= 32 and sub["update_types"] == ["message_created", "message_callback", "bot_started"]
    r = await service.http.get("/api/bots", headers=handle.headers)
    view = next(b for b in r.json()["items"] if b["channel"] == "max")
    assert (view["enabled"], view["username"]) == (True, f"{handle.tenant.slug}_bot")


async def test_start_shows_the_menu(service, bot):
    d = Dialog(service, bot[1])
    [reply] = await d.deliver(service.max.started(bot[1], d.user))
    assert reply.path == "/messages" and reply.text.startswith("Здравствуйте! Это бот «")
    assert reply.payloads() == ["link", "ap", "nt:on"]


async def test_link_balance_and_readings_meter_by_meter(service, bot):
    d = Dialog(service, bot[1])
    assert (await link(d)).text.startswith("Готово! Лицевой счёт ЛС1 привязан")
    balance = await d.press("bal")
    assert balance.path == "/answers" and "К оплате: 1\u202f030,00 ₽" in balance.text  # replaces the pressed menu
    assert any(u.startswith(f"{service.url}/pay/") for u in balance.urls())
    first = await d.press("rd")
    assert "Счётчик 1 из 2: Холодное водоснабжение, № ХВ-101." in first.text
    second = await d.text("21")
    assert "Показание 21 по счётчику № ХВ-101" in second.text and "№ ГВ-102" in second.text
    done = await d.text("9,5")
    assert "Спасибо! Показания переданы." in done.text


async def test_a_meter_photo_is_downloaded_from_its_url(service, bot):
    handle, token = bot
    d = Dialog(service, token)
    await link(d)
    await d.press("rd")
    url = service.max.add_file(f"p{d.user}.jpg", JPEG)
    [reply] = await d.deliver(service.max.image(token, d.user, url, caption="31"))
    assert "Показание 31 по счётчику № ХВ-101" in reply.text
    size = await scalar(service.app.state.core, handle.tenant,
                        "SELECT ph.size FROM reading_photos ph JOIN readings r ON r.id = ph.reading_id "
                        "WHERE r.value = 31 AND r.source = 'bot'")
    assert size == len(JPEG)


async def test_the_receipt_file_is_uploaded(service, bot, tmp_path):
    d = Dialog(service, bot[1])
    await link(d)
    sent = await d.press("rc")  # the press is answered with a toast, the receipt comes as a new message
    assert sent.path == "/messages" and sent.text.startswith("Квитанция за март 2024")
    [token] = [a["payload"]["token"] for a in sent.message["attachments"] if a["type"] == "file"]
    filename, content = service.max.uploads[token]
    # the PDF the portal gives (platform/printing/receipt_files.py), its text read back by pdftotext
    assert filename.endswith(".pdf") and content.startswith(b"%PDF-")
    words = " ".join(pdf_text(content, tmp_path).split())
    assert "Итого к оплате" in words and "1 030,00 ₽" in words.replace("\u202f", " ").replace("\u00a0", " ")


async def test_webhook_refusals(service, bot):
    handle, token = bot
    d = Dialog(service, token)
    update = service.max.message(token, d.user, "/start")
    assert await service.max.inject(token, update, secret="wrong-secret") == 403
    url = f"/bots/max/{handle.tenant.slug}"
    header = {"X-Max-Bot-Api-Secret": next(iter(service.max.bots[token].subscriptions.values()))["secret"]}
    assert (await service.http.post(url, json=update)).status_code == 403
    assert (await service.http.post("/bots/max/nosuchtenant", json=update, headers=header)).status_code == 404
    assert (await service.http.post(url, content=b"\xff\xfe", headers=header)).status_code == 400
    assert (await service.http.post(url, json={"update_type": "dialog_muted"}, headers=header)).status_code == 200
    assert (await service.http.post(url, json=[1, 2], headers=header)).status_code == 200
    await settle()
    assert d.replies() == []


async def test_the_same_update_twice_gets_one_reply(service, bot):
    d = Dialog(service, bot[1])
    update = service.max.started(bot[1], d.user)
    await d.deliver(update)
    await d.deliver(update, expect=0)
    assert len(d.replies()) == 1


async def test_429_is_retried_after_retry_after(service, bot):
    d = Dialog(service, bot[1])
    service.max.throttle(bot[1], "/messages", retry_after=1)
    before = len(service.max.throttled)
    [reply] = await d.deliver(service.max.started(bot[1], d.user))
    assert reply.text.startswith("Здравствуйте!")
    assert service.max.throttled[before:] == [(bot[1], "/messages")]


async def test_a_restart_keeps_the_conversation(service, bot):
    d = Dialog(service, bot[1])
    await d.deliver(service.max.started(bot[1], d.user))
    await d.press("link")
    await d.text("ЛС1")
    await service.restart_bots()
    assert (await d.text("1030,00")).text.startswith("Готово! Лицевой счёт ЛС1 привязан")
