"""The staff pages in a real headless Chromium: login, live job progress over the WebSocket, htmx search.

Every wait is a Playwright web-first assertion that retries until it holds or TIMEOUT_MS passes; nothing
here measures time.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import ACCOUNTS, LIVE_ON, TENANT_NAME

JOB_TITLE = "Сводка журнала изменений"
NO_RELOAD = "window.__e2eSamePage"  # set on the page; a reload or navigation would drop it


async def login(page: Page, base: str, password: str, tenant: str | None) -> None:
    await page.goto(f"{base}/login")
    if tenant is not None:
        await page.get_by_label("Код организации", exact=True).fill(tenant)
    await page.get_by_label("Логин", exact=True).fill("admin")
    await page.get_by_label("Пароль", exact=True).fill(password)
    await page.get_by_role("button", name="Войти").click()


async def expect_live(page: Page) -> None:
    """The WebSocket is open and the server has subscribed it (its `hello` comes after the subscription)."""
    await expect(page.locator("#live-status")).to_have_class(LIVE_ON)
    await expect(page.locator("#events")).to_contain_text("hello")


async def mark_page(page: Page) -> None:
    await page.evaluate(f"{NO_RELOAD} = true")


async def assert_same_page(page: Page) -> None:
    assert await page.evaluate(f"{NO_RELOAD} === true"), "the page was reloaded"


@pytest.mark.usefixtures("worker")
async def test_login_live_job_and_account_search(page: Page, servers, e2e_tenant, screenshots):
    base = servers[0].base
    slug = e2e_tenant.tenant.slug

    await page.goto(f"{base}/login")
    await expect(page.get_by_role("heading", name="Вход в систему")).to_be_visible()
    await expect(page.get_by_label("Код организации", exact=True)).to_be_visible()
    await page.screenshot(path=screenshots / "login.png", full_page=True)

    await login(page, base, ADMIN_PASSWORD, tenant=slug)
    await expect(page).to_have_url(f"{base}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text(TENANT_NAME)
    await expect(page.locator("header .tenant")).to_have_text(TENANT_NAME)
    # The deterministic demo registry: 60 accounts in 2 houses; the admin is the only user.
    await expect(page.locator(".stat")).to_have_text(
        [re.compile(rf"^{ACCOUNTS}\s*лицевых счетов$"), re.compile(r"^2\s*дома$"), re.compile(r"^1\s*пользователь$")])
    await expect_live(page)

    # A second tab on the other app process: the job's events reach it through Redis.
    other = await page.context.new_page()
    await other.goto(f"{servers[1].base}/")  # cookies are per host, not per port: same session
    await expect(other.get_by_role("heading", level=1)).to_have_text(TENANT_NAME)
    await expect_live(other)

    await mark_page(page)
    await page.get_by_role("button", name=JOB_TITLE).click()
    for p in (page, other):
        row = p.locator("#jobs tbody tr[data-job-id]").filter(has_text=JOB_TITLE)
        await expect(row).to_have_count(1)
        await expect(row.locator(".status")).to_have_text("Выполнено")
        await expect(row.locator(".pct")).to_have_text("100%")
        await expect(row.locator("progress")).to_have_js_property("value", 100)
        await expect(p.locator("#events")).to_contain_text("job.finished")
    await assert_same_page(page)
    await page.screenshot(path=screenshots / "home.png", full_page=True)
    await other.close()

    # The account search filters the rows in place (htmx), without leaving the page.
    await page.get_by_role("link", name="Лицевые счета").click()
    await expect(page).to_have_url(f"{base}/accounts")
    rows = page.locator("#account-rows tbody tr")
    found = page.locator("#account-rows p.muted")
    await expect(found).to_have_text(f"Найдено: {ACCOUNTS}")
    await expect(rows).to_have_count(25)
    number = (await rows.nth(7).locator("td").first.inner_text()).strip()
    holder = (await rows.nth(7).locator("td").nth(1).inner_text()).strip()

    await mark_page(page)
    search = page.get_by_placeholder("Номер счёта, ФИО, улица или телефон")
    await search.fill(number)
    await expect(found).to_have_text("Найдено: 1")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator("td").first).to_have_text(number)
    await expect(rows.first.locator("td").nth(1)).to_have_text(holder)

    await search.fill("нет-такого-абонента")
    await expect(found).to_have_text("Найдено: 0")
    await expect(rows).to_have_text(["Ничего не найдено"])

    await search.fill("")
    await expect(found).to_have_text(f"Найдено: {ACCOUNTS}")
    await expect(rows).to_have_count(25)
    await assert_same_page(page)
    await page.screenshot(path=screenshots / "accounts.png", full_page=True)


async def test_wrong_password_shows_russian_error(page: Page, servers, e2e_tenant, screenshots):
    base = servers[0].base
    await login(page, base, "not-the-password", tenant=e2e_tenant.tenant.slug)
    await expect(page.get_by_role("alert")).to_have_text("Неверный логин или пароль")
    await expect(page).to_have_url(f"{base}/login")
    # The form keeps what was typed, except the password.
    await expect(page.get_by_label("Код организации", exact=True)).to_have_value(e2e_tenant.tenant.slug)
    await expect(page.get_by_label("Логин", exact=True)).to_have_value("admin")
    await expect(page.get_by_label("Пароль", exact=True)).to_have_value("")
    await expect(page.locator("#live-status")).to_have_count(0)
    await page.screenshot(path=screenshots / "login-error.png", full_page=True)


async def test_tenant_from_host_name(page: Page, servers, e2e_tenant, screenshots):
    """`<slug>.localhost` names the tenant: no tenant-code field. Chromium resolves *.localhost itself."""
    port = servers[0].port
    slug = e2e_tenant.tenant.slug
    base = f"http://{slug}.localhost:{port}"

    await page.goto(f"{base}/login")
    await expect(page.get_by_role("heading", name="Вход в систему")).to_be_visible()
    await expect(page.get_by_label("Код организации", exact=True)).to_have_count(0)
    await expect(page.locator("input[name=tenant]")).to_have_count(0)
    await expect(page.locator("main")).to_contain_text(f"Организация: {TENANT_NAME}")
    await page.screenshot(path=screenshots / "login-host.png", full_page=True)

    await login(page, base, ADMIN_PASSWORD, tenant=None)
    await expect(page).to_have_url(f"{base}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text(TENANT_NAME)
    await expect_live(page)
