"""Posting computed charges: replace a run's rows of an open period, or post only differences for a
closed one (as recalculation rows in the open period, referencing the corrected period)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Methods the run produces; one-off charges, storno and instalments are entered by people, never replaced.
COMPUTED = ("meter", "norm", "average", "substitute", "common")


async def replace_open_period(conn: AsyncConnection, period: date, run_id: int) -> int:
    """Idempotent re-run of an open period: drop the scope's computed rows, insert the new ones."""
    await conn.execute(text(
        "DELETE FROM charges c USING run_acc r WHERE c.account_id = r.account_id AND c.period = :p "
        "AND c.corrects_period IS NULL AND c.method = ANY(:methods)"), {"p": period, "methods": list(COMPUTED)})
    res = await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, coefficient, amount, days, run_id) "
        "SELECT account_id, service_id, :p, method, volume, tariff, coefficient, amount, days, :run FROM run_charge"),
        {"p": period, "run": run_id})
    return res.rowcount


async def drop_recalculations(conn: AsyncConnection, open_period: date, corrected: date) -> None:
    """Before recomputing a closed period, forget the recalculation rows this open period already holds
    for it (they are recomputed from scratch, so a re-run never doubles them)."""
    await conn.execute(text(
        "DELETE FROM charges c USING run_acc r WHERE c.account_id = r.account_id AND c.period = :open "
        "AND c.corrects_period = :q AND c.method = 'recalculation'"), {"open": open_period, "q": corrected})


async def post_differences(conn: AsyncConnection, open_period: date, corrected: date, run_id: int) -> int:
    """Post (recomputed − already charged) per account × service as recalculation rows."""
    res = await conn.execute(text("""
        INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount, corrects_period, run_id,
                            note)
        SELECT account_id, service_id, :open, 'recalculation', sum(volume), 0, sum(amount), :q, :run,
               'Перерасчёт за ' || to_char(CAST(:q AS date), 'MM.YYYY')
        FROM (
          SELECT account_id, service_id, volume, amount FROM run_charge
          UNION ALL
          SELECT c.account_id, c.service_id, -c.volume, -c.amount FROM charges c JOIN run_acc r USING (account_id)
          WHERE (c.period = :q AND c.corrects_period IS NULL AND c.method = ANY(:methods))
             OR (c.corrects_period = :q AND c.method = 'recalculation')
        ) d
        GROUP BY account_id, service_id
        HAVING sum(amount) <> 0 OR sum(volume) <> 0
    """), {"open": open_period, "q": corrected, "run": run_id, "methods": list(COMPUTED)})
    return res.rowcount
