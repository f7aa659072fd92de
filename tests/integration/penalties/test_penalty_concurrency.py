"""Payments go on while a penalty run works (no table locks, t0018): a payment posted through the intake on
another connection, while the run is held mid-way, commits at once; the next run accounts for it, equal to a
full rebuild and to the calculator. Two runs at once: the second waits for the first."""

import asyncio
from datetime import date
from decimal import Decimal as D
from typing import Any

from sqlalchemy import text

from aquabill.billing_core.payments.intake import create_payment, storno_payment
from aquabill.billing_core.penalties.run import PenaltyRunResult, run_penalties
from aquabill.billing_core.penalties.store import add_deferral
from aquabill.billing_core.periods import Period
from tests.integration.billing_core.api_helpers import close_period
from tests.integration.penalties.conftest import ACCOUNTS
from tests.integration.penalties.test_penalty_incremental import SEP, SUMMER, incremental_equals_full
from tests.integration.penalties.test_penalty_run import expected_totals, penalties, random_history

AUG = Period(2023, 8)
CASHIER = 5


class Hold:
    """A progress callback that stops the run at the step reported as `at` percent until released."""

    def __init__(self, at: float) -> None:
        self.at, self.reached, self.release = at, asyncio.Event(), asyncio.Event()

    async def __call__(self, pct: float, _msg: str) -> None:
        if pct == self.at:
            self.reached.set()
            await self.release.wait()


async def start_held_run(tx, period: Period, hold: Hold, events: list[str]) -> asyncio.Task:
    """The run in its own transaction, started and held at `hold.at` (it fails the test if it ends first)."""

    async def run():
        async with tx() as conn:
            result = await run_penalties(conn, period, progress=hold)
        events.append("run committed")
        return result

    task = asyncio.create_task(run())
    reached = asyncio.create_task(hold.reached.wait())
    await asyncio.wait({task, reached}, return_when=asyncio.FIRST_COMPLETED)
    assert not task.done(), task.result()
    return task


async def payments_during_run(tx, period: Period, hold: Hold, pay) -> tuple[PenaltyRunResult, Any]:
    """Start the run, hold it, let a cashier's transaction `pay(conn)` commit meanwhile, then let the run
    finish; the payments commit before the run does. A statement of the cashier's that waits on a lock
    held by the run fails (lock_timeout) instead of hanging."""
    events: list[str] = []
    run = await start_held_run(tx, period, hold, events)
    try:
        async with tx(CASHIER) as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            paid = await pay(conn)
        events.append("payments committed")
        assert not run.done()
    finally:
        hold.release.set()
    result = await run
    assert events == ["payments committed", "run committed"]
    return result, paid


async def charge_allocations(conn, payment_id: int) -> int:
    return (await conn.execute(text(
        "SELECT count(*) FROM payment_allocations WHERE payment_id = :p AND kind = 'charge'"),
        {"p": payment_id})).scalar_one()


async def recorded(conn, payment_id: int) -> int:
    return (await conn.execute(text("SELECT count(*) FROM penalty_deltas WHERE payment_id = :p"),
                               {"p": payment_id})).scalar_one()


async def test_payments_during_an_incremental_run_commit_at_once_and_count_in_the_next(tx):
    async with tx() as conn:
        await random_history(conn, 4)
        await add_deferral(conn, scope="improvement", improvement="partial", date_from=date(2023, 6, 1),
                           date_to=date(2023, 8, 15), reason="Решение № 7")
        await run_penalties(conn, AUG)  # the state is built
    await close_period(tx, "2023-08")
    async with tx() as conn:
        # account 3 moves into the deferred house: the run recomputes its pairs from the tables
        await conn.execute(text("UPDATE premises SET house_id = 2 WHERE id = 3"))

    async def pay(conn):
        return [await create_payment(conn, amount=D(amount), paid_on=date(2023, 9, 5), account_id=account,
                                     user_id=CASHIER) for account, amount in ((3, "700.00"), (7, "500.00"))]

    # held with the changes taken and applied, the pairs to recompute from the tables not read yet
    held, (regrouped, additive) = await payments_during_run(tx, SEP, Hold(40), pay)
    assert held.state["mode"] == "incremental" and held.state["recomputed"] > 0, held.state

    async with tx() as conn:
        assert await charge_allocations(conn, regrouped["id"]) > 0 and await charge_allocations(conn, additive["id"]) > 0
        # account 3's pairs were read after the payment committed: in the state already, its record consumed
        # by the same statement; account 7's pairs were taken before it: recorded for the next run
        assert (await recorded(conn, regrouped["id"]), await recorded(conn, additive["id"]) > 0) == (0, True)
        deferred = {a: (SUMMER,) for a in range(1, ACCOUNTS + 1) if a % 5 == 0 or a == 3}
        state = await incremental_equals_full(conn, SEP, deferred)
        assert state["changes"] > 0


async def test_payments_during_the_first_run_are_recorded_for_the_next(tx):
    async with tx() as conn:
        await random_history(conn, 5)
        storned = (await conn.execute(text(
            "SELECT min(id) FROM payments WHERE account_id = 11 AND status = 'identified' "
            "AND paid_on < DATE '2023-08-01'"))).scalar_one()

    async def pay(conn):
        await storno_payment(conn, storned, note="Ошибка кассира")
        return await create_payment(conn, amount=D("2500.00"), paid_on=date(2023, 8, 20), account_id=21,
                                    user_id=CASHIER)

    # held with the state built from the tables, the penalties not posted yet
    first, paid = await payments_during_run(tx, AUG, Hold(70), pay)
    assert first.state["mode"] == "full"

    async with tx() as conn:
        # recorded while the first run held the change log's lock (before it, nothing is recorded)
        assert await charge_allocations(conn, paid["id"]) > 0 and await recorded(conn, paid["id"]) > 0
        assert await recorded(conn, storned) > 0
        state = await incremental_equals_full(conn, AUG)
        assert state["changes"] > 0


async def test_two_runs_at_once_run_one_after_the_other(tx):
    async with tx() as conn:
        await random_history(conn, 6)
    events: list[str] = []
    hold = Hold(15)
    first = await start_held_run(tx, AUG, hold, events)

    async def second_run():
        async with tx() as conn:
            result = await run_penalties(conn, AUG)
        events.append("second committed")
        return result

    second = asyncio.create_task(second_run())
    try:
        async with tx() as conn:  # the second run is waiting for the first one's lock
            waiting = 0
            for _ in range(600):
                waiting = (await conn.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))).scalar_one()
                if waiting:
                    break
                await asyncio.sleep(0.05)
        assert waiting == 1 and not second.done()
    finally:
        hold.release.set()
    one, two = await first, await second
    assert events == ["run committed", "second committed"]
    assert (one.state["mode"], two.state["mode"]) == ("full", "incremental")
    async with tx() as conn:
        assert await penalties(conn) == await expected_totals(conn, AUG, {})
        runs = (await conn.execute(text("SELECT count(*) FROM penalty_runs WHERE status = 'done'"))).scalar_one()
        assert runs == 2
