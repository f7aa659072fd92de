"""Allocation of payments by month of origin and the turnover statement, with numbers worked out by hand.

Registry of the `billing_tenant` fixture: one house (id 1), accounts 1–3. The tenant's service order is
the default ["cold_water", "hot_water", "sewage", "common_cold"]. Charges and payments are written here
directly with SQL (the payments import is tested elsewhere).

The base charges of account 1 (3 months, 2 services; 1 560.00 in all):
    2024-01  cold 300.00  sewage 200.00
    2024-02  cold 310.00  sewage 210.00
    2024-03  cold 320.00  sewage 220.00
"""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from aquabill.billing_core.payments.allocation import MANY_ACCOUNTS, allocate_accounts, allocate_all
from aquabill.billing_core.payments.balances import TurnoverScope, account_balance, turnover
from aquabill.billing_core.periods import Period
from tests.integration.billing_core.api_helpers import Api, as_role

JAN, FEB, MAR, APR = (date(2024, m, 1) for m in (1, 2, 3, 4))


async def sid(conn, code: str) -> int:
    return (await conn.execute(text("SELECT id FROM services WHERE code = :c"), {"c": code})).scalar_one()


async def charge(conn, account: int, code: str, period: date, amount: str, method: str = "norm",
                 corrects: date | None = None) -> None:
    await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, amount, corrects_period) "
        "VALUES (:a, :s, :p, :m, :x, :c)"),
        {"a": account, "s": await sid(conn, code), "p": period, "m": method, "x": D(amount), "c": corrects})


async def base_charges(conn, account: int = 1) -> None:
    for period, cold, sewage in ((JAN, "300.00", "200.00"), (FEB, "310.00", "210.00"), (MAR, "320.00", "220.00")):
        await charge(conn, account, "cold_water", period, cold)
        await charge(conn, account, "sewage", period, sewage)


async def pay(conn, account: int | None, paid_on: date, amount: str, *, period: date | None = None,
              service: str | None = None, status: str = "identified") -> int:
    service_id = await sid(conn, service) if service else None
    return (await conn.execute(text(
        "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, period, service_id, status) "
        "SELECT id, 'manual', :d, :x, :a, :p, :s, :st FROM payment_agents WHERE code = 'manual' RETURNING id"),
        {"d": paid_on, "x": D(amount), "a": account, "p": period, "s": service_id, "st": status})).scalar_one()


async def rows(conn, account: int | None = None) -> list[tuple]:
    """(payment, month YYYY-MM or None, service code or None, kind, amount) in a stable order."""
    found = (await conn.execute(text(
        "SELECT pa.payment_id, to_char(pa.month_of_origin, 'YYYY-MM'), s.code, pa.kind, pa.amount, pa.account_id "
        "FROM payment_allocations pa LEFT JOIN services s ON s.id = pa.service_id "
        "WHERE CAST(:a AS integer) IS NULL OR pa.account_id = :a "
        "ORDER BY pa.payment_id, pa.kind, pa.month_of_origin NULLS LAST, s.code"), {"a": account})).all()
    return [tuple(r) for r in found]


def short(found: list[tuple]) -> list[tuple]:
    return [(p, m, s, k, str(x)) for p, m, s, k, x, _ in found]


async def test_partial_payment_covers_the_oldest_month_by_service_order(tx):
    async with tx() as conn:
        await base_charges(conn)
        p = await pay(conn, 1, date(2024, 4, 5), "400.00")
        await allocate_accounts(conn, [1])
        # January first: cold water (first in the order) whole, then 100 of sewage
        assert short(await rows(conn)) == [(p, "2024-01", "cold_water", "charge", "300.00"),
                                           (p, "2024-01", "sewage", "charge", "100.00")]
        bal = await account_balance(conn, 1)
        assert [(x.month, x.service, str(x.debt)) for x in bal.lines] == [
            ("2024-01", "sewage", "100.00"), ("2024-02", "cold_water", "310.00"), ("2024-02", "sewage", "210.00"),
            ("2024-03", "cold_water", "320.00"), ("2024-03", "sewage", "220.00")]
        assert (bal.debt, bal.advance, bal.balance) == (D("1160.00"), D("0"), D("1160.00"))


