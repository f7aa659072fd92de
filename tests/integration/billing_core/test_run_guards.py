"""Billing runs never post twice (t0017, billing_core/run/guard.py): runs of overlapping scopes started at once
serialise (the month's charges are those of one run), a job waits its turn, an account's run in a web request
is refused with 409 while a run of its tenant or house is under way, and the unique indexes on the computed
and recalculation rows of `charges` stop a second posting that slipped past the locks."""

import asyncio
from contextlib import suppress
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from aquabill.base.errors import Conflict
from aquabill.billing_core.periods import Period
from aquabill.billing_core.run import posting
from aquabill.billing_core.run.common_property import add_common_property
from aquabill.billing_core.run.compute import Scope, compute
from aquabill.billing_core.run.guard import WAITING
from aquabill.billing_core.run.service import run_billing
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api

ACCOUNTS, HOUSES = 3000, 30
APRIL = Period(2024, 4)


async def many_accounts(conn, tenant=None) -> None:
    """3,000 accounts in 30 houses (accounts 1–100 in house 1, …): residents, a third of them with a cold-water
    meter read at the end of March and of April; tariffs and norms."""
    for sql in (
        "INSERT INTO settlements(kind, name) VALUES ('г.', 'Тестовск')",
        "INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Речная')",
        "INSERT INTO houses(street_id, number, improvement) SELECT 1, h::text, 'full' FROM generate_series(1, :h) h",
        "INSERT INTO premises(house_id, number, area_m2) SELECT (n - 1) / (:n / :h) + 1, n::text, 30 + n % 40 "
        "FROM generate_series(1, :n) n",
        "INSERT INTO accounts(number, premise_id, holder, opened_on) "
        "SELECT lpad(n::text, 7, '0'), n, 'Абонент ' || n, DATE '2020-01-01' FROM generate_series(1, :n) n",
        "INSERT INTO residents(account_id, full_name, registered_from) "
        "SELECT a, 'Житель ' || k, DATE '2020-01-01' FROM generate_series(1, :n) a, generate_series(1, 1 + a % 3) k",
        "INSERT INTO tariffs(service_id, price, valid_from) SELECT id, CASE code WHEN 'cold_water' THEN 41.37 "
        "ELSE 29.81 END, DATE '2020-01-01' FROM services WHERE code IN ('cold_water', 'sewage')",
        "INSERT INTO norms(service_id, improvement, volume, valid_from) SELECT id, 'full', "
        "CASE code WHEN 'cold_water' THEN 4.85 ELSE 7.9 END, DATE '2020-01-01' FROM services "
        "WHERE code IN ('cold_water', 'sewage')",
        "INSERT INTO meters(account_id, service_id, serial, digits, installed_on, initial_reading) "
        "SELECT a, (SELECT id FROM services WHERE code = 'cold_water'), 'M' || a, 5, DATE '2020-01-01', 0 "
        "FROM generate_series(3, :n, 3) a",
        "INSERT INTO readings(meter_id, read_on, value, status) SELECT m.id, d, "
        "CASE WHEN d = DATE '2024-03-31' THEN 100 + m.id % 7 ELSE 104 + m.id % 11 + (m.id % 10) / 10.0 END, "
        "'accepted' FROM meters m, (VALUES (DATE '2024-03-31'), (DATE '2024-04-30')) x(d)",
    ):
        await conn.execute(text(sql), {k: v for k, v in {"n": ACCOUNTS, "h": HOUSES}.items() if f":{k}" in sql})


@pytest.fixture
async def big_tenant(make_tenant):
    return await make_tenant(seed=many_accounts)


@pytest.fixture
def btx(core, big_tenant):
    def open_tx():
        return tenant_transaction(core.engines, big_tenant.tenant)

    return open_tx


async def month_figures(btx, period: Period = APRIL) -> tuple[int, D]:
    async with btx() as conn:
        row = (await conn.execute(text(
            "SELECT count(*), coalesce(sum(amount), 0) FROM charges WHERE period = :p AND corrects_period IS NULL"),
            {"p": period.first_day})).one()
    return row[0], row[1]


async def _race(btx, *scopes: Scope) -> list:
    """Each scope's run on its own connection, all let go at the same instant and, unless a run waits for
    another (the locks), writing their charges at the same instant too (a run that reaches its posting waits
    a little for the others); their results."""
    ready = asyncio.Barrier(len(scopes))
    posting_now = asyncio.Event()
    arrived = 0

    async def rendezvous(_pct: float, message: str) -> None:
        nonlocal arrived
        if message == "Запись начислений":
            arrived += 1
            if arrived == len(scopes):
                posting_now.set()
            with suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await posting_now.wait()

    async def one(scope: Scope):
        async with btx() as conn:
            await conn.execute(text("SELECT 1"))  # the transaction is open and bound to the tenant
            await ready.wait()
            return await run_billing(conn, APRIL, scope, progress=rendezvous)

    return await asyncio.gather(*(one(s) for s in scopes))


