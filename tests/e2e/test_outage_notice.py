"""The outage story on the demo town, in a real headless Chromium, as a person tries it after `make run`: staff
open «Новая рассылка», take the «Плановое отключение воды» template, name the outage request's house, choose
every channel and «Все каналы», see the preview's count and the SMS parts and cost, start it and follow the
campaign page live until it is done, with statuses per channel — e-mail, SMS and Telegram sent, autocall
answered / busy / not answered as the demo PBX is scripted, the portal inbox delivered. The peers are the ones
`aquabill dev` starts (tests/e2e/notify_support.py); what they received is checked too. Screenshots of the
compose and the finished campaign pages at 1400 and 400 px wide (AQUABILL_E2E_SCREENSHOTS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect
from sqlalchemy import text

from aquabill.demo.appeals import MOSCOW
from aquabill.demo.notifications import PHONES
from aquabill.demo.subscribers import DEMO_SUBSCRIBER
from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import browser, context, page, screenshots  # noqa: F401  (fixtures)
from tests.e2e.notify_support import demo_town, notice_server, peers  # noqa: F401  (fixtures)
from tests.e2e.test_staff_pages import assert_same_page, login, mark_page

BUSY, NO_ANSWER = PHONES[1], PHONES[2]


async def no_sideways_scroll(tab: Page) -> None:
    assert await tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), tab.url


async def shoot(tab: Page, folder, name: str) -> None:
    for width in (1400, 400):
        await tab.set_viewport_size({"width": width, "height": 900})
        await tab.wait_for_timeout(150)
        await no_sideways_scroll(tab)
        await tab.screenshot(path=folder / f"outage-{name}-{width}.png", full_page=True)
    await tab.set_viewport_size({"width": 1400, "height": 900})


async def the_outage(core, tenant) -> tuple[int, int, int, int]:
    """The seeded outage request, how many open accounts its house has, the portal user's subscriber id and how
    many of the house's accounts it is linked to (each gets its own notice: the message names the flat)."""
    async with tenant_transaction(core.engines, tenant) as conn:
        request = (await conn.execute(text(
            "SELECT id, house_id FROM requests WHERE kind = 'planned' AND description LIKE 'Плановое отключение%'"
        ))).one()
        accounts = (await conn.execute(text(
            "SELECT count(*) FROM accounts a JOIN premises p ON p.id = a.premise_id "
            "WHERE p.house_id = :h AND a.status = 'open'"), {"h": request.house_id})).scalar_one()
        portal = (await conn.execute(text("SELECT id FROM subscribers WHERE email = :e"),
                                     {"e": DEMO_SUBSCRIBER[0]})).scalar_one()
        linked = (await conn.execute(text(
            "SELECT count(*) FROM subscriber_links l JOIN accounts a ON a.id = l.account_id "
            "JOIN premises p ON p.id = a.premise_id WHERE l.subscriber_id = :s AND p.house_id = :h "
            "AND l.revoked_at IS NULL"), {"s": portal, "h": request.house_id})).scalar_one()
    return request.id, accounts, portal, linked