async def test_service_order_is_the_tenants_setting(tx):
    async with tx() as conn:
        await conn.execute(text("UPDATE billing_settings SET value = '[\"sewage\", \"cold_water\"]' "
                                "WHERE key = 'allocation_service_order'"))
        await base_charges(conn)
        p = await pay(conn, 1, date(2024, 4, 5), "400.00")
        await allocate_accounts(conn, [1])
        assert short(await rows(conn)) == [(p, "2024-01", "cold_water", "charge", "200.00"),
                                           (p, "2024-01", "sewage", "charge", "200.00")]


async def test_overpayment_becomes_an_advance_consumed_by_a_new_month(tx):
    async with tx() as conn:
        await base_charges(conn)
        p = await pay(conn, 1, date(2024, 4, 5), "1600.00")
        await allocate_accounts(conn, [1])
        found = short(await rows(conn))
        assert len(found) == 7 and found[0] == (p, None, None, "advance", "40.00")
        assert sum(D(x[4]) for x in found) == D("1600.00")
        bal = await account_balance(conn, 1)
        assert (bal.lines, bal.advance, bal.balance) == ([], D("40.00"), D("-40.00"))
        # April is charged: reallocating turns the advance into coverage of April's cold water
        await charge(conn, 1, "cold_water", APR, "330.00")
        await charge(conn, 1, "sewage", APR, "230.00")
        await allocate_accounts(conn, [1])
        found = short(await rows(conn))
        assert (p, "2024-04", "cold_water", "charge", "40.00") in found
        assert not [x for x in found if x[3] == "advance"] and sum(D(x[4]) for x in found) == D("1600.00")
        bal = await account_balance(conn, 1)
        assert [(x.month, x.service, str(x.debt)) for x in bal.lines] == [
            ("2024-04", "cold_water", "290.00"), ("2024-04", "sewage", "230.00")]
        assert (bal.advance, bal.balance) == (D("0"), D("520.00"))


async def test_payment_naming_a_period_or_a_service_covers_it_first(tx):
    async with tx() as conn:
        await base_charges(conn)
        p1 = await pay(conn, 1, date(2024, 4, 1), "500.00")
        p2 = await pay(conn, 1, date(2024, 4, 2), "300.00", period=MAR)
        p3 = await pay(conn, 1, date(2024, 4, 3), "250.00", period=MAR, service="sewage")
        await allocate_accounts(conn, [1])
        # p3 names March sewage (220, the 30 left goes oldest first); p2 names March: cold water first;
        # p1 names nothing: January
        assert short(await rows(conn)) == [
            (p1, "2024-01", "cold_water", "charge", "300.00"), (p1, "2024-01", "sewage", "charge", "200.00"),
            (p2, "2024-03", "cold_water", "charge", "300.00"),
            (p3, "2024-02", "cold_water", "charge", "30.00"), (p3, "2024-03", "sewage", "charge", "220.00")]


async def test_payment_naming_only_a_service(tx):
    async with tx() as conn:
        await base_charges(conn)
        p = await pay(conn, 1, date(2024, 4, 1), "500.00", service="sewage")
        await allocate_accounts(conn, [1])
        # sewage oldest first: January 200, February 210, March 90
        assert short(await rows(conn)) == [(p, "2024-01", "sewage", "charge", "200.00"),
                                           (p, "2024-02", "sewage", "charge", "210.00"),
                                           (p, "2024-03", "sewage", "charge", "90.00")]