async def open_april(btx) -> None:
    async with btx() as conn:
        await conn.execute(text("INSERT INTO periods(period) VALUES (:p)"), {"p": APRIL.first_day})


async def test_two_tenant_runs_at_once_post_the_month_once(btx):
    await open_april(btx)  # (a run opening the month would be alone anyway, see the last test below)
    first, second = await _race(btx, Scope(), Scope())
    count, amount = await month_figures(btx)
    async with btx() as conn:  # one run alone, for comparison (it replaces the rows: idempotent)
        alone = await run_billing(conn, APRIL)
    assert alone.charges == first.charges == second.charges
    assert alone.amount == first.amount == second.amount
    assert (count, amount) == (alone.charges, D(alone.amount)) == await month_figures(btx)
    assert count == 2 * ACCOUNTS  # cold water and sewage per account
    assert amount > 0


async def test_overlapping_scopes_at_once_post_once(btx):
    async with btx() as conn:
        alone = await run_billing(conn, APRIL)
    await _race(btx, Scope(), Scope("house", 1), Scope("account", 1), Scope("account", 150))
    assert await month_figures(btx) == (alone.charges, D(alone.amount))


HOUSE_1, ACCOUNT_1, SAME_HOUSE, OTHER_HOUSE = Scope("house", 1), Scope("account", 1), Scope("account", 2), \
    Scope("account", 101)


@pytest.mark.parametrize(("held", "other", "refused"), [
    (Scope(), Scope(), "Идёт другой расчёт начислений организации"),
    (Scope(), HOUSE_1, "Идёт расчёт начислений по всей организации"),
    (Scope(), ACCOUNT_1, "Идёт расчёт начислений по всей организации"),
    (HOUSE_1, Scope(), "Идёт другой расчёт начислений организации"),
    (HOUSE_1, HOUSE_1, "Идёт расчёт начислений по этому дому"),
    (HOUSE_1, ACCOUNT_1, "Идёт расчёт начислений по дому этого лицевого счёта"),
    (HOUSE_1, Scope("house", 2), None),
    (HOUSE_1, OTHER_HOUSE, None),
    (ACCOUNT_1, Scope(), "Идёт другой расчёт начислений организации"),
    (ACCOUNT_1, HOUSE_1, "Идёт расчёт начислений по этому дому"),
    (ACCOUNT_1, ACCOUNT_1, "Расчёт этого лицевого счёта уже выполняется"),
    (ACCOUNT_1, SAME_HOUSE, None),
    (ACCOUNT_1, OTHER_HOUSE, None),
])
async def test_overlapping_scopes_exclude_each_other(btx, held, other, refused):
    """While a run is under way (its transaction open), a run that may not wait is refused exactly when the
    scopes overlap; one that does not overlap runs through."""
    await open_april(btx)
    async with btx() as holder:
        await run_billing(holder, APRIL, held)
        async with btx() as conn:
            if refused is None:
                assert (await run_billing(conn, APRIL, other, wait=False)).charges > 0
            else:
                with pytest.raises(Conflict) as exc:
                    await run_billing(conn, APRIL, other, wait=False)
                assert exc.value.message == f"{refused}: повторите, когда он завершится"


