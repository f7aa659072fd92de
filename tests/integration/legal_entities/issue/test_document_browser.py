"""The documents' pages in a real headless Chromium against the app in uvicorn with the arq worker: «Выставить
за месяц» starts the job, its progress shows live and the list then holds the month's documents; the card opens;
both pages fit a 400 px wide screen. Screenshots go to AQUABILL_E2E_SCREENSHOTS (or a pytest temp folder)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.async_api import Page, expect

from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (  # noqa: F401  (the browser fixtures)
    browser,
    context,
    page,
    pytest_runtest_makereport,
    screenshots,
    servers,
)
from tests.integration.legal_entities.issue.conftest import add_charges, make_contract, seller

OCT = date(2026, 10, 1)


@pytest.fixture(scope="module")
async def browser_tenant(make_tenant, core):
    t = await make_tenant(seed=seller)
    async with tenant_transaction(core.engines, t.tenant, 1) as conn:
        for i in range(3):
            k = await make_contract(conn, name=f"ООО «Браузер-{i}»")
            await add_charges(conn, k, OCT, [("cold_water", f"{10 + i}", "45.6700", False),
                                             ("sewage", "8", "61.0000", True)])
    return t


@pytest.mark.usefixtures("worker")
async def test_issue_from_the_page_with_live_progress(page: Page, servers, browser_tenant, screenshots):  # noqa: F811
    base = servers[0].base
    await page.goto(f"{base}/login")
    await page.get_by_label("Код организации", exact=True).fill(browser_tenant.tenant.slug)
    await page.get_by_label("Логин", exact=True).fill("admin")
    await page.get_by_label("Пароль", exact=True).fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await page.goto(f"{base}/legal/documents")
    await expect(page.get_by_role("heading", name="Документы юрлицам")).to_be_visible()
    await page.get_by_label("Месяц").first.fill("2026-10")
    await page.get_by_role("button", name="Выставить за месяц").click()
    await expect(page.locator("#doc-job .notice")).to_contain_text("Выставлено: УПД 3, актов 0, счетов 3")
    await page.goto(f"{base}/legal/documents?period=2026-10")
    await expect(page.locator("table.grid tbody tr")).to_have_count(6)
    await page.screenshot(path=screenshots / "legal-documents.png", full_page=True)
    await page.get_by_role("link", name="УПД №").first.click()
    await expect(page.get_by_role("link", name="Скачать XML")).to_be_visible()
    await page.screenshot(path=screenshots / "legal-document.png", full_page=True)
    await page.set_viewport_size({"width": 400, "height": 800})
    await page.screenshot(path=screenshots / "legal-document-400.png", full_page=True)
    await page.goto(f"{base}/legal/documents?period=2026-10")
    await page.screenshot(path=screenshots / "legal-documents-400.png", full_page=True)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