async def test_recalculation_credit_acts_as_an_advance(tx):
    async with tx() as conn:
        await base_charges(conn)
        # April's run recalculated January cold water by −350 (more than its 300) and February sewage by −10
        await charge(conn, 1, "cold_water", APR, "-350.00", "recalculation", corrects=JAN)
        await charge(conn, 1, "sewage", APR, "-10.00", "recalculation", corrects=FEB)
        p = await pay(conn, 1, date(2024, 4, 5), "500.00")
        await allocate_accounts(conn, [1])
        # items: Jan cold −50 (a credit), Jan sewage 200, Feb cold 310, Feb sewage 200, Mar 320 + 220;
        # the credit covers 50 of Jan sewage; the payment the next 150, Feb cold 310 and 40 of Feb sewage
        assert short(await rows(conn)) == [(p, "2024-01", "sewage", "charge", "150.00"),
                                           (p, "2024-02", "cold_water", "charge", "310.00"),
                                           (p, "2024-02", "sewage", "charge", "40.00")]
        bal = await account_balance(conn, 1)
        assert [(x.month, x.service, str(x.debt)) for x in bal.lines] == [
            ("2024-02", "sewage", "160.00"), ("2024-03", "cold_water", "320.00"), ("2024-03", "sewage", "220.00")]
        assert (bal.advance, bal.balance) == (D("0"), D("700.00"))


async def test_credit_larger_than_the_debt_is_an_advance(tx):
    async with tx() as conn:
        await charge(conn, 1, "cold_water", JAN, "100.00")
        await charge(conn, 1, "cold_water", FEB, "-150.00", "one_off")
        await allocate_accounts(conn, [1])
        bal = await account_balance(conn, 1)
        assert (bal.lines, bal.advance, bal.balance) == ([], D("50.00"), D("-50.00"))


async def test_storno_of_a_payment_reallocates(tx):
    async with tx() as conn:
        await base_charges(conn)
        p1 = await pay(conn, 1, date(2024, 4, 1), "400.00")
        p2 = await pay(conn, 1, date(2024, 4, 2), "200.00")
        await allocate_accounts(conn, [1])
        assert short(await rows(conn)) == [
            (p1, "2024-01", "cold_water", "charge", "300.00"), (p1, "2024-01", "sewage", "charge", "100.00"),
            (p2, "2024-01", "sewage", "charge", "100.00"), (p2, "2024-02", "cold_water", "charge", "100.00")]
        await conn.execute(text("UPDATE payments SET status = 'storno' WHERE id = :p"), {"p": p1})
        await allocate_accounts(conn, [1])
        assert short(await rows(conn)) == [(p2, "2024-01", "cold_water", "charge", "200.00")]
        # unidentified and rolled-back payments never count
        await pay(conn, None, date(2024, 4, 3), "999.00", status="unidentified")
        await pay(conn, 1, date(2024, 4, 3), "999.00", status="rolled_back")
        await allocate_accounts(conn, [1])
        assert short(await rows(conn)) == [(p2, "2024-01", "cold_water", "charge", "200.00")]


async def test_allocation_is_idempotent_and_the_same_for_one_account_or_all(tx):
    async with tx() as conn:
        await base_charges(conn, 1)
        await base_charges(conn, 2)
        await charge(conn, 1, "cold_water", APR, "-40.00", "storno", corrects=MAR)
        await pay(conn, 1, date(2024, 4, 1), "700.00", period=FEB)
        await pay(conn, 1, date(2024, 4, 1), "123.45")
        await pay(conn, 2, date(2024, 4, 2), "2000.00", service="sewage")
        await allocate_accounts(conn, [1, 2])
        first = await rows(conn)
        await allocate_accounts(conn, [1, 2])
        assert await rows(conn) == first
        await allocate_all(conn)
        assert await rows(conn) == first
        await allocate_accounts(conn, [2])
        assert await rows(conn) == first
        # many accounts (a payments file) go through a scope table instead of an array: the same rows
        await conn.execute(text("DELETE FROM payment_allocations WHERE payment_id IN (SELECT id FROM payments "
                                "WHERE account_id = 1)"))
        await allocate_accounts(conn, [1, 2, *range(10_000, 10_000 + MANY_ACCOUNTS)])
        assert await rows(conn) == first
        # each payment is allocated whole
        sums = (await conn.execute(text(
            "SELECT p.id, p.amount, sum(pa.amount) FROM payments p JOIN payment_allocations pa ON pa.payment_id = p.id "
            "GROUP BY 1, 2"))).all()
        assert len(sums) == 3 and all(r[1] == r[2] for r in sums)