async def test_a_job_waits_for_the_tenant_run(btx):
    messages: list[str] = []

    async def progress(_pct: float, message: str) -> None:
        messages.append(message)

    async with btx() as holder:
        await run_billing(holder, APRIL)  # the tenant's run, not committed yet
        pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def account_run():
            async with btx() as conn:
                pid.set_result((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                return await run_billing(conn, APRIL, Scope("account", 1), progress=progress)

        waiting = asyncio.create_task(account_run())
        await waits_on_a_lock(btx, await pid)  # it waits for the tenant's run to end
        assert not waiting.done() and messages == [WAITING]
    result = await waiting
    assert result.charges == 2 and messages[-1] == "Готово"


async def test_web_account_run_is_refused_while_its_tenant_or_house_is_billed(client, big_tenant, btx):
    api = Api(client, big_tenant.headers)
    account = {"period": str(APRIL), "scope": "account", "scope_id": 1}
    await open_april(btx)  # (the case of a run opening the month comes last)
    async with btx() as holder:
        await run_billing(holder, APRIL)  # a tenant run under way
        r = await api.post("/api/billing/runs", account)
        assert r.status_code == 409, r.text
        assert r.json()["error"]["message"] == ("Идёт расчёт начислений по всей организации: повторите, когда "
                                                "он завершится")
    async with btx() as holder:
        await run_billing(holder, APRIL, Scope("house", 1))  # house 1 (accounts 1–100) under way
        r = await api.post("/api/billing/runs", account)
        assert r.status_code == 409, r.text
        assert r.json()["error"]["message"].startswith("Идёт расчёт начислений по дому этого лицевого счёта")
        other = await api.post("/api/billing/runs", {**account, "scope_id": 101})  # house 2: goes ahead
        assert other.status_code == 202 and other.json()["result"]["charges"] == 2, other.text
    r = await api.post("/api/billing/runs", account)  # nothing under way
    assert r.status_code == 202 and r.json()["result"]["charges"] == 2, r.text
    async with btx() as holder:
        # a house's run that opens May (its `periods` row not committed yet) is alone in the tenant: an
        # account's run of May elsewhere is refused at once rather than wait on that row
        await run_billing(holder, Period(2024, 5), Scope("house", 1))
        r = await api.post("/api/billing/runs", {**account, "period": "2024-05", "scope_id": 101})
        assert r.status_code == 409, r.text
        assert r.json()["error"]["message"] == ("Идёт другой расчёт начислений организации: повторите, когда он "
                                                "завершится")


async def waits_on_a_lock(btx, pid: int) -> None:
    """Until the backend `pid` waits for a lock (each look in a transaction of its own: pg_stat_activity is
    read once per transaction)."""
    async with asyncio.timeout(60):
        while True:
            async with btx() as conn:
                waiting = (await conn.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"),
                                              {"p": pid})).scalar()
            if waiting == "Lock":
                return
            await asyncio.sleep(0.05)


async def test_unique_indexes_stop_a_second_posting_past_the_locks(btx):
    """Two runs that skip the locks (compute + post by hand, as an old process might): the second waits for
    the first's rows and fails on the index when it commits; the month holds one run's rows."""
    async with btx() as conn:
        alone = await run_billing(conn, APRIL)
        await conn.execute(text("DELETE FROM charges"))
    async with btx() as first:
        await compute(first, APRIL, Scope())
        await add_common_property(first, APRIL)
        await posting.replace_open_period(first, APRIL.first_day, None)

        pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def second_run() -> None:
            async with btx() as conn:
                pid.set_result((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                await compute(conn, APRIL, Scope())
                await add_common_property(conn, APRIL)
                await posting.replace_open_period(conn, APRIL.first_day, None)

        second = asyncio.create_task(second_run())
        await waits_on_a_lock(btx, await pid)  # its insert waits on the index for the first's rows
        assert not second.done()
    with pytest.raises(DBAPIError) as exc:
        await second
    assert exc.value.orig.sqlstate == "23505" and "charges_computed_once" in str(exc.value.orig)
    assert await month_figures(btx) == (alone.charges, D(alone.amount))


async def test_unique_indexes_allow_corrections(btx):
    """Computed and recalculation rows are unique per key; stornos, one-off charges and instalments are not
    concerned, nor a computed row at another tariff or coefficient."""
    cold = "(SELECT id FROM services WHERE code = 'cold_water')"
    row = f"INSERT INTO charges(account_id, service_id, period, method, tariff, coefficient, amount, corrects_period, " \
          f"source, source_id) VALUES (1, {cold}, DATE '2024-04-01', :m, :t, :k, 10, :c, :src, :sid)"
    march = date(2024, 3, 1)
    async with btx() as conn:
        for m, t, k, c, src, sid in (("norm", 40, 1, None, None, None), ("norm", 41, 1, None, None, None),
                                     ("norm", 40, 1.5, None, None, None), ("recalculation", 0, 1, march, None, None),
                                     ("storno", 40, 1, march, "storno", 1), ("storno", 40, 1, march, "storno", 2),
                                     ("one_off", 40, 1, None, "one_off", 1), ("one_off", 40, 1, None, "one_off", 2),
                                     ("installment", 0, 1, None, "schedule", 1),
                                     ("installment", 0, 1, None, "schedule", 2)):
            await conn.execute(text(row), {"m": m, "t": t, "k": k, "c": c, "src": src, "sid": sid})
    for m, c, index in (("norm", None, "charges_computed_once"), ("recalculation", march, "charges_recalculation_once")):
        with pytest.raises(DBAPIError) as exc:
            async with btx() as conn:
                await conn.execute(text(row), {"m": m, "t": 40 if m == "norm" else 0, "k": 1, "c": c, "src": None,
                                               "sid": None})
        assert exc.value.orig.sqlstate == "23505" and index in str(exc.value.orig)
