"""Paying penalties: the part of a payment named for penalties covers the penalty balance first; whatever is
left of a payment after the main debt covers the penalty balance before it becomes an advance; a penalty
storno and a new penalty run move the money accordingly (allocations of kind 'penalty')."""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.billing_core.penalties.run import run_penalties
from aquabill.billing_core.periods import Period
from tests.integration.billing_core.api_helpers import Api
from tests.integration.penalties.test_penalties_api import wait_job
from tests.integration.penalties.test_penalty_run import charge, flat_6


async def allocations(tx, payment_id: int) -> list[tuple[str, str | None, str]]:
    async with tx() as conn:
        rows = await conn.execute(text(
            "SELECT kind, to_char(month_of_origin, 'YYYY-MM'), amount FROM payment_allocations "
            "WHERE payment_id = :p ORDER BY kind, month_of_origin"), {"p": payment_id})
        return [(k, m, str(x)) for k, m, x in rows]


async def test_named_part_rest_and_storno(client, penalty_tenant, tx, worker):
    api = Api(client, penalty_tenant.headers)
    async with tx() as conn:
        await flat_6(conn)
        await charge(conn, 1, date(2018, 12, 1), "3000.00")
        # 3000 × 6 × 50 / 30000 = 30.00 (days 31–80 of delay as of 01.04.2019)
        assert (await run_penalties(conn, Period(2019, 3))).amount == "30.00"
    assert (await api.ok("get", "/api/accounts/1/penalties"))["balance"] == "30.00"

    bad = await api.post("/api/payments", {"account_id": 1, "amount": "10.00", "penalty": "20.00",
                                           "paid_on": "2019-04-05"})
    assert bad.status_code == 422 and "пени" in bad.text, bad.text
    a = await api.ok("post", "/api/payments", {"account_id": 1, "amount": "500.00", "penalty": "30.00",
                                               "paid_on": "2019-04-05"})
    assert a["penalty"] == "30.00"
    assert await allocations(tx, a["id"]) == [("charge", "2018-12", "470.00"), ("penalty", None, "30.00")]
    assert (await api.ok("get", "/api/accounts/1/penalties"))["balance"] == "0.00"
    b = await api.ok("post", "/api/payments", {"account_id": 1, "amount": "2600.00", "paid_on": "2019-04-06"})
    assert await allocations(tx, b["id"]) == [("advance", None, "70.00"), ("charge", "2018-12", "2530.00")]

    # the penalty reversed: the named part has nothing to cover and goes to the main debt
    found = await api.ok("get", "/api/penalties?account_id=1")
    await api.ok("post", "/api/penalties/storno", {"penalty_id": found["items"][0]["id"], "reason": "Решение суда"})
    assert await allocations(tx, a["id"]) == [("charge", "2018-12", "500.00")]
    assert await allocations(tx, b["id"]) == [("advance", None, "100.00"), ("charge", "2018-12", "2500.00")]

    # a new accrual: the job reallocates, and the advance covers the penalty before staying an advance
    r = await api.post("/api/penalties/runs", {"period": "2019-04"})
    job = await wait_job(api, r.json()["job"]["id"])
    assert job["status"] == "done" and job["result"]["reallocated_accounts"] >= 1, job
    async with tx() as conn:
        accrued = (await conn.execute(text(
            "SELECT coalesce(sum(amount), 0) FROM penalty_charges WHERE account_id = 1 AND period = '2019-04-01'"
        ))).scalar_one()
    assert accrued > 0
    # payment A named 30.00 for penalties: it covers the new accrual first (step 0), so B's advance stays
    named = min(accrued, D("30.00"))
    rest = min(accrued - named, D("100.00"))  # what B's leftover covers (step 6)
    after_a = await allocations(tx, a["id"])
    assert ("penalty", None, str(named)) in after_a
    assert ("charge", "2018-12", str(D("500.00") - named)) in after_a
    after_b = await allocations(tx, b["id"])
    assert ("charge", "2018-12", str(D("2500.00") + named)) in after_b
    if rest:
        assert ("penalty", None, str(rest)) in after_b
    assert ("advance", None, str(D("100.00") - named - rest)) in after_b
    balance = await api.ok("get", "/api/accounts/1/penalties")
    assert D(balance["balance"]) == accrued - named - rest
