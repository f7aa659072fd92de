"""Posting computed charges: replace a run's rows of an open period, or post only differences for a
closed one (as recalculation rows in the open period, referencing the corrected period).

The run's own statements on `charges` are not audited (t0018: the audit triggers' WHEN clause skips them
while the transaction-local `aquabill.charges_audit` is 'run'): millions of rows, each carrying its
`run_id` (the audited billing_runs row says who started the run and when). Every other write to charges
— storno, one-off charges, instalments — is audited with its user."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.run import inputs

# Methods the run produces; one-off charges, storno and instalments are entered by people, never replaced.
COMPUTED = ("meter", "norm", "average", "substitute", "common")


async def _run_statement(conn: AsyncConnection, sql: str, params: dict[str, Any]) -> CursorResult:
    """One of the run's own statements on charges, skipped by the audit triggers (see the module's doc).
    The setting is reset only after a statement that succeeded (a failed one ends the transaction, and
    the setting with it; resetting it there would hide the error)."""
    await conn.execute(text("SELECT set_config('aquabill.charges_audit', 'run', true)"))
    res = await conn.execute(text(sql), params)
    await conn.execute(text("SELECT set_config('aquabill.charges_audit', '', true)"))
    return res


# Accounts whose house's division has closed the period: their charges of that month stay as they are
# (they are corrected by recalculation once the whole month is closed).
_NOT_FROZEN = """NOT EXISTS (SELECT 1 FROM accounts fa JOIN premises fp ON fp.id = fa.premise_id
    JOIN houses fh ON fh.id = fp.house_id JOIN period_divisions pd ON pd.division_id = fh.division_id
    WHERE fa.id = {col} AND pd.period = :p AND pd.status = 'closed')"""


async def replace_open_period(conn: AsyncConnection, period: date, run_id: int) -> int:
    """Idempotent re-run of an open period: drop the scope's computed rows, insert the new ones (except for
    accounts of divisions that have closed the period)."""
    frozen = (await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM period_divisions WHERE period = :p AND status = 'closed')"),
        {"p": period})).scalar_one()
    keep_del = " AND " + _NOT_FROZEN.format(col="c.account_id") if frozen else ""
    keep_ins = " WHERE " + _NOT_FROZEN.format(col="run_charge.account_id") if frozen else ""
    computed = (await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM charges WHERE period = :p AND corrects_period IS NULL AND method = ANY(:methods))"),
        {"p": period, "methods": list(COMPUTED)})).scalar_one()
    if computed:  # (the period's first run has nothing to replace)
        await _run_statement(
            conn, "DELETE FROM charges c USING run_acc r WHERE c.account_id = r.account_id AND c.period = :p "
            "AND c.corrects_period IS NULL AND c.method = ANY(:methods)" + keep_del,
            {"p": period, "methods": list(COMPUTED)})
    kept = ", ".join(inputs.COLUMNS)  # the row's inputs (inputs.py), for explain.py
    res = await _run_statement(
        conn, "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, coefficient, amount, "
        f"days, run_id, {kept}) SELECT account_id, service_id, :p, method, volume, tariff, coefficient, amount, days, "
        f":run, {kept} FROM run_charge" + keep_ins, {"p": period, "run": run_id})
    return res.rowcount


async def drop_recalculations(conn: AsyncConnection, open_period: date, corrected: date) -> None:
    """Before recomputing a closed period, forget the recalculation rows this open period already holds
    for it (they are recomputed from scratch, so a re-run never doubles them)."""
    await _run_statement(
        conn, "DELETE FROM charges c USING run_acc r WHERE c.account_id = r.account_id AND c.period = :open "
        "AND c.corrects_period = :q AND c.method = 'recalculation'", {"open": open_period, "q": corrected})


# the recomputed rows of a recalculation, each with its inputs (built only for the rows posted)
_LINE = "jsonb_strip_nulls(to_jsonb(rc) - 'account_id' - 'service_id' - 'incomplete' - 'inputs') || coalesce(rc.inputs, '{}')"
RECALCULATION_REASONS = ("late_readings", "closed_period")


async def post_differences(conn: AsyncConnection, open_period: date, corrected: date, run_id: int, *,
                           reason: str = "closed_period") -> int:
    """Post (recomputed − already charged) per account × service as recalculation rows. Each keeps in `inputs`
    why (`reason`: 'late_readings' — readings arrived for averaged months; 'closed_period' — a run of the closed
    month) and the recomputed rows of the month with their inputs (`lines`)."""
    if reason not in RECALCULATION_REASONS:
        raise ValueError(reason)
    res = await _run_statement(conn, f"""
        WITH d AS MATERIALIZED (
          SELECT account_id, service_id, sum(volume) AS volume, sum(amount) AS amount FROM (
            SELECT account_id, service_id, volume, amount FROM run_charge
            UNION ALL
            SELECT c.account_id, c.service_id, -c.volume, -c.amount FROM charges c JOIN run_acc r USING (account_id)
            WHERE (c.period = :q AND c.corrects_period IS NULL AND c.method = ANY(:methods))
               OR (c.corrects_period = :q AND c.method = 'recalculation')
          ) x
          GROUP BY account_id, service_id
          HAVING sum(amount) <> 0 OR sum(volume) <> 0)
        INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount, corrects_period, run_id,
                            note, inputs)
        SELECT d.account_id, d.service_id, :open, 'recalculation', d.volume, 0, d.amount, :q, :run,
               'Перерасчёт за ' || to_char(CAST(:q AS date), 'MM.YYYY'),
               jsonb_build_object('reason', CAST(:reason AS text), 'lines', coalesce(l.lines, '[]'))
        FROM d
        LEFT JOIN (SELECT rc.account_id, rc.service_id,
                          jsonb_agg({_LINE} ORDER BY rc.method, rc.tariff, rc.coefficient) AS lines
                   FROM run_charge rc WHERE (rc.account_id, rc.service_id) IN (SELECT account_id, service_id FROM d)
                   GROUP BY 1, 2) l ON l.account_id = d.account_id AND l.service_id = d.service_id
    """, {"open": open_period, "q": corrected, "run": run_id, "methods": list(COMPUTED), "reason": reason})
    return res.rowcount
