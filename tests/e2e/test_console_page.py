"""The agent's console in a real headless Chromium: a call simulated on the tenant's Asterisk (an AMI peer
speaking the real protocol on loopback) makes the incoming call banner appear with the caller's account,
and the call lands in the journal as answered — without a reload."""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from aquabill.channels.asterisk.scenarios import QueueCall
from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.test_staff_pages import assert_same_page, login, mark_page
from tests.integration.telephony.test_telephony import SimulatorThread

PHONE_AS_STORED = "8 (916) 555-12-34"
PHONE_AS_CALLED = "79165551234"


@pytest.fixture
async def simulator():
    sim = SimulatorThread()
    await sim.start()
    yield sim
    await sim.stop()


@pytest.mark.usefixtures("worker")
async def test_simulated_call_shows_the_callers_account(page: Page, servers, e2e_tenant, core, simulator):
    slug = e2e_tenant.tenant.slug
    async with tenant_transaction(core.engines, e2e_tenant.tenant) as conn:
        account = (await conn.execute(text(
            "UPDATE accounts SET phone = :p WHERE id = (SELECT min(id) FROM accounts) "
            "RETURNING id, number, holder"), {"p": PHONE_AS_STORED})).one()
    async with httpx.AsyncClient(base_url=servers[0].base, headers=e2e_tenant.headers) as http:
        r = await http.put("/api/telephony/connection", json={
            "host": "127.0.0.1", "port": simulator.port, "username": "aquabill", "secret": "amp111",
            "enabled": True})
        assert r.status_code == 200, r.text
        try:
            await simulator.wait_for_logins(1)
            await login(page, servers[0].base, ADMIN_PASSWORD, tenant=slug)
            await page.get_by_role("navigation").get_by_role("link", name="Контакт-центр").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Контакт-центр")
            await expect(page.locator("#live-status")).to_have_attribute("data-subscribed", "1")
            await mark_page(page)
            banner = page.locator("#call-banner")
            await expect(banner).to_be_hidden()

            call = QueueCall(PHONE_AS_CALLED, linkedid=f"1795{secrets.randbelow(10**6):06d}.1")
            assert await simulator.replay(call.ringing()) >= 1
            await expect(banner).to_be_visible()
            await expect(banner.locator("#call-caller")).to_have_text(PHONE_AS_CALLED)
            await expect(banner).to_contain_text(account.number)
            await expect(banner).to_contain_text(account.holder)
            await expect(banner.get_by_role("link", name=account.number)).to_have_attribute(
                "href", f"/accounts/{account.id}")
            await expect(page.locator("#queue-count")).to_have_text("1")

            await simulator.replay(call.answered())
            await expect(page.locator("#queue-count")).to_have_text("0")
            await expect(banner).to_be_hidden()
            row = page.locator("#calls tbody tr").first
            await expect(row).to_contain_text(account.number)
            await expect(row).to_contain_text("Отвечен")
            await assert_same_page(page)
        finally:
            await http.put("/api/telephony/connection", json={
                "host": "127.0.0.1", "port": simulator.port, "username": "aquabill", "enabled": False})
