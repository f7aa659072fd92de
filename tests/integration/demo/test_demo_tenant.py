"""The demo tenant as `make run` seeds it (registry, a year of billing, then `seed_lived_in`) is a lived-in
utility: every staff page of the top navigation shows at least one row, a receipt has its payee and QR; the
seeding is idempotent (again, or twice at once, it changes nothing). A smaller town than the real demo's,
for a fixed day: 25.11.2026 at noon in Moscow (the open month 2026-11, 2026-10 closed through month close)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import text

from aquabill.demo.appeals import MOSCOW
from aquabill.demo.billing import seed_billing
from aquabill.demo.lived_in import seed_lived_in
from aquabill.demo.payments import REQUISITES
from aquabill.demo.tenant import seed_registry
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api, login_cookie

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=MOSCOW)
TABLES = ("payee_requisites", "payment_agents", "payment_files", "payments", "payment_allocations", "jobs", "appeals",
          "telephonograms", "calls", "users", "divisions", "executors", "request_routes", "requests", "request_events",
          "periods", "period_closes", "subscribers", "subscriber_links", "subscriber_inbox", "cash_points", "cash_shifts",
          "cash_receipts", "cash_orders", "counterparties", "contracts", "contract_points")


def town(accounts: int, *, lived_in: bool = True):
    async def seed(conn, _tenant):
        await seed_registry(conn, accounts_count=accounts, seed=42)
        await seed_billing(conn, today=NOW.date())
        if lived_in:
            await seed_lived_in(conn, now=NOW)

    return seed


@pytest.fixture(scope="module")
async def demo(make_tenant):
    return await make_tenant(seed=town(120))


# the SLA timers (an arq cron of the session's worker, `process_timers`) add these on their own schedule, at the
# real clock's now, whichever tenant was seeded: silent assignees replaced, overdue phases marked and escalated
TIMER_EVENTS = "WHERE kind NOT IN ('overdue', 'escalated', 'no_reaction', 'reassigned')"


async def counts(core, handle) -> dict[str, int]:
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        return {t: (await conn.execute(text(
            f"SELECT count(*) FROM {t} {TIMER_EVENTS if t == 'request_events' else ''}"))).scalar_one() for t in TABLES}


def data_rows(html: str) -> int:
    """Rows of the page's tables (tbody) that are not the «nothing here» row."""
    bodies = re.findall(r"<tbody[^>]*>(.*?)</tbody>", html, flags=re.S)
    return sum(len(re.findall(r"<tr(?![^>]*class=\"empty\")[\s>]", body)) for body in bodies)


async def test_every_page_of_the_navigation_has_rows(client, demo):
    await login_cookie(client, demo)
    home = await client.get("/")
    nav = re.search(r"<nav>(.*?)</nav>", home.text, flags=re.S)
    assert nav is not None
    pages = re.findall(r'href="(/[^"]*)"', nav.group(1))
    assert len(pages) == 29, pages
    for page in pages:
        r = await client.get(page)
        assert r.status_code == 200, (page, r.status_code)
        if page == "/console":  # its tables are filled from the API by console.js
            api = Api(client, demo.headers)
            for url in ("/api/calls?limit=15", "/api/requests/my", "/api/appeals?status=new&limit=15"):
                assert (await api.ok("get", url))["items"], url
        elif page == "/billing/requisites":
            assert f'value="{REQUISITES["personal_acc"]}"' in r.text and "(демо)" in r.text
        elif page == "/portal/rules":  # a settings form: the demo takes readings all month
            assert 'name="reading_first_day" value="1"' in r.text and 'name="reading_last_day" value="31"' in r.text
        elif page == "/receipts/print":  # the month's printing is the person's to start: the form, then the list
            assert 'name="period"' in r.text and "Печать квитанций" in r.text
        elif page == "/cash":  # the cashier's workstation: no shift is open until someone opens one
            assert "Открыть смену" in r.text and "Касса № 1" in r.text
        elif page == "/legal/reports":  # the reports' index: period pickers and links
            assert "Книга продаж" in r.text and "Акт сверки" in r.text
        elif page == "/bots":  # a settings form: no bot is connected in the demo
            assert "Telegram" in r.text and "MAX" in r.text
        else:
            assert data_rows(r.text) >= 1, f"{page}: no rows"
    statuses = {x["status"] for x in (await Api(client, demo.headers).ok("get", "/api/requests?limit=100"))["items"]}
    assert statuses >= {"new", "assigned", "in_work", "done", "closed", "cancelled"}


