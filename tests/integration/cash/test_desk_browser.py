"""The cashier's workstation in a real headless Chromium (the app in its own uvicorn processes): sign in as the
cashier, open the shift, scan a receipt's barcode into the search field, tick a line, type the cash given and
see the change, «Принять оплату»; the receipt shows «Печатается…» and turns into «Чек № {FD}, ФП {ФП}» LIVE when
the agent's result is applied and its event published (as the gateway does). The page is drawn at 1400 px and
at 400 px without horizontal scrolling; screenshots go where the e2e tests put theirs."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from playwright.async_api import Page, expect

from aquabill.channels.print.code128 import receipt_barcode
from aquabill.platform.realtime import publish
from tests.e2e.conftest import browser, screenshots  # noqa: F401 (fixtures)
from tests.integration.cash.desk_support import CASHIER, FN, Desk, fiscal, seed

TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(seed=seed)


async def sign_in(page: Page, base: str, slug: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("Код организации", exact=True).fill(slug)
    await page.get_by_label("Логин", exact=True).fill(CASHIER[0])
    await page.get_by_label("Пароль", exact=True).fill(CASHIER[1])
    await page.get_by_role("button", name="Войти").click()
    await expect(page.locator("#live-status")).to_have_attribute("data-subscribed", "1", timeout=TIMEOUT_MS)


async def gateway(desk: Desk, core, command_id: int, **kw) -> None:
    """The result recorded and applied, then its events published after commit — the gateway's steps."""
    for event_type, data in await desk.result(command_id, **kw) or []:
        await publish(core.redis, core.keys, desk.handle.tenant.id, event_type, data)


async def no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = await page.evaluate("window.innerWidth")
    assert width <= viewport, f"the page is {width} px wide in a {viewport} px window"


async def test_sale_turns_into_a_printed_receipt_live(browser, app_servers, tenant, core, screenshots):  # noqa: F811
    desk = Desk(core, tenant)
    base = app_servers[0].base
    context = await browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await sign_in(page, base, tenant.tenant.slug)
    await page.get_by_role("link", name="Рабочее место кассира").click()
    await expect(page.locator("#desk-point")).to_have_value("1")
    await page.locator("#shift-open").click()
    await expect(page.locator("#desk-shift")).to_contain_text("Открывается…")
    await expect(page.locator("#live-status")).to_have_attribute("data-subscribed", "1")
    opening = await desk.last_command("open_shift")
    await gateway(desk, core, opening["id"], result={"shift_number": 17, "fd_number": 1, "fiscal_sign": 1,
                                                      "fiscal_at": "2026-12-07T08:00:00+03:00", "fn_number": FN})
    await expect(page.locator("#desk-shift")).to_contain_text("смена № 17")  # live, no reload

    await page.locator("#desk-q").fill(receipt_barcode("00100127", 11, 2026, D("825.00")))
    await page.locator("#desk-q").press("Enter")
    await expect(page.locator("#desk-account")).to_contain_text("Лицевой счёт 00100127")
    await expect(page.locator("#sale-amount")).to_have_value("825.00")
    await page.get_by_label("Холодное водоснабжение 2026-11").check()
    await expect(page.locator("#sale-amount")).to_have_value("310,00")
    await page.locator("#sale-given").fill("500")
    await expect(page.locator("#sale-change")).to_have_text("190,00")
    await page.screenshot(path=screenshots / "cash-desk-1400.png", full_page=True)
    await no_horizontal_scroll(page)
    await page.get_by_role("button", name="Принять оплату").click()
    await expect(page.locator("#desk-notice")).to_have_text("Оплата 310,00 ₽ принята, касса печатает чек. "
                                                            "Сдача 190,00 ₽")
    row = page.locator("li.receipt").first
    await expect(row).to_contain_text("Печатается…")
    receipt_command = (await desk.rows("SELECT command_id FROM cash_receipts"))[0][0]
    await gateway(desk, core, receipt_command, result=fiscal(fd_number=4242, fiscal_sign=1122334455))
    await expect(row).to_contain_text("Чек № 4242, ФП 1122334455")  # live
    await expect(page.locator("#shift-totals")).to_contain_text("310,00")
    await page.screenshot(path=screenshots / "cash-desk-1400-printed.png", full_page=True)
    for path, name in (("/cash/shifts", "cash-shifts-1400.png"), ("/cash/book?point=1", "cash-book-1400.png")):
        await page.goto(base + path)
        await no_horizontal_scroll(page)
        await page.screenshot(path=screenshots / name, full_page=True)

    phone = await browser.new_context(locale="ru-RU", viewport={"width": 400, "height": 860})
    small = await phone.new_page()
    await sign_in(small, base, tenant.tenant.slug)
    await small.goto(f"{base}/cash?account=1")
    await expect(small.locator("#desk-account")).to_contain_text("00100127")
    await no_horizontal_scroll(small)
    await small.screenshot(path=screenshots / "cash-desk-400.png", full_page=True)
    for path in ("/cash/book?point=1", "/cash/shifts", "/cash?tab=services"):
        await small.goto(base + path)
        await no_horizontal_scroll(small)
    await small.screenshot(path=screenshots / "cash-services-400.png", full_page=True)
    await phone.close()
    await context.close()
