"""Closing a month for the whole tenant or for one division, reopening it, and the wizard's state.

Closing locks the month's `periods` row FOR UPDATE (changes dated in it hold it FOR SHARE, see
periods_guard), re-runs the checks inside that transaction and refuses on a blocking failure (or on
warnings not accepted). A whole-tenant close marks the month and every division closed and starts the
next month; a division's close writes its `period_divisions` row. Each close / reopen is a
`period_closes` row (audited, like everything here).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.month_close.catalogue import CheckResult, outcome, refusal
from aquabill.billing_core.month_close.checks import run_checks
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import start_period

ACTING_USER = "nullif(current_setting('aquabill.user_id', true), '')::int"


async def _division(conn: AsyncConnection, division_id: int | None) -> dict[str, Any] | None:
    if division_id is None:
        return None
    row = (await conn.execute(text("SELECT id, code, name FROM divisions WHERE id = :id"),
                              {"id": division_id})).first()
    if row is None:
        raise NotFound("Подразделение не найдено", field="division_id")
    return dict(row._mapping)


async def _lock_period(conn: AsyncConnection, period: Period) -> str:
    status = (await conn.execute(text("SELECT status FROM periods WHERE period = :p FOR UPDATE"),
                                 {"p": period.first_day})).scalar()
    if status is None:
        raise Conflict(f"Период {period} ещё не начат: закрыть можно только начатый период", field="period")
    return status


async def store_check_run(conn: AsyncConnection, period: Period, division_id: int | None,
                          results: list[CheckResult]) -> dict[str, Any]:
    row = (await conn.execute(text(f"""
        INSERT INTO close_check_runs(period, division_id, outcome, results, created_by)
        VALUES (:p, :d, :o, CAST(:r AS jsonb), {ACTING_USER}) RETURNING id, created_at"""),
        {"p": period.first_day, "d": division_id, "o": outcome(results),
         "r": json.dumps([r.as_dict() for r in results], ensure_ascii=False)})).one()
    return {"id": row.id, "period": str(period), "division_id": division_id, "outcome": outcome(results),
            "results": [r.as_dict() for r in results], "created_at": row.created_at}


async def check_period(conn: AsyncConnection, period: Period, *, division_id: int | None = None, today: date,
                       queued_runs: Sequence[str] = ()) -> dict[str, Any]:
    """Run the checks and store their results (the wizard's «Проверить»)."""
    await _division(conn, division_id)
    if (await conn.execute(text("SELECT 1 FROM periods WHERE period = :p"), {"p": period.first_day})).first() is None:
        raise Conflict(f"Период {period} ещё не начат", field="period")
    results = await run_checks(conn, period, division_id=division_id, today=today, queued_runs=queued_runs)
    return await store_check_run(conn, period, division_id, results)


async def close_period(conn: AsyncConnection, period: Period, *, division_id: int | None = None,
                       accept_warnings: bool = False, today: date,
                       queued_runs: Sequence[str] = ()) -> dict[str, Any]:
    """Close the month for the whole tenant (division_id None) or for one division; see the module doc."""
    division = await _division(conn, division_id)
    status = await _lock_period(conn, period)
    if status == "closed":
        raise Conflict(f"Период {period} уже закрыт", field="period")
    if division is not None and (await conn.execute(text(
            "SELECT 1 FROM period_divisions WHERE period = :p AND division_id = :d AND status = 'closed'"),
            {"p": period.first_day, "d": division_id})).first():
        raise Conflict(f"Период {period} уже закрыт по подразделению «{division['name']}»", field="period")
    earlier = (await conn.execute(text("""
        SELECT min(pe.period) FROM periods pe WHERE pe.period < :p AND pe.status = 'open'
          AND NOT EXISTS (SELECT 1 FROM period_divisions pd WHERE pd.period = pe.period
                          AND pd.division_id = :d AND pd.status = 'closed')"""),
        {"p": period.first_day, "d": division_id})).scalar()
    if earlier is not None:
        raise Conflict(f"Сначала закройте период {Period.of(earlier)}: периоды закрываются по порядку",
                            field="period")
    results = await run_checks(conn, period, division_id=division_id, today=today, queued_runs=queued_runs)
    why = refusal(results, accept_warnings=accept_warnings)
    if why is not None:
        raise Conflict(why, field="accept_warnings" if outcome(results) == "warn" else "period")
    check_run = await store_check_run(conn, period, division_id, results)
    p = {"p": period.first_day, "d": division_id}
    if division is None:
        await conn.execute(text(
            f"UPDATE periods SET status = 'closed', closed_at = now(), closed_by = {ACTING_USER} WHERE period = :p"), p)
        await conn.execute(text(f"""
            INSERT INTO period_divisions(period, division_id, status, closed_at, closed_by)
            SELECT :p, d.id, 'closed', now(), {ACTING_USER} FROM divisions d
            ON CONFLICT (period, division_id) DO UPDATE SET status = 'closed',
              closed_at = coalesce(period_divisions.closed_at, excluded.closed_at),
              closed_by = coalesce(period_divisions.closed_by, excluded.closed_by)
            WHERE period_divisions.status <> 'closed'"""), p)
        await start_period(conn, period.next())
    else:
        await conn.execute(text(f"""
            INSERT INTO period_divisions(period, division_id, status, closed_at, closed_by)
            VALUES (:p, :d, 'closed', now(), {ACTING_USER})
            ON CONFLICT (period, division_id) DO UPDATE SET status = 'closed', closed_at = now(),
              closed_by = {ACTING_USER}"""), p)
    close_id = (await conn.execute(text(f"""
        INSERT INTO period_closes(period, division_id, action, check_run_id, warnings_accepted, created_by)
        VALUES (:p, :d, 'close', :run, :acc, {ACTING_USER}) RETURNING id"""),
        {**p, "run": check_run["id"], "acc": check_run["outcome"] == "warn"})).scalar_one()
    return {"id": close_id, "period": str(period), "division": division, "outcome": check_run["outcome"],
            "check_run_id": check_run["id"], "results": check_run["results"],
            "next_period": str(period.next()) if division is None else None}


async def reopen_period(conn: AsyncConnection, period: Period, *, division_id: int | None = None,
                        reason: str) -> dict[str, Any]:
    """Reopen a closed month (whole tenant: also every division's close of it) or one division's month.
    Only the latest closed month can be reopened; the reason is recorded."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Укажите причину открытия периода", field="reason")
    if len(reason) > 1000:
        raise Invalid("Причина: не более 1000 знаков", field="reason")
    division = await _division(conn, division_id)
    status = await _lock_period(conn, period)
    p = {"p": period.first_day, "d": division_id}
    if division is None:
        if status != "closed":
            raise Conflict(f"Период {period} не закрыт", field="period")
        later = (await conn.execute(text("SELECT min(period) FROM periods WHERE period > :p AND status = 'closed'"),
                                    p)).scalar()
        if later is not None:
            raise Conflict(f"Сначала откройте период {Period.of(later)}: открыть можно только последний "
                                "закрытый период", field="period")
        await conn.execute(text("UPDATE periods SET status = 'open', closed_at = NULL, closed_by = NULL "
                                "WHERE period = :p"), p)
        await conn.execute(text("UPDATE period_divisions SET status = 'open', closed_at = NULL, closed_by = NULL "
                                "WHERE period = :p"), p)
    else:
        if status == "closed":
            raise Conflict(f"Период {period} закрыт по всей организации: откройте его целиком",
                                field="division_id")
        found = await conn.execute(text(
            "UPDATE period_divisions SET status = 'open', closed_at = NULL, closed_by = NULL "
            "WHERE period = :p AND division_id = :d "
            "AND status = 'closed'"), p)
        if found.rowcount == 0:
            raise Conflict(f"Период {period} не закрыт по подразделению «{division['name']}»",
                                field="division_id")
    close_id = (await conn.execute(text(f"""
        INSERT INTO period_closes(period, division_id, action, reason, created_by)
        VALUES (:p, :d, 'reopen', :r, {ACTING_USER}) RETURNING id"""), {**p, "r": reason})).scalar_one()
    return {"id": close_id, "period": str(period), "division": division, "status": "open"}


async def period_state(conn: AsyncConnection, period: Period) -> dict[str, Any]:
    """The wizard's state: the month's status, its divisions' status, the latest check results (whole tenant
    and per division) and the history of closes / reopens."""
    row = (await conn.execute(text(
        "SELECT pe.status, pe.closed_at, u.full_name AS closed_by FROM periods pe "
        "LEFT JOIN users u ON u.id = pe.closed_by WHERE pe.period = :p"), {"p": period.first_day})).first()
    divisions = [dict(r._mapping) for r in await conn.execute(text("""
        SELECT d.id, d.code, d.name, (SELECT count(*) FROM houses h WHERE h.division_id = d.id) AS houses,
               CASE WHEN pe.status = 'closed' THEN 'closed' ELSE coalesce(pd.status, 'open') END AS status,
               coalesce(pd.closed_at, pe.closed_at) AS closed_at, u.full_name AS closed_by
        FROM divisions d LEFT JOIN period_divisions pd ON pd.division_id = d.id AND pd.period = :p
        LEFT JOIN periods pe ON pe.period = :p
        LEFT JOIN users u ON u.id = coalesce(pd.closed_by, pe.closed_by)
        ORDER BY d.code, d.id"""), {"p": period.first_day})]
    checks = [{**dict(r._mapping), "period": str(period)} for r in await conn.execute(text("""
        SELECT DISTINCT ON (cr.division_id) cr.id, cr.division_id, cr.outcome, cr.results, cr.created_at,
               u.full_name AS created_by
        FROM close_check_runs cr LEFT JOIN users u ON u.id = cr.created_by
        WHERE cr.period = :p ORDER BY cr.division_id NULLS FIRST, cr.id DESC"""), {"p": period.first_day})]
    history = [{**dict(r._mapping), "period": str(Period.of(r.period))} for r in await conn.execute(text("""
        SELECT pc.id, pc.period, pc.division_id, d.name AS division, pc.action, pc.warnings_accepted, pc.reason,
               pc.created_at, u.full_name AS created_by
        FROM period_closes pc LEFT JOIN divisions d ON d.id = pc.division_id LEFT JOIN users u ON u.id = pc.created_by
        ORDER BY pc.id DESC LIMIT 50"""))]
    return {"period": str(period), "status": row.status if row else None,
            "closed_at": row.closed_at if row else None, "closed_by": row.closed_by if row else None,
            "divisions": divisions, "checks": checks, "history": history}
