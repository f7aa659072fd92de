"""The billing pages with real PostgreSQL: the runs page shows the demo's runs and their figures, the form
runs one account at once and starts a house's run as a job that the worker finishes; refusals write
nothing; permissions; the charges page's sums by service and method, rows, filter and paging.
The tenant is seeded like the demo (seed_registry + demo_billing.seed_billing) for a fixed day."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.demo.billing import seed_billing
from aquabill.demo.tenant import seed_registry
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import as_role, login_cookie

TODAY = date(2026, 5, 23)  # the open period is 2026-05; 2025-05 … 2026-04 are closed
HX = {"HX-Request": "true"}


def ru_money(value) -> str:
    """As the pages' ru_num(2) filter writes it: «12 345,67» (narrow no-break space)."""
    return f"{Decimal(value).quantize(Decimal('0.01')):,f}".replace(",", "\u202f").replace(".", ",")


@pytest.fixture(scope="module")
async def demo(make_tenant):
    async def seed(conn, _tenant):
        await seed_registry(conn, accounts_count=40, seed=7)
        await seed_billing(conn, today=TODAY, seed=7)

    return await make_tenant(seed=seed)


@pytest.fixture
def tx(core, demo):
    def open_tx():
        return tenant_transaction(core.engines, demo.tenant)

    return open_tx


async def scalar(tx, sql: str, **args):
    async with tx() as conn:
        return (await conn.execute(text(sql), args)).scalar()


async def test_demo_billing_data(tx):
    async with tx() as conn:
        periods = dict((await conn.execute(text(
            "SELECT to_char(period, 'YYYY-MM'), status FROM periods"))).all())
        runs = (await conn.execute(text(
            "SELECT to_char(period, 'YYYY-MM') AS p, stats FROM billing_runs ORDER BY id"))).all()
        metered = (await conn.execute(text(
            "SELECT count(DISTINCT account_id) FROM meters WHERE kind = 'individual'"))).scalar()
        overdue = (await conn.execute(text(
            "SELECT count(*) FROM meters WHERE kind = 'individual' AND verified_until < :d"), {"d": TODAY})).scalar()
        building = (await conn.execute(text(
            "SELECT count(*) FROM meters m JOIN houses h ON h.id = m.house_id "
            "WHERE m.kind = 'building' AND h.common_area_m2 > 0"))).scalar()
        months = (await conn.execute(text(
            "SELECT count(DISTINCT date_trunc('month', r.read_on)) FROM readings r JOIN meters m ON m.id = r.meter_id "
            "WHERE m.kind = 'individual' AND r.read_on < DATE '2026-05-01'"))).scalar()
        tariffs = (await conn.execute(text(
            "SELECT s.code, t.price FROM tariffs t JOIN services s ON s.id = t.service_id "
            "WHERE t.valid_from = DATE '2024-07-01' ORDER BY s.code"))).all()
        charged = (await conn.execute(text(
            "SELECT to_char(period, 'YYYY-MM'), sum(amount) FROM charges GROUP BY 1 ORDER BY 1"))).all()
        no_sewage = (await conn.execute(text(
            "SELECT count(*) FROM charges c JOIN services s ON s.id = c.service_id JOIN accounts a ON a.id = c.account_id "
            "JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id "
            "WHERE s.code = 'sewage' AND h.improvement = 'no_sewage'"))).scalar()
        residents = (await conn.execute(text("SELECT count(DISTINCT account_id) FROM residents"))).scalar()
        blocks = (await conn.execute(text("SELECT count(*) FROM houses WHERE improvement = 'full'"))).scalar()
    assert periods["2026-05"] == "open" and periods["2026-04"] == "closed" and periods["2025-05"] == "closed"
    assert len(periods) == 13
    assert [r.p for r in runs] == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert all(r.stats["accounts"] == 40 and r.stats["missing_total"] == 0 for r in runs)
    assert runs[-1].stats["recalculated"], "late readings recalculate a closed month in the open month's run"
    assert 20 <= metered <= 36 and overdue >= 1 and building == min(2, blocks) and months == 12 and residents == 40
    assert [(c, str(p)) for c, p in tariffs] == [("cold_water", "48.7300"), ("common_cold", "48.7300"),
                                                 ("sewage", "41.5500")]
    assert [p for p, _ in charged] == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert all(amount > 0 for _, amount in charged) and no_sewage == 0


