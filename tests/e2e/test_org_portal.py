"""The organisation portal in a real headless Chromium: staff issue a one-time code on the counterparty card, a
portal user signs in, links the organisation with its INN and the code, sees the contract's debt and a document,
downloads the document's XML as issued and submits a reading of the organisation's meter; the pages at 1400 and
400 pixels wide (nothing wider than the screen)."""

from __future__ import annotations

import secrets

import httpx
from playwright.async_api import Page, expect
from sqlalchemy import text

from aquabill.platform.auth.passwords import hash_password
from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.test_staff_pages import login
from tests.integration.billing_core.api_helpers import Api
from tests.integration.legal_entities.org_portal.world import XML, add_documents, make_world_org
from tests.portal_support import portal_user

PASSWORD = "организация-пароль-1"


async def _fits(browser, base: str, token: str, paths: list[tuple[str, str]], screenshots) -> None:
    for width in (1400, 400):
        ctx = await browser.new_context(locale="ru-RU", viewport={"width": width, "height": 900})
        try:
            await ctx.add_cookies([{"name": "aquabill_my", "value": token, "url": base}])
            page = await ctx.new_page()
            for path, shot in paths:
                await page.goto(base + path)
                await expect(page.locator("main")).to_be_visible()
                scroll = await page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, (path, width, scroll)
                await page.screenshot(path=screenshots / f"org-{shot}-{width}.png", full_page=True)
        finally:
            await ctx.close()


async def test_code_link_document_xml_and_reading(page: Page, browser, servers, e2e_tenant, core, screenshots):
    tenant = e2e_tenant.tenant
    port = servers[0].port
    base = f"http://{tenant.slug}.localhost:{port}"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        org = await make_world_org(Api(http, e2e_tenant.headers), "ООО «Водопотребитель»", f"E2E-ОРГ-{secrets.token_hex(2)}")
    async with tenant_transaction(core.engines, tenant) as conn:
        await add_documents(conn, org, f"E2E-{secrets.token_hex(2)}")
        await conn.execute(text("UPDATE billing_settings SET value = '[1, 31]' WHERE key = 'portal_reading_days'"))

    # staff: the counterparty card, «Выдать код доступа», the code shown once
    await login(page, base, ADMIN_PASSWORD, tenant=None)
    await expect(page).to_have_url(f"{base}/")
    await page.goto(f"{base}/legal/counterparties/{org.id}")
    section = page.locator("#org-access")
    await expect(section.get_by_role("heading", name="Доступ в личный кабинет организации")).to_be_visible()
    await section.get_by_role("button", name="Выдать код доступа").click()
    code = (await page.locator("#org-access-code strong").inner_text()).strip()
    assert len(code) == 11 and code[5] == "-"
    await page.locator("#org-access").scroll_into_view_if_needed()
    await page.screenshot(path=screenshots / "org-staff-code-1400.png", full_page=True)
    await page.set_viewport_size({"width": 400, "height": 900})
    await page.locator("#org-access").scroll_into_view_if_needed()
    await page.screenshot(path=screenshots / "org-staff-code-400.png", full_page=True)

    # a portal user signs in on the login page and links the organisation
    email = f"org{secrets.token_hex(3)}@example.ru"
    me = await portal_user(core, tenant, email=email, full_name="Петрова Анна")
    async with tenant_transaction(core.engines, tenant) as conn:
        await conn.execute(text("UPDATE subscribers SET password_hash = :h WHERE id = :s"),
                           {"h": hash_password(PASSWORD), "s": me.subscriber_id})
    ctx = await browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 900}, accept_downloads=True)
    try:
        my = await ctx.new_page()
        await my.goto(f"{base}/my/org/link")
        await expect(my).to_have_url(f"{base}/my/login?next=/my/org/link")
        await my.get_by_label("Электронная почта или телефон").fill(email)
        await my.get_by_label("Пароль").fill(PASSWORD)
        await my.get_by_role("button", name="Войти").click()
        await my.goto(f"{base}/my/org/link")
        await my.get_by_label("ИНН организации").fill(org.inn)
        await my.get_by_label("Код доступа").fill(code.lower())
        await my.get_by_role("button", name="Привязать").click()
        await expect(my.locator("#org-link-result")).to_contain_text("ООО «Водопотребитель»")
        await my.locator("#org-link-result").get_by_role("link", name="Открыть").click()
        await expect(my).to_have_url(f"{base}/my/org/{org.id}")
        await expect(my.locator(f"#balance-{org.contract_id}")).to_have_text("720,00\u00a0₽")

        await my.locator(".org-tabs").get_by_role("link", name="Документы").click()
        row = my.locator(f"#document-{org.upd_id}")
        await expect(row).to_contain_text("УПД №")
        await expect(row).to_contain_text("1\u202f220,00")
        async with my.expect_download() as caught:
            await row.get_by_role("link", name="XML").click()
        download = await caught.value
        assert (await download.path()).read_bytes() == XML

        await my.locator(".org-tabs").get_by_role("link", name="Показания").click()
        meter = my.locator(f"#meter-{org.meter_id}")
        await meter.get_by_label("Показание сегодня, м³").fill("125")
        await meter.get_by_role("button", name="Передать показание").click()
        await expect(my.locator("#reading-result")).to_contain_text("принято. Расход: 25 м³.")
        await my.screenshot(path=screenshots / "org-reading-1400.png", full_page=True)
    finally:
        await ctx.close()
    async with tenant_transaction(core.engines, tenant) as conn:
        source = (await conn.execute(text("SELECT source FROM readings WHERE meter_id = :m"),
                                     {"m": org.meter_id})).scalar_one()
    assert source == "portal"

    await _fits(browser, base, me.token, [("/my/org", "list"), (f"/my/org/{org.id}", "contracts"),
                                          (f"/my/org/{org.id}/documents", "documents"),
                                          (f"/my/org/{org.id}/meters", "meters"),
                                          (f"/my/org/{org.id}/reconciliation", "reconciliation"),
                                          ("/my/org/link", "link")], screenshots)
