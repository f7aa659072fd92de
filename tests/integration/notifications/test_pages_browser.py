"""The notification center in a real headless Chromium (the browser and app servers of tests/e2e): compose an
outage notice from the seeded template with its preview, create and start it, and see the campaign page reach
«Завершена» with its counts without a reload; the pages at 1400 and 400 pixels wide are saved as screenshots
(AQUABILL_E2E_SCREENSHOTS) and must not scroll sideways."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import browser, context, page, screenshots, servers  # noqa: F401  (fixtures)
from tests.e2e.test_staff_pages import assert_same_page, login, mark_page
from tests.integration.notifications.support import town


@pytest.fixture(scope="module")
async def notice_tenant(make_tenant, core):
    t = await make_tenant(name="МУП «Водоканал г. Тестовска»", seed=town)
    async with tenant_transaction(core.engines, t.tenant) as conn:  # the test must not wait for the morning
        await conn.execute(text("INSERT INTO notification_settings(id, quiet_from, quiet_to) VALUES (1, '0:00', '0:00')"))
    return t


async def no_sideways_scroll(tab: Page) -> None:
    assert await tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), tab.url


async def shoot(tab: Page, folder, name: str) -> None:
    for width in (1400, 400):
        await tab.set_viewport_size({"width": width, "height": 900})
        await tab.wait_for_timeout(100)
        await no_sideways_scroll(tab)
        await tab.screenshot(path=folder / f"notifications-{name}-{width}.png", full_page=True)
    await tab.set_viewport_size({"width": 1400, "height": 900})


@pytest.mark.usefixtures("worker")
async def test_compose_preview_start_and_follow(page: Page, servers, notice_tenant, screenshots):  # noqa: F811
    base = servers[0].base
    await login(page, base, ADMIN_PASSWORD, tenant=notice_tenant.tenant.slug)
    await expect(page).to_have_url(f"{base}/")
    await page.goto(f"{base}/notifications")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Оповещения")
    await page.get_by_role("link", name="Новая рассылка").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Новая рассылка")

    await page.get_by_label("Шаблон").select_option(label="Плановое отключение воды")
    await page.get_by_role("button", name="Взять текст").click()
    await expect(page.get_by_label("Название рассылки*")).to_have_value("Плановое отключение воды")
    await page.get_by_label("Дома").select_option(label="г. Тестовск, ул. Речная, д. 1 (4)")
    await page.locator("details.outage summary").click()
    await page.get_by_label("С", exact=True).fill("2025-04-12T09:00")
    await page.get_by_label("По", exact=True).fill("2025-04-12T18:00")
    await page.get_by_label("Пояснение").fill("Замена задвижки на вводе.")
    await page.get_by_label("Все каналы").check()
    await page.get_by_role("button", name="Предпросмотр").click()
    await expect(page.locator("#preview-count")).to_have_text("4")
    await expect(page.locator("#preview .sample").first).to_contain_text("12.04.2025 09:00")
    await shoot(page, screenshots, "compose")

    await page.get_by_role("button", name="Создать и запустить").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Плановое отключение воды")
    await mark_page(page)
    await expect(page.locator("#campaign-status")).to_have_text("Завершена", timeout=30_000)
    await assert_same_page(page)
    # no SMTP, SMS or bots in the test settings: their deliveries fail, the portal inbox gets its notice
    await expect(page.locator('[data-cell="inbox:done"]')).to_have_text("1")
    await expect(page.locator("#campaign-recipients")).to_contain_text("Канал не подключён у организации")
    await shoot(page, screenshots, "campaign")

    await page.get_by_label("Состояние").select_option(label="Без адресов")
    await page.get_by_role("button", name="Показать").click()
    await expect(page.locator("#campaign-recipients tbody tr")).to_have_count(1)
    await expect(page.locator("#campaign-recipients")).to_contain_text("00000004")

    await page.goto(f"{base}/notifications")
    await expect(page.locator("table.campaigns tbody tr")).to_have_count(1)
    await shoot(page, screenshots, "list")
    await page.goto(f"{base}/notifications/settings")
    await shoot(page, screenshots, "settings")
