"""Allocations follow the billing run by themselves: an advance paid before a month's charges covers them
once that month is run, without POST /api/payments/allocate; a run reallocates only its own scope.

Registry of the `billing_tenant` fixture: house 1 with accounts 1–3 (a second house with account 4 is added
here). Reference data as in test_month_run.py: cold water 40.00 ₽/m³ × coefficient 1.5, sewage 30.00 ₽/m³,
norm 5 m³ per person. One resident and no meter: cold 5 × 40 × 1.5 = 300.00, sewage 5 × 30 = 150.00 a month.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from aquabill.billing_core.payments.balances import TurnoverScope, account_balance, turnover
from aquabill.billing_core.periods import Period
from tests.integration.billing_core.api_helpers import Api, wait_job
from tests.integration.billing_core.test_month_run import base_data, resident
from tests.integration.payments.test_allocation import rows, short


@pytest.fixture
def api(client, billing_tenant) -> Api:
    return Api(client, billing_tenant.headers)


async def setup(tx, accounts=(1, 2)) -> None:
    async with tx() as conn:
        await base_data(conn)
        for account in accounts:
            await resident(conn, account, date(2020, 1, 1))


async def pay_api(api: Api, account: int, amount: str, paid_on: str = "2024-03-20") -> int:
    return (await api.ok("post", "/api/payments", {"account_id": account, "amount": amount, "paid_on": paid_on}))["id"]


async def test_advance_is_consumed_by_the_month_run_without_allocate(api, tx, worker):
    await setup(tx)
    p1 = await pay_api(api, 1, "1000.00")
    p2 = await pay_api(api, 2, "200.00")
    async with tx() as conn:  # before April is charged, both are advances whole
        assert short(await rows(conn)) == [(p1, None, None, "advance", "1000.00"),
                                           (p2, None, None, "advance", "200.00")]
    started = await api.ok("post", "/api/billing/runs", {"period": "2024-04"}, status=202)
    job = await wait_job(api, started["job"]["id"])
    assert job["status"] == "done", job
    assert job["result"]["amount"] == "900.00" and job["result"]["allocations"] == 4
    async with tx() as conn:
        # account 1: April's cold water first (the service order), then sewage; 550.00 stays an advance;
        # account 2: 200.00 covers part of April's cold water
        assert short(await rows(conn)) == [
            (p1, None, None, "advance", "550.00"), (p1, "2024-04", "cold_water", "charge", "300.00"),
            (p1, "2024-04", "sewage", "charge", "150.00"), (p2, "2024-04", "cold_water", "charge", "200.00")]
        b1, b2 = await account_balance(conn, 1), await account_balance(conn, 2)
        assert (b1.debt, b1.advance, b1.balance) == (D("0"), D("550.00"), D("-550.00"))
        assert [(x.month, x.service, str(x.debt)) for x in b2.lines] == [
            ("2024-04", "cold_water", "100.00"), ("2024-04", "sewage", "150.00")]
        # the turnover statement reconciles to the kopeck with the payments and the balances
        t = await turnover(conn, Period(2024, 3), Period(2024, 4))
        assert t["totals"] == {"opening": "0.00", "charged": "900.00", "recalculated": "0.00", "paid": "1200.00",
                               "closing": "-300.00"}
        assert D(t["totals"]["closing"]) == b1.balance + b2.balance + (await account_balance(conn, 3)).balance
        one = await turnover(conn, Period(2024, 4), Period(2024, 4), TurnoverScope(account_id=1))
        assert one["totals"] == {"opening": "-1000.00", "charged": "450.00", "recalculated": "0.00",
                                 "paid": "0.00", "closing": "-550.00"}
    # the balance over the API says the same
    bal = await api.ok("get", "/api/accounts/2/balance")
    assert (bal["debt"], bal["advance"], bal["balance"]) == ("250.00", "0.00", "250.00")


async def _stale_payment(tx, account: int, amount: str) -> int:
    """A payment written without allocating it (as if loaded before this feature): it has no allocation rows."""
    async with tx() as conn:
        return (await conn.execute(text(
            "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
            "SELECT id, 'manual', DATE '2024-03-20', :x, :a, 'identified' FROM payment_agents WHERE code = 'manual' "
            "RETURNING id"), {"x": D(amount), "a": account})).scalar_one()


async def test_account_run_reallocates_only_that_account(api, tx):
    await setup(tx, accounts=(1, 2))
    p1 = await pay_api(api, 1, "500.00")
    p2 = await _stale_payment(tx, 2, "100.00")
    r = await api.ok("post", "/api/billing/runs", {"period": "2024-04", "scope": "account", "scope_id": 1},
                     status=202)
    assert r["mode"] == "immediate" and r["result"]["amount"] == "450.00"
    async with tx() as conn:
        assert short(await rows(conn)) == [
            (p1, None, None, "advance", "50.00"), (p1, "2024-04", "cold_water", "charge", "300.00"),
            (p1, "2024-04", "sewage", "charge", "150.00")]
        assert not await rows(conn, 2)  # account 2 is not touched
    # account 2's run (the form of the runs page goes the same way) allocates its payment over its charges
    r = await api.ok("post", "/api/billing/runs", {"period": "2024-04", "scope": "account", "scope_id": 2},
                     status=202)
    async with tx() as conn:
        assert short(await rows(conn, 2)) == [(p2, "2024-04", "cold_water", "charge", "100.00")]


async def test_house_run_reallocates_the_houses_accounts_only(api, tx, worker):
    await setup(tx, accounts=(1,))
    async with tx() as conn:  # a second house with account 4
        await conn.execute(text("INSERT INTO houses(street_id, number, improvement) VALUES (1, '2', 'full')"))
        await conn.execute(text("INSERT INTO premises(house_id, number, area_m2) VALUES (2, '1', 50)"))
        await conn.execute(text(
            "INSERT INTO accounts(number, premise_id, holder, opened_on) VALUES ('ЛС4', 4, 'Абонент 4', '2020-01-01')"))
        await resident(conn, 4, date(2020, 1, 1))
    p1 = await _stale_payment(tx, 1, "700.00")
    p4 = await _stale_payment(tx, 4, "300.00")
    started = await api.ok("post", "/api/billing/runs", {"period": "2024-04", "scope": "house", "scope_id": 1},
                           status=202)
    job = await wait_job(api, started["job"]["id"])
    assert job["status"] == "done" and job["result"]["allocations"] == 3, job
    async with tx() as conn:
        assert short(await rows(conn)) == [
            (p1, None, None, "advance", "250.00"), (p1, "2024-04", "cold_water", "charge", "300.00"),
            (p1, "2024-04", "sewage", "charge", "150.00")]
    # the whole tenant's run reallocates every account in one pass
    started = await api.ok("post", "/api/billing/runs", {"period": "2024-04"}, status=202)
    job = await wait_job(api, started["job"]["id"])
    assert job["status"] == "done", job
    async with tx() as conn:
        assert short(await rows(conn, 4)) == [(p4, "2024-04", "cold_water", "charge", "300.00")]


async def test_recalculation_of_a_closed_month_reallocates_by_month_of_origin(api, tx):
    """Closed months keep the allocation's rule: allocations are recomputed from scratch by month of origin.
    March is paid and closed; a second resident from 01.03 found later makes the run of March post +450.00
    as a recalculation in April (corrects 2024-03): the March payment now covers March's cold water first."""
    await setup(tx, accounts=(1,))
    run = {"scope": "account", "scope_id": 1}
    await api.ok("post", "/api/billing/runs", {"period": "2024-03", **run}, status=202)
    p = await pay_api(api, 1, "450.00", paid_on="2024-03-25")
    async with tx() as conn:
        assert short(await rows(conn)) == [(p, "2024-03", "cold_water", "charge", "300.00"),
                                           (p, "2024-03", "sewage", "charge", "150.00")]
        await conn.execute(text("UPDATE periods SET status = 'closed', closed_at = now() WHERE period = '2024-03-01'"))
    await api.ok("post", "/api/billing/runs", {"period": "2024-04", **run}, status=202)
    async with tx() as conn:
        await resident(conn, 1, date(2024, 3, 1))
    r = await api.ok("post", "/api/billing/runs", {"period": "2024-03", **run}, status=202)
    assert r["result"]["recalculated"] == {"2024-03": 2}
    async with tx() as conn:
        # March is now cold 600.00 + sewage 300.00: the payment covers cold water first (the service order)
        assert short(await rows(conn)) == [(p, "2024-03", "cold_water", "charge", "450.00")]
        bal = await account_balance(conn, 1)
        assert [(x.month, x.service, str(x.debt)) for x in bal.lines] == [
            ("2024-03", "cold_water", "150.00"), ("2024-03", "sewage", "300.00"),
            ("2024-04", "cold_water", "300.00"), ("2024-04", "sewage", "150.00")]
        t = await turnover(conn, Period(2024, 3), Period(2024, 4), TurnoverScope(account_id=1))
        assert t["totals"] == {"opening": "0.00", "charged": "900.00", "recalculated": "450.00", "paid": "450.00",
                               "closing": "900.00"}
