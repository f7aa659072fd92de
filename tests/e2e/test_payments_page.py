"""The payments page in a real headless Chromium: open it from the menu, take a manual payment through the
form, find it in the list by the account filter and reverse it (storno) after the confirmation dialog."""

from __future__ import annotations

from playwright.async_api import Dialog, Page, expect
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.test_staff_pages import login


async def test_manual_payment_form_and_storno(page: Page, servers, e2e_tenant, core, screenshots):
    async with tenant_transaction(core.engines, e2e_tenant.tenant) as conn:
        number = (await conn.execute(text(
            "SELECT number FROM accounts WHERE status = 'open' ORDER BY number DESC LIMIT 1"))).scalar_one()
    base = servers[0].base
    await login(page, base, ADMIN_PASSWORD, tenant=e2e_tenant.tenant.slug)
    await expect(page).to_have_url(f"{base}/")
    await page.get_by_role("link", name="Платежи", exact=True).click()
    await expect(page).to_have_url(f"{base}/payments")

    form = page.locator("#payment-form")
    await form.get_by_label("Лицевой счёт").fill(number)
    await form.get_by_label("Сумма, ₽").fill("1 234,56")
    await form.get_by_label("Дата").fill("2026-11-05")
    await form.get_by_label("Способ").select_option("cash")
    await form.get_by_role("button", name="Принять платёж").click()
    await expect(page.get_by_role("status")).to_have_text(f"Платёж 1234.56 ₽ принят на лицевой счёт {number}")

    listing = page.locator("#payments-list")
    await listing.get_by_label("Лицевой счёт").fill(number)
    await listing.get_by_role("button", name="Показать").click()
    row = listing.locator("tbody tr").first
    await expect(row).to_contain_text("1\u202f234,56")
    await expect(row).to_contain_text("Опознан")
    seen: list[str] = []

    async def accept(dialog: Dialog) -> None:
        seen.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await row.get_by_role("button", name="Сторно").click()
    await expect(page.get_by_role("status")).to_contain_text("сторнирован")
    assert seen and "Сторнировать платёж" in seen[0]
    await page.screenshot(path=screenshots / "payments.png", full_page=True)
