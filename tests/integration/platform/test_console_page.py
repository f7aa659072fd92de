"""The agent's console page renders for staff with the live parts' anchors, shows colleagues' presence
and the agent's own status; it needs a session."""

from __future__ import annotations

from sqlalchemy import text

from aquabill.platform.presence import PresenceBook
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import login_cookie
from tests.integration.billing_core.conftest import small_registry


async def test_console_page_renders_with_presence(client, make_tenant, core):
    t = await make_tenant()
    await PresenceBook(core.redis, core.keys).choose(t.tenant.id, 1, "admin", "Администратор", "away")
    await login_cookie(client, t)
    r = await client.get("/console")
    assert r.status_code == 200, r.text
    page = r.text
    for anchor in ('id="call-banner"', 'id="queue-count"', 'id="presence"', "/static/console.js", "Контакт-центр"):
        assert anchor in page, anchor
    assert '<option value="away" selected>Отошёл</option>' in page
    assert "Администратор" in page and "Отошёл" in page


async def test_console_page_needs_a_session(client):
    client.cookies.clear()
    r = await client.get("/console", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/login?next=/console"


async def test_account_card_offers_click_to_call_when_there_is_a_phone(client, make_tenant, core):
    t = await make_tenant(seed=small_registry)
    async with tenant_transaction(core.engines, t.tenant) as conn:
        with_phone, without = (await conn.execute(text("SELECT id FROM accounts ORDER BY id LIMIT 2"))).scalars()
        await conn.execute(text("UPDATE accounts SET phone = CASE WHEN id = :a THEN '+79160000001' END"),
                           {"a": with_phone})
    await login_cookie(client, t)
    page = (await client.get(f"/accounts/{with_phone}")).text
    assert f'class="click-to-call inline" data-account-id="{with_phone}"' in page and "Позвонить" in page
    assert "click-to-call" not in (await client.get(f"/accounts/{without}")).text


async def test_calls_journal_page_filters_and_offers_call_back(client, make_tenant, core):
    t = await make_tenant(seed=small_registry)
    async with tenant_transaction(core.engines, t.tenant) as conn:
        account = (await conn.execute(text("SELECT id, number FROM accounts ORDER BY id LIMIT 1"))).one()
        await conn.execute(text(
            "INSERT INTO calls(linkedid, uniqueid, direction, caller, caller_normalised, queue, agent_extension, "
            "started_at, status, account_id, wait_s, duration_s) VALUES "
            "('l1', 'l1', 'inbound', '89160000001', '+79160000001', '600', '777', '2026-03-02 09:00+03', "
            " 'answered', :a, 5, 60), "
            "('l2', 'l2', 'inbound', '89160000002', '+79160000002', '600', NULL, '2026-03-03 10:00+03', "
            " 'missed', NULL, 30, 30)"), {"a": account.id})
    await login_cookie(client, t)
    page = (await client.get("/calls")).text
    assert "Журнал звонков" in page and "Найдено звонков: 2" in page
    assert f'<a href="/accounts/{account.id}">{account.number}</a>' in page
    assert page.count("Перезвонить") == 1 and 'data-call-id="' in page  # only the missed call
    missed = (await client.get("/calls?status=missed&date_from=2026-03-03&date_to=2026-03-03")).text
    assert "Найдено звонков: 1" in missed and "89160000002" in missed and "89160000001" not in missed
    assert "Найдено звонков: 1" in (await client.get("/calls?number=8 916 000-00-01")).text
    assert "Дата не распознана" in (await client.get("/calls?date_from=03.03.2026")).text