async def test_runs_page_shows_runs_and_figures(client, demo, tx):
    await login_cookie(client, demo)
    home = await client.get("/")
    assert 'href="/billing/runs"' in home.text and 'href="/billing/charges"' in home.text
    page = await client.get("/billing/runs")
    assert page.status_code == 200
    latest = await scalar(tx, "SELECT stats FROM billing_runs ORDER BY id DESC LIMIT 1")
    for expected in ("Расчёт начислений", 'name="period" value="2026-05"', "Открытый период: <b>2026-05</b>",
                     "Вся организация", "Завершён", ru_money(latest["amount"]), 'hx-post="/billing/runs"',
                     "/static/billing_runs.js", 'href="/billing/charges?period=2026-05"'):
        assert expected in page.text, expected
    period, rows = next(iter(latest["recalculated"].items()))
    assert f"{period}: {rows} стр." in page.text
    assert re.search(r"ул\. \w+, д\. \d+ \(\d+ л/с\)</option>", page.text)  # the houses to choose from
    part = await client.get("/billing/runs?part=runs")
    assert part.status_code == 200 and part.text.lstrip().startswith('<section class="card" id="runs-section"')
    assert "every 2s" not in part.text  # nothing running: no polling

    street = await scalar(tx, "SELECT s.name FROM houses h JOIN streets s ON s.id = h.street_id ORDER BY h.id LIMIT 1")
    houses = await client.get(f"/billing/runs/houses?house_q={street[:4].lower()}")
    options = re.findall(r"<option [^>]*>([^<]*)</option>", houses.text)
    assert houses.status_code == 200 and options and all(street in o for o in options), houses.text
    assert "Дома не найдены" in (await client.get("/billing/runs/houses?house_q=нет-такой")).text


async def test_run_form_account_at_once_and_refusals(client, demo, tx):
    await login_cookie(client, demo)
    number = await scalar(tx, "SELECT number FROM accounts ORDER BY id LIMIT 1")
    runs_before = await scalar(tx, "SELECT count(*) FROM billing_runs")
    charges_before = await scalar(tx, "SELECT count(*) FROM charges WHERE period = DATE '2026-05-01'")
    r = await client.post("/billing/runs", data={"period": "2026-05", "scope": "account", "account_number": number},
                          headers=HX)
    assert r.status_code == 200 and r.text.startswith('<div id="billing-runs">') and "<html" not in r.text
    assert f"Лицевой счёт {number} рассчитан за 2026-05: начислений" in r.text
    assert await scalar(tx, "SELECT count(*) FROM billing_runs") == runs_before + 1
    # an open period's re-run replaces its rows: the same charges again
    assert await scalar(tx, "SELECT count(*) FROM charges WHERE period = DATE '2026-05-01'") == charges_before
    assert f'>{number}</a>' in r.text  # the new run in the list, scoped to the account

    for form, message in (({"period": "2026-13", "scope": "tenant"}, "Недопустимый расчётный период"),
                          ({"period": "май", "scope": "tenant"}, "не распознан"),
                          ({"period": "2026-05", "scope": "account", "account_number": "нет-такого"},
                           "Лицевой счёт № нет-такого не найден"),
                          ({"period": "2026-05", "scope": "account"}, "Укажите номер лицевого счёта"),
                          ({"period": "2026-05", "scope": "house", "house_id": ""}, "Выберите дом"),
                          ({"period": "2026-05", "scope": "house", "house_id": "999999"}, "Дом не найден"),
                          ({"period": "2026-05", "scope": "galaxy"}, "Выберите область расчёта")):
        r = await client.post("/billing/runs", data=form, headers=HX)
        assert r.status_code == 200 and 'class="error"' in r.text and message in r.text, (form, r.text[:300])
    assert await scalar(tx, "SELECT count(*) FROM billing_runs") == runs_before + 1
    assert await scalar(tx, "SELECT count(*) FROM jobs") == 0
    # without htmx the whole page comes back
    r = await client.post("/billing/runs", data={"period": "2026-13"})
    assert r.status_code == 200 and "<html" in r.text and "Недопустимый расчётный период" in r.text


