"""How each charge was computed, on the portal: the subscriber's own account (page and API) shows the same
explanations as the account card; another account — linked to nobody or to another subscriber — is a 404, as
one that does not exist; without a session the API answers 401 and the page sends to the login page."""

from datetime import date

import pytest

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.service import run_billing
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.conftest import small_registry
from tests.integration.billing_core.test_month_run import base_data, meter, readings, resident
from tests.portal_support import portal_user

LINE = ("Холодное водоснабжение: по счётчику № M1-2023-01-01 — показания 100 (31.03) и 112 (30.04), "
        "расход 12\u00a0м³ × тариф 40,00\u00a0₽ = 480,00\u00a0₽.")


@pytest.fixture
async def billed(core, make_tenant):
    """ЛС1 by its meter (12 m³ in April 2024), ЛС2 by norm (one resident)."""
    handle = await make_tenant(seed=small_registry)
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        await base_data(conn)
        m = await meter(conn, 1, date(2023, 1, 1))
        await readings(conn, m, (date(2024, 3, 31), "100"), (date(2024, 4, 30), "112"))
        await resident(conn, 2, date(2020, 1, 1))
        await run_billing(conn, Period(2024, 4), Scope())
    return handle


async def test_own_account_explained_foreign_is_404(client, core, billed):
    me = await portal_user(core, billed.tenant, account_ids=[1])
    other = await portal_user(core, billed.tenant, account_ids=[2])

    page = await client.get("/my/accounts/1/explain?period=2024-04", headers=me.headers)
    assert page.status_code == 200
    assert LINE in page.text and "Лицевой счёт ЛС1" in page.text and 'id="explain-summary"' in page.text
    latest = await client.get("/my/accounts/1/explain", headers=me.headers)  # no month: the latest charged
    assert latest.status_code == 200 and LINE in latest.text

    api = await client.get("/api/my/accounts/1/explain?period=2024-04", headers=me.headers)
    assert api.status_code == 200
    body = api.json()
    assert (body["period"], body["months"], body["number"]) == ("2024-04", ["2024-04"], "ЛС1")
    assert [(x["service_code"], x["method"], x["amount"]) for x in body["items"]] == [
        ("cold_water", "meter", "480.00"), ("sewage", "meter", "360.00")]
    assert body["items"][0]["lines"] == [LINE] and body["items"][0]["text"] == LINE
    assert body["summary"].startswith("Лицевой счёт № ЛС1, апрель 2024: начислено 840,00\u00a0₽.")

    # another subscriber's account, and an account that does not exist: the same 404
    for account_id in (2, 999):
        assert (await client.get(f"/my/accounts/{account_id}/explain", headers=me.headers)).status_code == 404
        r = await client.get(f"/api/my/accounts/{account_id}/explain", headers=me.headers)
        assert r.status_code == 404 and r.json()["error"]["message"] == "Лицевой счёт не найден"
    assert (await client.get("/api/my/accounts/1/explain", headers=other.headers)).status_code == 404
    assert (await client.get("/api/my/accounts/2/explain", headers=other.headers)).status_code == 200

    # a month typed wrong: the page says so, the API refuses with 422
    bad = await client.get("/my/accounts/1/explain?period=2024-13", headers=me.headers)
    assert bad.status_code == 200 and "не распознан" in bad.text
    assert (await client.get("/api/my/accounts/1/explain?period=xx", headers=me.headers)).status_code == 422

    # no session
    host = {"Host": me.headers["Host"]}
    assert (await client.get("/api/my/accounts/1/explain", headers=host)).status_code == 401
    login = await client.get("/my/accounts/1/explain", headers=host, follow_redirects=False)
    assert login.status_code in (302, 303) and login.headers["location"].startswith("/my/login")


async def test_staff_card_section_and_api(client, core, billed):
    staff = {"Authorization": f"Bearer {billed.token}"}
    section = await client.get("/accounts/1/explain?period=2024-04", headers=staff)
    assert section.status_code == 200
    assert 'id="explain-section"' in section.text and "Ответ абоненту" in section.text and LINE in section.text
    api = await client.get("/api/accounts/2/charges/explain?period=2024-04", headers=staff)
    assert api.status_code == 200
    cold = api.json()["items"][0]
    assert cold["lines"][0] == "Холодное водоснабжение: по нормативу — 1 чел. × норматив 5\u00a0м³ в месяц."
    assert (await client.get("/api/accounts/999/charges/explain", headers=staff)).status_code == 404
    assert (await client.get("/api/accounts/1/charges/explain?period=2024-99", headers=staff)).status_code == 422
    # a subscriber's token opens no staff route
    me = await portal_user(core, billed.tenant, account_ids=[1])
    assert (await client.get("/api/accounts/1/charges/explain",
                             headers={"Authorization": f"Bearer {me.token}"})).status_code in (401, 403)
