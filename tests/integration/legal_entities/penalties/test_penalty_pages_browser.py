"""The 416-FZ penalties' pages in a real headless Chromium (the e2e fixtures): the accrual started from the
tenant's page with its progress to the end, the month's list, the contract card's section with the breakdown;
at 1400 and 400 pixels wide nothing is wider than the screen (screenshots in AQUABILL_E2E_SCREENSHOTS)."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from playwright.async_api import Page, expect

from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import browser, context, e2e_tenant, page, screenshots, servers  # noqa: F401
from tests.e2e.test_staff_pages import login
from tests.integration.billing_core.api_helpers import Api
from tests.integration.legal_entities.penalties.penalty_data import document, org_contract, pay


async def _fits(tab: Page, url: str, width: int, shot, name: str) -> None:
    await tab.set_viewport_size({"width": width, "height": 900})
    await tab.goto(url)
    await expect(tab.locator("main")).to_be_visible()
    if "/legal/contracts/" in url:
        await expect(tab.locator("#penalties table.penalty-rows").first).to_be_visible()
    scroll = await tab.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, (url, width, scroll)
    await tab.screenshot(path=shot / f"legal-penalties-{name}-{width}.png", full_page=True)


@pytest.mark.usefixtures("worker")
async def test_accrue_from_the_page_and_read_the_breakdown(page: Page, servers, e2e_tenant, core,  # noqa: F811
                                                           screenshots):  # noqa: F811
    tenant = e2e_tenant.tenant
    port = servers[0].port
    base = f"http://{tenant.slug}.localhost:{port}"

    def tx(user_id=None):
        return tenant_transaction(core.engines, tenant, user_id)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        api = Api(http, e2e_tenant.headers)
        mc = await org_contract(api, tx, "management_company")
        other = await org_contract(api, tx, "other")
    first = await document(tx, mc, "123456.78", date(2026, 6, 10))
    await pay(tx, mc, date(2026, 7, 20), {first: "50000.00"})
    await document(tx, other, "48000.00", date(2026, 7, 10))

    await login(page, base, ADMIN_PASSWORD, tenant=None)
    await expect(page).to_have_url(f"{base}/")
    await page.goto(f"{base}/legal/penalties?period=2026-09")
    await page.get_by_label("Период начисления").fill("2026-09")
    await page.get_by_label("Дата расчёта").fill("2026-09-10")
    await page.get_by_role("button", name="Начислить пени").click()
    await expect(page).to_have_url(re.compile(r"job="))
    # the page drops the job from its address when the job is done and shows the month
    await expect(page).to_have_url(f"{base}/legal/penalties?period=2026-09", timeout=30_000)
    # mc: 50000 × 9.5 × 40 / 30000 = 633.333…; 73456.78 × 9.5 × 60 / 30000 = 1395.678…; days 61–90:
    # 73456.78 × 9.5 × 30 / 17000 = 1231.481…; day 91 = 09.09: 73456.78 × 9.5 × 1 / 13000 = 53.680…; Σ 3314.17.
    # other: 48000 × 9.5 × 61 / 13000 = 2139.69…
    rows = page.locator("table.grid tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator("main")).to_contain_text("3\u202f314,17")
    await expect(page.locator("main")).to_contain_text("2\u202f139,69")
    for width in (1400, 400):
        await _fits(page, f"{base}/legal/penalties?period=2026-09", width, screenshots, "month")
        await _fits(page, f"{base}/legal/contracts/{mc['id']}#penalties", width, screenshots, "contract")
