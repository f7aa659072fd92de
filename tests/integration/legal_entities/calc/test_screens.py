"""The calculation page in a real headless Chromium: «Рассчитать» starts the job, the list follows its progress
until the run is listed done, the month's table and a contract's charges section show the lines; screenshots at
1280 and 400 px wide (AQUABILL_E2E_SCREENSHOTS or a temp folder)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.async_api import expect
from sqlalchemy import text

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import browser, screenshots  # noqa: F401  (fixtures)
from tests.e2e.test_staff_pages import login
from tests.integration.legal_entities.calc.conftest import add_meter, add_point, make_contract, reading


@pytest.mark.usefixtures("worker")
async def test_runs_page_in_a_browser(browser, app_servers, tenant, tx, screenshots):  # noqa: F811
    async with tx() as conn:
        cid = await make_contract(conn, kind="combined")
        m = await add_meter(conn, await add_point(conn, cid, metered=True), date(2026, 1, 1))
        await add_point(conn, cid, "discharge", share="0.9")
        await add_point(conn, cid, diameter=20, name="Ввод № 2 (без учёта)")
        await reading(conn, m, date(2026, 10, 31), "1100")
        await reading(conn, m, date(2026, 11, 30), "1234.5")
        number = await conn.scalar(text("SELECT number FROM contracts WHERE id = :id"), {"id": cid})
    base = app_servers[0].base
    ctx = await browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
    try:
        page = await ctx.new_page()
        await login(page, base, ADMIN_PASSWORD, tenant.tenant.slug)
        await page.goto(f"{base}/legal/runs?period=2026-11")
        await page.locator("#run-form-section input[name=period]").fill("2026-11")
        await page.locator("#run-form-section input[name=contract_id]").fill(number)
        await page.get_by_role("button", name="Рассчитать").click()
        await expect(page.locator("#legal-runs-list")).to_contain_text("Завершён", timeout=30_000)
        await page.goto(f"{base}/legal/runs?period=2026-11&q={number}")
        await expect(page.locator("#month-charges")).to_contain_text(f"№ {number}")
        await page.screenshot(path=screenshots / "legal-runs-1280.png", full_page=True)
        await page.goto(f"{base}/legal/contracts/{cid}#charges")
        await expect(page.locator("#charges")).to_contain_text("По прибору учёта № ")
        await page.locator("#charges").screenshot(path=screenshots / "legal-contract-charges-1280.png")
        await page.set_viewport_size({"width": 400, "height": 900})
        await page.goto(f"{base}/legal/runs?period=2026-11")
        await page.screenshot(path=screenshots / "legal-runs-400.png", full_page=True)
        await page.goto(f"{base}/legal/contracts/{cid}")
        await expect(page.locator("#charges")).to_contain_text("пропускной способности")
        await page.locator("#charges").screenshot(path=screenshots / "legal-contract-charges-400.png")
        await page.goto(f"{base}/legal/precipitation")
        await page.screenshot(path=screenshots / "legal-precipitation-400.png", full_page=True)
    finally:
        await ctx.close()
