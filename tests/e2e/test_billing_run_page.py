"""The billing runs page in a real headless Chromium: start a tenant-wide run from the form and watch it
reach 100 % and «Завершён» without a reload — over the WebSocket, and with the WebSocket blocked (the list
then polls itself)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from aquabill.demo.billing import seed_billing
from aquabill.demo.tenant import seed_registry
from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.test_staff_pages import assert_same_page, login, mark_page

TODAY = date(2026, 5, 23)  # the demo's data for this day: 2026-05 is the open period
ACCOUNTS = 60


@pytest.fixture(scope="module")
async def billing_tenant(make_tenant):
    async def seed(conn, _tenant):
        await seed_registry(conn, accounts_count=ACCOUNTS, seed=5)
        await seed_billing(conn, today=TODAY, seed=5)

    return await make_tenant(name="МУП «Водоканал г. Расчётного»", seed=seed)


def ru_money(value) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')):,f}".replace(",", "\u202f").replace(".", ",")


async def start_tenant_run(page: Page, base: str, slug: str, *, live: str) -> int:
    """Log in, open the page from the navigation, start the run; returns the number of runs listed before."""
    await login(page, base, ADMIN_PASSWORD, tenant=slug)
    await expect(page).to_have_url(f"{base}/")
    await page.get_by_role("navigation").get_by_role("link", name="Расчёт", exact=True).click()
    await expect(page).to_have_url(f"{base}/billing/runs")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Расчёт начислений")
    await expect(page.locator("#billing-runs")).to_have_attribute("data-live", live)
    form = page.locator("#run-form-section")
    await expect(form.get_by_label("Период (ГГГГ-ММ)")).to_have_value("2026-05")
    await expect(form.get_by_label("Вся организация")).to_be_checked()
    runs = await page.locator("#runs-section tbody tr.run").count()
    assert runs >= 4  # the demo's runs of three closed months and the open one
    await mark_page(page)
    await form.get_by_role("button", name="Запустить расчёт").click()
    await expect(page.locator("#run-form-section").get_by_role("status")).to_have_text(
        "Расчёт за 2026-05 запущен: ход выполнения — в списке ниже")
    return runs


async def expect_finished(page: Page, core, tenant, runs_before: int) -> None:
    rows = page.locator("#runs-section tbody tr.run")
    await expect(rows).to_have_count(runs_before + 1)
    row = rows.first
    await expect(row.locator(".run-status")).to_have_text("Завершён")
    await expect(row.locator(".pct")).to_have_text("100%")
    await expect(row.locator("progress")).to_have_js_property("value", 100)
    async with tenant_transaction(core.engines, tenant) as conn:
        stats = (await conn.execute(text("SELECT stats FROM billing_runs ORDER BY id DESC LIMIT 1"))).scalar_one()
    cells = row.locator("td")
    await expect(cells.nth(0)).to_have_text("2026-05")
    await expect(cells.nth(1)).to_have_text("Вся организация")
    await expect(cells.nth(3)).to_have_text(str(ACCOUNTS))
    await expect(cells.nth(5)).to_have_text(ru_money(stats["amount"]))
    # the demo's late readings: the open month's run recalculates the last closed month
    await expect(cells.nth(6)).to_contain_text(f"2026-04: {stats['recalculated']['2026-04']} стр.")
    await assert_same_page(page)


@pytest.mark.usefixtures("worker")
async def test_tenant_run_progress_live_over_websocket(page: Page, servers, billing_tenant, core, screenshots):
    base = servers[0].base
    # the row's states as the page shows them, recorded in the browser (the page is never reloaded)
    await page.add_init_script("""
        window.__runStates = [];
        document.addEventListener("DOMContentLoaded", () => {
          new MutationObserver(() => {
            const row = document.querySelector("#runs-section tbody tr.run");
            const s = row && row.querySelector(".run-status").textContent + " " + row.querySelector(".pct").textContent;
            if (s && window.__runStates[window.__runStates.length - 1] !== s) window.__runStates.push(s);
          }).observe(document.body, { subtree: true, childList: true, characterData: true });
        });
    """)
    runs = await start_tenant_run(page, base, billing_tenant.tenant.slug, live="on")
    await expect_finished(page, core, billing_tenant.tenant, runs)
    states = await page.evaluate("window.__runStates")
    assert states[-1] == "Завершён 100%", states
    assert any(s.startswith(("В очереди", "Выполняется")) for s in states), states  # it was live before it ended
    await page.screenshot(path=screenshots / "billing-runs.png", full_page=True)

    # the period's charges: sums by service and method, rows, filtered by account number
    await page.locator("#runs-section tbody tr.run").first.get_by_role("link", name="2026-05").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Начисления за 2026-05")
    await expect(page.locator("#charges-summary")).to_contain_text("Холодное водоснабжение")
    async with tenant_transaction(core.engines, billing_tenant.tenant) as conn:
        amount, number = (await conn.execute(text(
            "SELECT (SELECT sum(amount) FROM charges WHERE period = DATE '2026-05-01'), "
            "(SELECT min(number) FROM accounts)"))).one()
    await expect(page.locator("#charges-amount")).to_have_text(ru_money(amount))
    await page.screenshot(path=screenshots / "billing-charges.png", full_page=True)
    await page.get_by_label("Лицевой счёт (начало номера)").fill(number)
    await page.get_by_role("button", name="Показать").click()
    rows = page.locator("#charges-rows tbody tr")
    await expect(rows.first).to_contain_text(number)
    for text_ in await rows.locator("td:first-child").all_inner_texts():
        assert text_ == number


@pytest.mark.usefixtures("worker")
async def test_tenant_run_progress_polled_without_websocket(page: Page, servers, billing_tenant, core):
    async def no_server(ws) -> None:  # the socket opens but never reaches the server: no events
        return None

    await page.route_web_socket("**/ws", no_server)
    runs = await start_tenant_run(page, servers[1].base, billing_tenant.tenant.slug, live="off")
    await expect(page.locator("#runs-live")).to_contain_text("раз в 2 с")
    await expect_finished(page, core, billing_tenant.tenant, runs)
