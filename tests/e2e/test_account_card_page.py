"""The account card page in a real headless Chromium: open it from the account list, add a reading and set a
parameter through the htmx forms (the sections update in place, the page is not reloaded)."""

from __future__ import annotations

from playwright.async_api import Page, expect
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.test_staff_pages import assert_same_page, login, mark_page


async def test_account_card_forms(page: Page, servers, e2e_tenant, core, screenshots):
    async with tenant_transaction(core.engines, e2e_tenant.tenant) as conn:
        account = (await conn.execute(text("SELECT id, number FROM accounts ORDER BY number LIMIT 1"))).one()
        await conn.execute(text(
            "INSERT INTO meters(account_id, service_id, serial, digits, installed_on, initial_reading) "
            "SELECT :a, id, 'E2E-ХВ-1', 5, DATE '2024-01-01', 10 FROM services WHERE code = 'cold_water' "
            "ON CONFLICT DO NOTHING"), {"a": account.id})
    base = servers[0].base
    await login(page, base, ADMIN_PASSWORD, tenant=e2e_tenant.tenant.slug)
    await expect(page).to_have_url(f"{base}/")
    await page.goto(f"{base}/accounts")
    await page.get_by_placeholder("Номер счёта, ФИО, улица или телефон").fill(account.number)
    await expect(page.locator("#account-rows tbody tr")).to_have_count(1)
    await page.get_by_role("link", name=account.number).click()

    await expect(page).to_have_url(f"{base}/accounts/{account.id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Лицевой счёт {account.number}")
    meters = page.locator("#meters-section")
    await expect(meters.locator("tbody").first).to_contain_text("E2E-ХВ-1")
    await mark_page(page)

    await meters.get_by_label("Дата").fill("2024-02-01")
    await meters.get_by_label("Показание, м³").fill("15,5")
    await meters.get_by_role("button", name="Внести").click()
    await expect(meters.get_by_role("status")).to_have_text("Показание 15,5 на 01.02.2024: принято")
    await expect(meters.locator("table").last.locator("tbody tr").first).to_contain_text("5,5")
    await meters.get_by_label("Дата").fill("2024-02-02")
    await meters.get_by_label("Показание, м³").fill("9")
    await meters.get_by_role("button", name="Внести").click()
    await expect(meters.get_by_role("status")).to_contain_text("отклонено. Показание 9 меньше предыдущего")

    params = page.locator("#parameters-section")
    await params.get_by_label("Параметр").select_option("residents")
    await params.get_by_label("Значение").fill("3")
    await params.get_by_label("Действует с").fill("2024-03-01")
    await params.get_by_role("button", name="Сохранить").click()
    await expect(params.get_by_role("status")).to_have_text("Значение сохранено")
    await expect(params.locator("tbody tr")).to_have_count(1)
    await expect(params.locator("tbody tr").first).to_contain_text("01.03.2024")
    await assert_same_page(page)
    await page.screenshot(path=screenshots / "account-card.png", full_page=True)