async def test_what_the_demo_has(client, demo, core):
    api = Api(client, demo.headers)
    files = await api.ok("get", "/api/payment-files")
    # the agent's three registries of individuals' payments, and the organisations' bank statements of three months
    assert sorted(f["agent_code"] for f in files["items"]) == ["bank1c"] * 3 + ["sber"] * 3
    assert all(f["status"] == "loaded" for f in files["items"])
    assert (await api.ok("get", "/api/payments/unidentified"))["total"] == 2
    appeals = (await api.ok("get", "/api/appeals?limit=100"))["items"]
    assert {a["status"] for a in appeals} == {"new", "in_work", "answered", "closed"}
    assert len({a["kind"] for a in appeals}) >= 4
    calls = (await api.ok("get", "/api/calls?limit=100"))["items"]
    assert Counter(c["status"] for c in calls) == {"answered": 20, "missed": 2, "abandoned": 2}
    assert sum(c["account_id"] is not None for c in calls) == 22  # the other two: numbers nobody has
    overdue = (await api.ok("get", "/api/requests?overdue=true"))["items"]
    assert overdue and overdue[0]["escalation_level"] >= 1
    assert (await api.ok("get", "/api/telephonograms?active_on=2026-11-25"))["items"]
    async with tenant_transaction(core.engines, demo.tenant) as conn:
        closed = (await conn.execute(text("SELECT to_char(period, 'YYYY-MM') FROM period_closes WHERE action = 'close'"))).scalars().all()
    assert closed == ["2026-10"]
    await login_cookie(client, demo)
    r = await client.get("/accounts/1/receipt?period=2026-10")
    assert r.status_code == 200 and "QR-код для оплаты" in r.text and REQUISITES["name"] in r.text


async def test_seeding_again_changes_nothing(core, demo):
    before = await counts(core, demo)
    async with tenant_transaction(core.engines, demo.tenant) as conn:
        assert await seed_lived_in(conn, now=NOW.replace(day=28)) == {
            "requisites": 0, "bank_files": 0, "appeals": 0, "calls": 0, "requests": 0, "subscribers": 0,
            "cash_receipts": 0, "bases": 0}
    assert await counts(core, demo) == before


async def test_every_tariff_and_norm_cites_its_act_also_in_a_demo_seeded_before(core, demo):
    """Every seeded tariff (of every group) and norm has an invented basis marked «(демо)»; a demo tenant seeded
    before the basis existed (t0036: the rows' basis empty) gets them at its next start, and only those rows."""
    async def bases(conn) -> dict[str, list[str]]:
        return {t: (await conn.execute(text(f"SELECT basis FROM {t} ORDER BY id"))).scalars().all()
                for t in ("tariffs", "norms")}

    async with tenant_transaction(core.engines, demo.tenant) as conn:
        seeded = await bases(conn)
        groups = (await conn.execute(text("SELECT DISTINCT tariff_group FROM tariffs"))).scalars().all()
        assert set(groups) == {"population", "other", "budget"}
        assert seeded["tariffs"] and seeded["norms"]
        assert all(b.startswith("Приказ Управления по тарифам Энской области от ") and b.endswith("(демо)")
                   for b in seeded["tariffs"]), seeded["tariffs"]
        assert set(seeded["norms"]) == {"Постановление Правительства Энской области от 15.12.2016 № 512-п (демо)"}
        await conn.execute(text("UPDATE tariffs SET basis = ''"))
        await conn.execute(text("UPDATE norms SET basis = ''"))
        await conn.execute(text("UPDATE tariffs SET price = price + 1 WHERE id = (SELECT min(id) FROM tariffs)"))
        cited = await seed_lived_in(conn, now=NOW)
        again = await bases(conn)
        await conn.execute(text("UPDATE tariffs SET price = price - 1, basis = :b WHERE id = (SELECT min(id) FROM tariffs)"),
                           {"b": seeded["tariffs"][0]})
    total = len(seeded["tariffs"]) + len(seeded["norms"])
    assert cited["bases"] == total - 1  # the row changed since (its price) is left as it is
    assert again["tariffs"][0] == "" and again["tariffs"][1:] == seeded["tariffs"][1:]
    assert again["norms"] == seeded["norms"]


async def test_two_seedings_at_once_seed_once(core, make_tenant, demo):
    bare = await make_tenant(seed=town(120, lived_in=False))

    async def seed():
        async with tenant_transaction(core.engines, bare.tenant) as conn:
            return await seed_lived_in(conn, now=NOW)

    first, second = await asyncio.gather(seed(), seed())
    assert sorted([first["requests"], second["requests"]])[0] == 0
    assert await counts(core, bare) == await counts(core, demo)
