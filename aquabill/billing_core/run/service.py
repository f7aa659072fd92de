"""Orchestration of a billing run: load settings → compute → post → record the run's figures.

A run of an open period replaces that period's computed charges in its scope (idempotent). A run of a
closed period recomputes it with today's data and posts only the differences into the open period.
The open period's run also recomputes closed periods whose charges were averaged for accounts that
have readings now, so late readings correct those months automatically.

Runs of overlapping scopes are serialised first thing (`guard.lock_run`, advisory locks held until the
transaction ends): a job or the CLI waits its turn, an account's run in a web request (`wait=False`) is
refused with 409 while a run of its tenant, house or account holds the lock. The database backs this with
unique indexes on the computed and the recalculation rows of `charges` (t0017).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import PeriodClosed
from aquabill.billing_core.adjustments.installments import post_due_instalments
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import open_period, start_period
from aquabill.billing_core.run import posting
from aquabill.billing_core.run.common_property import add_common_property
from aquabill.billing_core.run.compute import Scope, compute, settings
from aquabill.billing_core.run.guard import lock_run

Progress = Callable[[float, str], Awaitable[None]]
LATE_READINGS_LOOKBACK = 12  # closed periods examined for late readings


@dataclass
class RunResult:
    run_id: int
    period: Period
    accounts: int = 0
    charges: int = 0
    amount: str = "0"
    recalculated: dict[str, int] = field(default_factory=dict)
    missing: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "period": str(self.period), "accounts": self.accounts,
                "charges": self.charges, "amount": self.amount, "recalculated": self.recalculated,
                "missing": self.missing[:100], "missing_total": len(self.missing)}


async def period_status(conn: AsyncConnection, period: Period) -> str | None:
    return (await conn.execute(text("SELECT status FROM periods WHERE period = :p"),
                               {"p": period.first_day})).scalar()


async def _noop(_pct: float, _msg: str) -> None:
    return None


async def run_billing(
    conn: AsyncConnection, period: Period, scope: Scope = Scope(), *, job_id=None, progress: Progress = _noop,
    wait: bool = True,
) -> RunResult:
    """The run in the caller's transaction. `wait=False`: refuse (Conflict) rather than wait for another run."""

    async def waiting(message: str) -> None:
        await progress(0, message)

    opens = await period_status(conn, period) is None  # the first run of the month (see guard.py)
    await lock_run(conn, scope, wait=wait, opens_period=opens, waiting=waiting)
    status = await period_status(conn, period)
    if status is None:
        await start_period(conn, period)
        status = "open"
    cfg = await settings(conn)
    run_id = (await conn.execute(text(
        "INSERT INTO billing_runs(period, scope, scope_id, job_id) VALUES (:p, :s, :sid, :job) RETURNING id"),
        {"p": period.first_day, "s": "account" if scope.kind == "accounts" else scope.kind,
         "sid": scope.id, "job": job_id})).scalar_one()
    result = RunResult(run_id, period)

    await progress(5, "Расчёт начислений")

    async def step(fraction: float, message: str) -> None:
        if scope.kind in ("tenant", "house") and message:
            await progress(5 + 55 * fraction, f"Расчёт начислений: {message.lower()}")

    await compute(conn, period, scope, cfg, step)
    await add_common_property(conn, period, cfg, run_id=run_id)
    if status == "open":
        target = period.first_day
        await progress(62, "Запись начислений")
        result.charges = await posting.replace_open_period(conn, target, run_id)
        await post_due_instalments(conn, target, run_id)  # instalments of agreements due this period
    else:
        found = await open_period(conn)
        if found is None:
            raise PeriodClosed(f"Период {period} закрыт, а открытого периода для перерасчёта нет")
        target = found.first_day
        await posting.drop_recalculations(conn, target, period.first_day)
        result.recalculated[str(period)] = await posting.post_differences(conn, target, period.first_day, run_id)
    stats = (await conn.execute(text(
        "SELECT (SELECT count(*) FROM run_acc) AS accounts, coalesce(sum(amount), 0) AS amount FROM run_charge"))).one()
    result.accounts, result.amount = stats.accounts, str(stats.amount)
    result.missing = [dict(r._mapping) for r in await conn.execute(text(
        "SELECT m.account_id, a.number, s.code AS service, m.problem FROM run_missing m "
        "JOIN accounts a ON a.id = m.account_id JOIN services s ON s.id = m.service_id ORDER BY a.number"))]

    if status == "open":
        await progress(70, "Перерасчёт по поздним показаниям")
        for q, accounts in await _late_reading_periods(conn, period, scope):
            qp = Period.of(q)
            sub = Scope("accounts", ids=tuple(accounts))
            await compute(conn, qp, sub, cfg)
            await add_common_property(conn, qp, cfg, run_id=run_id)
            await posting.drop_recalculations(conn, target, q)
            n = await posting.post_differences(conn, target, q, run_id, reason="late_readings")
            if n:
                result.recalculated[str(qp)] = n
    await conn.execute(text(
        "UPDATE billing_runs SET status = 'done', finished_at = clock_timestamp(), stats = CAST(:st AS jsonb) WHERE id = :id"),
        {"id": run_id, "st": json.dumps(result.as_dict(), ensure_ascii=False)})
    await progress(100, "Готово")
    return result


async def _late_reading_periods(conn: AsyncConnection, period: Period, scope: Scope) -> list[tuple[date, list[int]]]:
    """Closed periods (within the look-back) with averaged charges of in-scope accounts whose meters now
    have an accepted reading dated after that period began."""
    scope_sql = {"tenant": "TRUE", "house": "p.house_id = :sid", "account": "a.id = :sid",
                 "accounts": "a.id = ANY(CAST(:ids AS int[]))"}[scope.kind]
    rows = await conn.execute(text(f"""
        SELECT c.period, array_agg(DISTINCT c.account_id) AS accounts
        FROM charges c
        JOIN periods pe ON pe.period = c.period AND pe.status = 'closed'
        JOIN accounts a ON a.id = c.account_id JOIN premises p ON p.id = a.premise_id
        WHERE c.method = 'average' AND c.corrects_period IS NULL AND c.period < :p
          AND c.period >= CAST(:p AS date) - make_interval(months => :back) AND {scope_sql}
          AND EXISTS (SELECT 1 FROM meters m JOIN readings r ON r.meter_id = m.id
                      WHERE m.account_id = c.account_id AND m.service_id = c.service_id
                        AND r.status = 'accepted' AND r.read_on >= c.period)
        GROUP BY c.period ORDER BY c.period
    """), {"p": period.first_day, "back": LATE_READINGS_LOOKBACK, "sid": scope.id, "ids": list(scope.ids)})
    return [(r.period, list(r.accounts)) for r in rows]
