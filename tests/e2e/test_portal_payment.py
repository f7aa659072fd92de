"""Paying online from the portal in a real headless Chromium: the subscriber signs in on the tenant's host,
presses «Оплатить», confirms the amount, pays on the acquirer's page (the local fake of ЮKassa, its own HTTP
server), comes back to «Платёж принят» and finds the account paid. The app runs in its own uvicorn process with
the fake as its acquirer; the notification reaches the app's webhook over HTTP from 127.0.0.1."""

from __future__ import annotations

import secrets
from datetime import date

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from aquabill.devserver.fakes.yookassa import FakeYooKassa
from aquabill.platform.auth.passwords import hash_password
from aquabill.tenants.context import tenant_transaction
from tests.conftest import AppServer
from tests.portal_support import portal_user

PASSWORD = "оплата-пароль-1"


@pytest.fixture(scope="module")
def yookassa():
    fake = FakeYooKassa(retry_seconds=0.2, max_retries=4).start_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture(scope="module")
def pay_server(settings, core, yookassa):
    server = AppServer(settings, extra_env={"AQUABILL_YOOKASSA_API_URL": yookassa.api_url,
                                            "AQUABILL_ACQUIRING_NETWORKS": "127.0.0.0/8", "AQUABILL_TELEPHONY": "0"})
    yield server
    server.stop()


async def _owing_account(conn) -> tuple[int, str]:
    """The registry's first account owes 850,00 ₽ for October 2026 (cold water 500, sewage 350)."""
    account = (await conn.execute(text("SELECT id, number FROM accounts ORDER BY number LIMIT 1"))).one()
    await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, amount) "
        "SELECT :a, id, :p, 'norm', CASE code WHEN 'cold_water' THEN 500.00 ELSE 350.00 END "
        "FROM services WHERE code IN ('cold_water', 'sewage')"), {"a": account.id, "p": date(2026, 10, 1)})
    return account.id, account.number


async def test_pay_online_from_the_portal(page: Page, pay_server, e2e_tenant, core, yookassa, screenshots):
    tenant = e2e_tenant.tenant
    base = f"http://{tenant.slug}.localhost:{pay_server.port}"
    shop = yookassa.add_shop(webhook_url=f"{pay_server.base}/api/acquiring/yookassa/{tenant.slug}")
    async with httpx.AsyncClient(base_url=pay_server.base) as staff:
        r = await staff.put("/api/acquiring/settings", headers=e2e_tenant.headers, json={
            "shop_id": shop.shop_id, "secret": shop.secret, "vat": "none", "enabled": True})
        assert r.status_code == 200, r.text
    async with tenant_transaction(core.engines, tenant) as conn:
        account_id, number = await _owing_account(conn)
    email = f"pay{secrets.token_hex(3)}@example.ru"
    me = await portal_user(core, tenant, account_ids=[account_id], email=email, full_name="Орлова Анна")
    async with tenant_transaction(core.engines, tenant) as conn:
        await conn.execute(text("UPDATE subscribers SET password_hash = :h WHERE id = :s"),
                           {"h": hash_password(PASSWORD), "s": me.subscriber_id})

    await page.goto(f"{base}/my/login")
    await page.get_by_label("Электронная почта или телефон").fill(email)
    await page.get_by_label("Пароль").fill(PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    card = page.locator(f"#account-{account_id}")
    await expect(card.locator(f"#to-pay-{account_id}")).to_have_text("850,00\u00a0₽")

    await card.get_by_role("link", name="Оплатить").click()
    await expect(page.locator("input[name=amount]")).to_have_value("850,00")
    await page.screenshot(path=screenshots / "portal-pay-form.png", full_page=True)
    await page.get_by_role("button", name="Перейти к оплате").click()
    await expect(page.get_by_role("button", name="Оплатить")).to_be_visible()
    assert page.url.startswith(yookassa.url), page.url
    await page.get_by_role("button", name="Оплатить").click()

    await expect(page.get_by_text("Платёж принят")).to_be_visible(timeout=15_000)
    assert page.url.startswith(f"{base}/pay/return/")
    await page.screenshot(path=screenshots / "portal-pay-return.png", full_page=True)
    await page.goto(f"{base}/my")
    await expect(page.locator(f"#to-pay-{account_id}")).to_have_text("0,00\u00a0₽")
    async with tenant_transaction(core.engines, tenant) as conn:
        paid = (await conn.execute(text(
            "SELECT amount, source FROM payments WHERE account_id = :a"), {"a": account_id})).all()
    assert [(str(p.amount), p.source) for p in paid] == [("850.00", "portal")]