async def turnover_data(conn) -> None:
    """Account 1: base charges; in March a recalculation of January cold water (−30) and a storno of
    February sewage (−210); payments 600 on 15.02, 1000 on 20.03, 100 on 02.04 (after the range).
    Account 2: January cold water 100, a payment of 50 on 10.02, a reversed payment of 70 on 11.02."""
    await base_charges(conn)
    await charge(conn, 1, "cold_water", MAR, "-30.00", "recalculation", corrects=JAN)
    await charge(conn, 1, "sewage", MAR, "-210.00", "storno", corrects=FEB)
    await pay(conn, 1, date(2024, 2, 15), "600.00")
    await pay(conn, 1, date(2024, 3, 20), "1000.00")
    await pay(conn, 1, date(2024, 4, 2), "100.00")
    await charge(conn, 2, "cold_water", JAN, "100.00")
    await pay(conn, 2, date(2024, 2, 10), "50.00")
    await pay(conn, 2, date(2024, 2, 11), "70.00", status="storno")
    await pay(conn, None, date(2024, 2, 12), "80.00", status="unidentified")
    await allocate_all(conn)


def line(item: dict) -> tuple:
    return (item["account_id"], item["service"], item["month"], item["opening"], item["charged"],
            item["recalculated"], item["paid"], item["closing"])


async def test_turnover_of_an_account_reconciles_to_the_kopeck(tx):
    async with tx() as conn:
        await turnover_data(conn)
        # allocation: 600 → Jan cold 270, Jan sewage 200, Feb cold 130; 1000 → Feb cold 180, Mar cold 320,
        # Mar sewage 220 (Feb sewage nets to 0), the 280 left an advance; 100 → an advance
        t = await turnover(conn, Period(2024, 2), Period(2024, 3), TurnoverScope(account_id=1))
        assert [line(x) for x in t["items"]] == [
            (1, "cold_water", None, "300.00", "630.00", "-30.00", "900.00", "0.00"),
            (1, "sewage", None, "200.00", "430.00", "-210.00", "420.00", "0.00"),
            (1, None, None, "0.00", "0.00", "0.00", "280.00", "-280.00")]
        assert t["items"][2]["kind"] == "advance" and t["total"] == 3
        assert t["totals"] == {"opening": "500.00", "charged": "1060.00", "recalculated": "-240.00",
                               "paid": "1600.00", "closing": "-280.00"}
        assert t["advances"]["closing"] == "-280.00"
        by_month = await turnover(conn, Period(2024, 2), Period(2024, 3), TurnoverScope(account_id=1),
                                  by_month=True)
        assert [line(x) for x in by_month["items"]] == [
            (1, "cold_water", "2024-01", "300.00", "0.00", "-30.00", "270.00", "0.00"),
            (1, "cold_water", "2024-02", "0.00", "310.00", "0.00", "310.00", "0.00"),
            (1, "cold_water", "2024-03", "0.00", "320.00", "0.00", "320.00", "0.00"),
            (1, "sewage", "2024-01", "200.00", "0.00", "0.00", "200.00", "0.00"),
            (1, "sewage", "2024-02", "0.00", "210.00", "-210.00", "0.00", "0.00"),
            (1, "sewage", "2024-03", "0.00", "220.00", "0.00", "220.00", "0.00"),
            (1, None, None, "0.00", "0.00", "0.00", "280.00", "-280.00")]
        assert by_month["totals"] == t["totals"]
        # April: the opening is the closing of March; the payment of 02.04 is an advance
        april = await turnover(conn, Period(2024, 4), Period(2024, 4), TurnoverScope(account_id=1))
        assert april["totals"] == {"opening": "-280.00", "charged": "0.00", "recalculated": "0.00",
                                   "paid": "100.00", "closing": "-380.00"}