async def test_an_outage_notice_reaches_the_house(page: Page, notice_server, demo_town, peers, core,  # noqa: F811
                                                  screenshots):  # noqa: F811
    base = notice_server.base
    tenant = demo_town.tenant
    request_id, accounts, portal, linked = await the_outage(core, tenant)
    assert linked >= 1
    tomorrow = (datetime.now(UTC).astimezone(MOSCOW) + timedelta(days=1)).date()

    await login(page, base, ADMIN_PASSWORD, tenant=tenant.slug)
    await expect(page).to_have_url(f"{base}/")
    await page.goto(f"{base}/notifications/new")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Новая рассылка")
    await page.get_by_label("Шаблон").select_option(label="Плановое отключение воды")
    await page.get_by_role("button", name="Взять текст").click()
    await expect(page.get_by_label("Звуковой файл для автообзвона")).to_have_value("custom/aquabill-outage")
    await page.get_by_label("Дом из заявки №").fill(str(request_id))
    await page.locator("details.outage summary").click()
    await page.get_by_label("С", exact=True).fill(f"{tomorrow.isoformat()}T09:00")
    await page.get_by_label("По", exact=True).fill(f"{tomorrow.isoformat()}T17:00")
    await page.get_by_label("Пояснение").fill("Замена задвижки на вводе в дом.")
    for channel in ("Эл. почта", "SMS", "Telegram", "Автообзвон", "Личный кабинет"):
        await page.get_by_label(channel, exact=True).check()
    await page.get_by_label("MAX", exact=True).uncheck()  # the demo has no MAX bot
    await page.get_by_label("Все каналы").check()
    await page.get_by_role("button", name="Предпросмотр").click()
    await expect(page.locator("#preview-count")).to_have_text(str(accounts))
    await expect(page.locator("#preview .sms-cost")).to_contain_text("₽")
    await expect(page.locator("#preview .sms-cost")).to_contain_text("за часть")
    await expect(page.locator("#preview .sample").first).to_contain_text(f"{tomorrow:%d.%m.%Y} 09:00")
    await shoot(page, screenshots, "compose")

    await page.get_by_role("button", name="Создать и запустить").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Плановое отключение воды")
    await mark_page(page)
    await expect(page.locator("#campaign-live-note")).to_contain_text("в реальном времени")
    await expect(page.locator("#campaign-status")).to_have_text("Завершена", timeout=90_000)
    await assert_same_page(page)  # the progress and the end came over the WebSocket, no reload

    # statuses per channel on the page
    await expect(page.locator('[data-cell="telegram:done"]')).to_have_text(str(linked))
    await expect(page.locator('[data-cell="inbox:done"]')).to_have_text(str(linked))
    await expect(page.locator('[data-cell="autocall:failed"]')).to_have_text("2")  # busy and no answer
    for channel in ("email", "sms", "autocall"):
        assert int(await page.locator(f'[data-cell="{channel}:done"]').inner_text()) >= 2, channel
    await expect(page.locator('[data-cell=":queued"]')).to_have_text("0")
    await expect(page.locator('[data-outcomes="autocall"]')).to_contain_text("занято 1")
    await expect(page.locator('[data-outcomes="autocall"]')).to_contain_text("нет ответа 1")
    await expect(page.locator('[data-outcomes="inbox"]')).to_contain_text(f"доставлено {linked}")
    await shoot(page, screenshots, "campaign")
    recipients = page.locator("#campaign-recipients")
    await recipients.get_by_label("Состояние").select_option(label="Занято")
    await recipients.get_by_role("button", name="Показать").click()
    await expect(page.locator("#campaign-recipients tbody tr")).to_have_count(1)
    await expect(page.locator("#campaign-recipients")).to_contain_text(BUSY)
    await page.locator("#campaign-recipients").get_by_label("Состояние").select_option(label="Нет ответа")
    await page.locator("#campaign-recipients").get_by_role("button", name="Показать").click()
    await expect(page.locator("#campaign-recipients")).to_contain_text(NO_ANSWER)
    await expect(page.locator("#campaign-recipients tbody tr")).to_have_count(1)
    await page.locator("#campaign-recipients").get_by_label("Состояние").select_option(label="Без адресов")
    await page.locator("#campaign-recipients").get_by_role("button", name="Показать").click()
    await expect(page.locator("#campaign-recipients")).to_contain_text("Отказался от оповещений")

    # what the peers got: letters in the sink, SMS at the gateway, the notice in the dev chat window, the calls
    email = int(await page.locator('[data-cell="email:done"]').inner_text())
    assert len(peers.letters()) == email
    assert peers.sms.to(PHONES[0]) and f"{tomorrow:%d.%m.%Y} 09:00" in peers.sms.to(PHONES[0])[0].text
    async with httpx.AsyncClient(base_url=peers.telegram.url) as tg:
        chat = (await tg.get("/chat/log")).json()  # the chat window's user: the portal user's chat
    assert sum("будет отключено водоснабжение" in m["text"] for m in chat) == linked, chat
    assert {m.get("Data") for m in peers.pbx.sim.originates} == {"custom/aquabill-outage"}
    async with tenant_transaction(core.engines, tenant) as conn:
        inbox = (await conn.execute(text(
            "SELECT title FROM subscriber_inbox WHERE subscriber_id = :s AND dedupe_key IS NOT NULL"),
            {"s": portal})).scalars().all()
        outcomes = dict((await conn.execute(text(
            "SELECT address, status FROM campaign_deliveries WHERE channel = 'autocall'"))).all())
    assert inbox == [f"Отключение воды {tomorrow:%d.%m.%Y} 09:00"] * linked
    assert outcomes[BUSY] == "busy" and outcomes[NO_ANSWER] == "no_answer" and outcomes[PHONES[0]] == "answered"
