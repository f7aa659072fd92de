"""The incremental penalty run (changes recorded by triggers, applied to the state) against a full rebuild
from the tables and against the calculator, to the kopeck, after a sequence of changes; re-runs of an open
month are idempotent."""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.billing_core.payments.allocation import allocate_accounts, allocate_all
from aquabill.billing_core.penalties import Moratorium
from aquabill.billing_core.penalties.run import run_penalties
from aquabill.billing_core.penalties.store import add_deferral, add_key_rate, storno_penalties
from aquabill.billing_core.periods import Period
from tests.integration.billing_core.api_helpers import close_period
from tests.integration.penalties.test_penalty_run import (
    charge,
    expected_totals,
    pay,
    penalties,
    random_history,
)

SEP, OCT = Period(2023, 9), Period(2023, 10)
SUMMER = Moratorium(date(2023, 6, 1), date(2023, 8, 15), "7")


async def state(conn) -> set:
    return set(await conn.execute(text(
        "SELECT account_id, m, g, debt_kop, paid_kop, n300, n130 FROM penalty_state "
        "WHERE debt_kop <> 0 OR paid_kop <> 0 OR n300 <> 0 OR n130 <> 0")))


async def rows(conn, period: Period) -> list:
    return sorted((a, k, str(x), d, str(b)) for a, k, x, d, b in await conn.execute(text(
        "SELECT account_id, kind, amount, days, debt FROM penalty_charges WHERE period = :p"), {"p": period.first_day}))


async def incremental_equals_full(conn, period: Period, deferred=None) -> dict:
    """Run `period` incrementally, then rebuilt from the tables: same state, same accruals, = calculator."""
    result = await run_penalties(conn, period)
    assert result.state["mode"] == "incremental", result.state
    got, got_state, got_rows = await penalties(conn), await state(conn), await rows(conn, period)
    full = await run_penalties(conn, period, full=True)
    assert full.state["mode"] == "full"
    assert await state(conn) == got_state
    assert await rows(conn, period) == got_rows
    assert got == await penalties(conn) == await expected_totals(conn, period, deferred or {})
    return result.state


async def test_incremental_run_equals_a_full_rebuild_after_changes(tx):
    async with tx() as conn:
        await random_history(conn, 4)
        first = await run_penalties(conn, Period(2023, 8))  # builds the state
        assert first.state["mode"] == "full" and first.state["pairs"] > 0
    await close_period(tx, "2023-08")
    async with tx(1) as conn:
        # no new change, but the month moved on: payments dated in September (recorded as not due yet when
        # the state was built) now count
        state = await incremental_equals_full(conn, SEP)
        assert state["changes"] > 0 and state["pairs"] > 0, state
        # a late payment allocated to an old month (the account's allocations are rewritten)
        await pay(conn, 7, date(2023, 9, 5), "900.00")
        await allocate_accounts(conn, [7])
        # a storno of a payment (its allocations are removed, the next payments move up)
        await conn.execute(text(
            "UPDATE payments SET status = 'storno' WHERE id = (SELECT min(id) FROM payments "
            "WHERE account_id = 11 AND status = 'identified')"))
        await allocate_accounts(conn, [11])
        # recalculations of closed months, posted in the open one (one makes the month's debt smaller than
        # its payments: clipped in payment order)
        await charge(conn, 13, date(2023, 9, 1), "-150.00", corrects=date(2022, 5, 1), method="recalculation")
        await charge(conn, 14, date(2023, 9, 1), "-99999.00", corrects=date(2022, 3, 1), method="recalculation")
        await charge(conn, 15, date(2023, 9, 1), "1234.56", corrects=date(2022, 7, 1), method="recalculation")
        await allocate_accounts(conn, [13, 14, 15])
        # a payment's date corrected
        await conn.execute(text(
            "UPDATE payments SET paid_on = paid_on - 40 WHERE id = (SELECT max(id) FROM payments "
            "WHERE account_id = 16 AND status = 'identified' AND paid_on < DATE '2023-08-01')"))
        state = await incremental_equals_full(conn, SEP)
        assert state["changes"] > 0 and state["recomputed"] > 0, state
        # a storno of the account's penalty row of the open period, then the same history again
        await storno_penalties(conn, account_id=7, period=SEP, reason="Решение руководителя", created_by=1)
        before = await penalties(conn, 7)
        await incremental_equals_full(conn, SEP)
        assert await penalties(conn, 7) == before  # the reversed accrual counts as accrued
        # the whole tenant's allocation rewritten: changes that cancel out
        await allocate_all(conn)
        state = await incremental_equals_full(conn, SEP)
        assert state["changes"] > 0 and state["pairs"] == 0, state
    await close_period(tx, "2023-09")
    async with tx(1) as conn:
        # the next month: payments dated in it (recorded while they were in the future) now count
        await pay(conn, 21, date(2023, 10, 20), "5000.00")
        await allocate_accounts(conn, [21])
        await incremental_equals_full(conn, OCT)
        # a deferral and an account moving into the deferred house: full (new fingerprint), then regrouped
        await add_deferral(conn, scope="improvement", improvement="partial", date_from=date(2023, 6, 1),
                           date_to=date(2023, 8, 15), reason="Решение № 7")
        assert (await run_penalties(conn, OCT)).state["mode"] == "full"
        await conn.execute(text("UPDATE premises SET house_id = 2 WHERE id = 3"))
        deferred = {a: (SUMMER,) for a in range(1, 241) if a % 5 == 0 or a == 3}
        state = await incremental_equals_full(conn, OCT, deferred)
        assert state["recomputed"] > 0
        # a new key rate: the state is rebuilt
        await add_key_rate(conn, date(2023, 10, 25), D("14.50"), "ЦБ")
        result = await run_penalties(conn, OCT)
        assert result.state["mode"] == "full"
        assert await penalties(conn) == await expected_totals(conn, OCT, deferred)


async def test_rerunning_an_open_month_is_idempotent(tx):
    async with tx() as conn:
        await random_history(conn, 5)
        await run_penalties(conn, Period(2023, 8))
        await run_penalties(conn, SEP)
        once, once_state, once_totals = await rows(conn, SEP), await state(conn), await penalties(conn)
        for _ in range(2):
            again = await run_penalties(conn, SEP)
            assert again.state == {"mode": "incremental", "changes": again.state["changes"], "pairs": 0,
                                   "recomputed": 0}
            assert await rows(conn, SEP) == once
            assert await state(conn) == once_state and await penalties(conn) == once_totals
        runs = (await conn.execute(text("SELECT count(*) FROM penalty_runs WHERE period = :p"),
                                   {"p": SEP.first_day})).scalar_one()
        assert runs == 3
        assert once_totals == await expected_totals(conn, SEP, {})
        # the per-account totals kept by the triggers and the run match the penalty rows
        kept = set(await conn.execute(text("SELECT account_id, accrued, net FROM penalty_accounts WHERE net <> 0")))
        summed = set(await conn.execute(text(
            "SELECT account_id, sum(amount) FILTER (WHERE kind = 'accrual'), sum(amount) FROM penalty_charges "
            "GROUP BY 1 HAVING sum(amount) <> 0")))
        assert kept == summed and kept