async def test_house_run_is_a_job_the_worker_finishes(client, demo, tx, worker):
    await login_cookie(client, demo)
    house = (await _one(tx, "SELECT h.id, h.number, count(a.id) AS n FROM houses h JOIN premises p ON p.house_id = h.id "
                            "JOIN accounts a ON a.premise_id = p.id GROUP BY h.id ORDER BY count(a.id) DESC, h.id LIMIT 1"))
    r = await client.post("/billing/runs", data={"period": "2026-05", "scope": "house", "house_id": str(house.id)},
                          headers=HX)
    assert r.status_code == 200 and "Расчёт за 2026-05 запущен" in r.text, r.text[:500]
    job_id = await scalar(tx, "SELECT id FROM jobs WHERE kind = 'billing.run' ORDER BY created_at DESC LIMIT 1")
    assert f'data-run-job="{job_id}"' in r.text and "every 2s" in r.text  # live row; polls while the socket is down
    async with asyncio.timeout(60):
        while True:
            job = await _one(tx, "SELECT status, result, error FROM jobs WHERE id = :j", j=job_id)
            if job.status in ("done", "failed"):
                break
            await asyncio.sleep(0.1)
    assert job.status == "done", job.error
    assert job.result["accounts"] == house.n
    run = await _one(tx, "SELECT scope, scope_id, job_id FROM billing_runs ORDER BY id DESC LIMIT 1")
    assert (run.scope, run.scope_id, str(run.job_id)) == ("house", house.id, str(job_id))

    part = await client.get("/billing/runs?part=runs")
    row = part.text.split(f'data-run-id="{job.result["run_id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "Завершён" in row and f"д. {house.number}" in row and ru_money(job.result["amount"]) in row
    assert 'value="100.0"' in row and "every 2s" not in part.text


async def test_permissions(client, demo):
    viewer = await as_role(client, demo, "viewer")
    r = await viewer.get("/billing/runs")
    assert r.status_code == 200 and "Завершён" in r.text and 'hx-post="/billing/runs"' not in r.text
    assert (await viewer.get("/billing/charges")).status_code == 200
    r = await viewer.client.post("/billing/runs", headers=viewer.headers, data={"period": "2026-05"})
    assert r.status_code == 403
    operator = await as_role(client, demo, "operator")
    assert (await operator.get("/billing/runs")).status_code == 403
    assert (await operator.get("/billing/charges")).status_code == 403
    assert (await client.get("/billing/runs", follow_redirects=False)).status_code == 302


async def test_charges_page_sums_rows_filter_paging(client, demo, tx):
    await login_cookie(client, demo)
    async with tx() as conn:
        total, amount = (await conn.execute(text(
            "SELECT count(*), sum(amount) FROM charges WHERE period = DATE '2026-04-01'"))).one()
        cold_meter = (await conn.execute(text(
            "SELECT sum(c.amount) FROM charges c JOIN services s ON s.id = c.service_id "
            "WHERE c.period = DATE '2026-04-01' AND s.code = 'cold_water' AND c.method = 'meter'"))).scalar()
        number = (await conn.execute(text(
            "SELECT a.number FROM charges c JOIN accounts a ON a.id = c.account_id "
            "WHERE c.period = DATE '2026-04-01' ORDER BY a.number DESC LIMIT 1"))).scalar()
        mine = (await conn.execute(text(
            "SELECT count(*), sum(c.amount) FROM charges c JOIN accounts a ON a.id = c.account_id "
            "WHERE c.period = DATE '2026-04-01' AND a.number = :n"), {"n": number})).one()
    page = await client.get("/billing/charges?period=2026-04")
    assert page.status_code == 200
    summary = page.text.split('id="charges-summary"', 1)[1].split("</section>", 1)[0]
    assert "Холодное водоснабжение" in summary and "Водоотведение" in summary and "по прибору учёта" in summary
    assert ru_money(cold_meter) in summary and f'id="charges-amount">{ru_money(amount)}<' in summary
    assert f"1–50 из {total}" in page.text and "offset=50" in page.text
    second = await client.get("/billing/charges?period=2026-04&offset=50")
    assert f"51–{min(100, total)} из {total}" in second.text

    one = await client.get(f"/billing/charges?period=2026-04&account={number}")
    rows = one.text.split('id="charges-rows"', 1)[1]
    assert f"1–{mine[0]} из {mine[0]}" in rows and rows.count(f">{number}</a>") == mine[0]
    assert f'id="charges-amount">{ru_money(mine[1])}<' in one.text

    latest = await client.get("/billing/charges")  # by default the latest period with charges
    assert "Начисления за 2026-05" in latest.text and "2026-04 — закрыт" in latest.text
    bad = await client.get("/billing/charges?period=2026-99")
    assert bad.status_code == 200 and "Недопустимый расчётный период" in bad.text
    empty = await client.get("/billing/charges?period=2025-06")
    assert "За этот период начислений нет" in empty.text


async def _one(tx, sql: str, **args):
    async with tx() as conn:
        return (await conn.execute(text(sql), args)).one()
