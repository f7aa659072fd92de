"""The subscribers' portal in a real headless Chromium on the tenant's host (`<slug>.localhost`, which
Chromium resolves to the loopback): sign in on the login page, see the balance and the debt by service,
submit a reading with a photo of the meter inside the window and find it in the history; the same pages on a
390-pixel phone screen."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from playwright.async_api import Page, expect
from sqlalchemy import text

from aquabill.billing_core.payments.allocation import allocate_all
from aquabill.platform.auth.passwords import hash_password
from aquabill.tenants.context import tenant_transaction
from tests.portal_support import portal_user

PASSWORD = "портал-пароль-1"


async def _account_with_history(conn) -> tuple[int, str, int]:
    """The registry's last account gets a meter, two months of charges and a payment: it owes 1 234,50 ₽
    (cold water 734,50, sewage 500,00)."""
    account = (await conn.execute(text("SELECT id, number FROM accounts ORDER BY number DESC LIMIT 1"))).one()
    meter = (await conn.execute(text(
        "INSERT INTO meters(account_id, service_id, serial, digits, installed_on, initial_reading) "
        "SELECT :a, id, 'E2E-ПОРТАЛ-1', 5, DATE '2024-01-10', 100 FROM services WHERE code = 'cold_water' "
        "RETURNING id"), {"a": account.id})).scalar_one()
    for month, service, amount in (("2024-02-01", "cold_water", "600.00"), ("2024-02-01", "sewage", "400.00"),
                                   ("2024-03-01", "cold_water", "634.50"), ("2024-03-01", "sewage", "100.00")):
        await conn.execute(text(
            "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount) "
            "SELECT :a, id, :p, 'norm', 10, 50, :x FROM services WHERE code = :s"),
            {"a": account.id, "p": date.fromisoformat(month), "x": amount, "s": service})
    await conn.execute(text(
        "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
        "SELECT id, 'manual', DATE '2024-03-05', 500.00, :a, 'identified' FROM payment_agents WHERE code = 'manual'"),
        {"a": account.id})
    await allocate_all(conn)
    await conn.execute(text("UPDATE billing_settings SET value = '[1, 31]' WHERE key = 'portal_reading_days'"))
    return account.id, account.number, meter


async def test_portal_sign_in_balance_and_reading(page: Page, browser, servers, e2e_tenant, core, settings,
                                                  screenshots, tmp_path: Path):
    tenant = e2e_tenant.tenant
    async with tenant_transaction(core.engines, tenant) as conn:
        account_id, number, _meter = await _account_with_history(conn)
    email = f"e2e{secrets.token_hex(3)}@example.ru"
    me = await portal_user(core, tenant, account_ids=[account_id], email=email, full_name="Сидорова Мария")
    async with tenant_transaction(core.engines, tenant) as conn:
        await conn.execute(text("UPDATE subscribers SET password_hash = :h WHERE id = :s"),
                           {"h": hash_password(PASSWORD), "s": me.subscriber_id})
    base = f"http://{tenant.slug}.localhost:{servers[0].port}"

    await page.goto(f"{base}/my")
    await expect(page).to_have_url(f"{base}/my/login?next=/my")
    await page.get_by_label("Электронная почта или телефон").fill(email)
    await page.get_by_label("Пароль").fill(PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(f"{base}/my")

    card = page.locator(f"#account-{account_id}")
    await expect(card.get_by_role("heading", level=2)).to_have_text(f"Лицевой счёт {number}")
    await expect(card.locator(f"#to-pay-{account_id}")).to_have_text("1\u202f234,50\u00a0₽")
    await expect(card.locator("table.debt tbody tr")).to_have_count(2)
    await expect(card.locator("table.debt")).to_contain_text("Водоотведение")
    await page.screenshot(path=screenshots / "portal-dashboard.png", full_page=True)

    await card.get_by_role("link", name="Передать показания").click()
    await expect(page).to_have_url(f"{base}/my/accounts/{account_id}/readings")
    meter = page.locator(".meter").first
    await expect(meter).to_contain_text("E2E-ПОРТАЛ-1")
    photo = tmp_path / "meter.png"
    segno.make("E2E-ПОРТАЛ-1 112,5").save(photo, scale=8)
    await meter.get_by_label("Показание сегодня, м³").fill("112,5")
    await meter.get_by_label("Фото счётчика (необязательно, до 5 МБ)").set_input_files(photo)
    await meter.get_by_role("button", name="Передать показание").click()
    await expect(page.locator("#reading-result")).to_have_text(
        "Показание 112,5 по счётчику № E2E-ПОРТАЛ-1 (холодное водоснабжение) принято. Расход: 12,5 м³. Спасибо!")
    first = page.locator(f"#history-{account_id} tbody tr").first
    today = datetime.now(ZoneInfo(settings.timezone)).date()  # the organisation's day the reading is taken on
    await expect(first).to_contain_text(today.strftime("%d.%m.%Y"))
    await expect(first).to_contain_text("112,5")
    await expect(first).to_contain_text("Принято")
    await page.screenshot(path=screenshots / "portal-reading.png", full_page=True)
    href = await first.get_by_role("link", name="фото").get_attribute("href")
    response = await page.goto(base + (href or ""))  # the photo kept with the reading
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "image/png" and await response.body() == photo.read_bytes()

    # the same pages on a phone: nothing wider than the screen but the tables that scroll inside their card
    phone = await browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 844})
    try:
        await phone.add_cookies([{"name": "aquabill_my", "value": me.token, "url": base}])
        small = await phone.new_page()
        for path, shot in (("/my", "portal-phone-dashboard.png"),
                           (f"/my/accounts/{account_id}/readings", "portal-phone-readings.png"),
                           (f"/my/accounts/{account_id}", "portal-phone-account.png")):
            await small.goto(base + path)
            await expect(small.locator("main")).to_be_visible()
            width = await small.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
            await small.screenshot(path=screenshots / shot, full_page=True)
    finally:
        await phone.close()