async def test_turnover_of_the_tenant_reconciles_to_the_kopeck(tx):
    async with tx() as conn:
        await turnover_data(conn)
        t = await turnover(conn, Period(2024, 2), Period(2024, 3))
        assert [line(x) for x in t["items"]][-1] == (2, "cold_water", None, "100.00", "0.00", "0.00", "50.00",
                                                     "50.00")
        tot = {k: D(v) for k, v in t["totals"].items()}
        assert tot == {"opening": D("600.00"), "charged": D("1060.00"), "recalculated": D("-240.00"),
                       "paid": D("1650.00"), "closing": D("-230.00")}
        assert tot["closing"] == tot["opening"] + tot["charged"] + tot["recalculated"] - tot["paid"]
        paid_in_range = (await conn.execute(text(
            "SELECT sum(amount) FROM payments WHERE status = 'identified' "
            "AND paid_on BETWEEN '2024-02-01' AND '2024-03-31'"))).scalar_one()
        assert tot["paid"] == paid_in_range
        # the house is the whole tenant here; a page of one line keeps the totals of all lines
        house = await turnover(conn, Period(2024, 2), Period(2024, 3), TurnoverScope(house_id=1), limit=1, offset=1)
        assert house["total"] == 4 and len(house["items"]) == 1 and house["totals"] == t["totals"]
        assert house["items"][0] == t["items"][1]
        # over the whole history (opening zero), the closing is what the balances say
        whole = await turnover(conn, Period(2023, 12), Period(2024, 4))
        assert whole["totals"]["opening"] == "0.00"
        b1, b2 = await account_balance(conn, 1), await account_balance(conn, 2)
        assert D(whole["totals"]["closing"]) == b1.balance + b2.balance == D("-380.00") + D("50.00")


# ---- over the API ------------------------------------------------------------------------------------

@pytest.fixture
def api(client, billing_tenant) -> Api:
    return Api(client, billing_tenant.headers)


async def test_balances_over_the_api(api, client, billing_tenant, tx):
    async with tx() as conn:
        await base_charges(conn)
        await pay(conn, 1, date(2024, 4, 5), "400.00")
    done = await api.ok("post", "/api/payments/allocate", {"account_id": 1}, status=202)
    assert done == {"mode": "immediate", "result": {"account_id": 1, "allocations": 2}}
    bal = await api.ok("get", "/api/accounts/1/balance")
    assert bal["debt"] == "1160.00" and bal["advance"] == "0.00" and bal["lines"][0] == {
        "month": "2024-01", "service_id": bal["lines"][0]["service_id"], "service": "sewage",
        "service_name": "Водоотведение", "charged": "200.00", "paid": "100.00", "credit_applied": "0.00",
        "debt": "100.00"}
    t = await api.ok("get", "/api/balances/turnover?from=2024-01&to=2024-04&account_id=1&by_month=true")
    assert t["totals"] == {"opening": "0.00", "charged": "1560.00", "recalculated": "0.00", "paid": "400.00",
                           "closing": "1160.00"} and t["total"] == 6
    assert (await api.get("/api/balances/turnover?from=2024-05&to=2024-04")).status_code == 422
    assert (await api.get("/api/accounts/999/balance")).status_code == 404
    assert (await api.post("/api/payments/allocate", {"account_id": 999})).status_code == 404
    job = await api.ok("post", "/api/payments/allocate", {}, status=202)
    assert job["mode"] == "job" and job["job"]["kind"] == "payments.allocate"
    viewer = await as_role(client, billing_tenant, "viewer")
    assert (await viewer.get("/api/accounts/1/balance")).status_code == 200  # viewer: "*" view
    assert (await viewer.post("/api/payments/allocate", {"account_id": 1})).status_code == 403
    operator = await as_role(client, billing_tenant, "operator")
    assert (await operator.post("/api/payments/allocate", {"account_id": 1})).status_code == 202
