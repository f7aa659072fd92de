"""Reading billing runs, periods and charges back for the API and the pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.periods import Period
from aquabill.billing_core.registry.queries import HOUSE_ADDRESS

# Finished runs (billing_runs, written when the run's transaction commits) and the jobs of runs not
# finished yet (queued, running) or failed (their run rolled back), newest first.
_RUNS = f"""
WITH items AS (
  SELECT r.id AS run_id, r.job_id, r.period, r.scope, r.scope_id, r.status, r.stats,
         coalesce(j.created_at, r.started_at) AS created_at, r.finished_at, coalesce(j.progress, 100) AS progress,
         coalesce(j.message, '') AS message, j.error,
         coalesce(j.created_by, (SELECT al.user_id FROM audit_log al WHERE al.table_name = 'billing_runs'
                                 AND al.row_id = r.id::text AND al.action = 'insert' LIMIT 1)) AS user_id
  FROM billing_runs r LEFT JOIN jobs j ON j.id = r.job_id
  UNION ALL
  SELECT NULL, j.id,
         CASE WHEN j.params->>'period' ~ '^\\d{{4}}-(0[1-9]|1[0-2])$' THEN to_date(j.params->>'period', 'YYYY-MM') END,
         coalesce(j.params->>'scope', 'tenant'),
         CASE WHEN j.params->>'scope_id' ~ '^\\d{{1,9}}$' THEN CAST(j.params->>'scope_id' AS int) END,
         j.status, CAST('{{}}' AS jsonb), j.created_at, j.finished_at, j.progress, j.message, j.error, j.created_by
  FROM jobs j
  WHERE j.kind = :kind AND NOT EXISTS (SELECT 1 FROM billing_runs r WHERE r.job_id = j.id)
)
SELECT i.*, u.full_name AS started_by, a.number AS account_number, {HOUSE_ADDRESS} AS house_address
FROM items i
LEFT JOIN users u ON u.id = i.user_id
LEFT JOIN accounts a ON i.scope = 'account' AND a.id = i.scope_id
LEFT JOIN houses h ON i.scope = 'house' AND h.id = i.scope_id
LEFT JOIN streets st ON st.id = h.street_id LEFT JOIN settlements se ON se.id = st.settlement_id
ORDER BY i.created_at DESC, i.run_id DESC NULLS FIRST
LIMIT :limit OFFSET :offset
"""


async def list_runs(conn: AsyncConnection, *, kind: str = "billing.run", limit: int = 20,
                    offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Runs with their figures (accounts, charges, amount, recalculated periods, missing tariffs/norms),
    and the progress of the ones still in the job queue."""
    rows = await conn.execute(text(_RUNS), {"kind": kind, "limit": limit, "offset": offset})
    items = [_run(r) for r in rows]
    total = (await conn.execute(text(
        "SELECT (SELECT count(*) FROM billing_runs) + (SELECT count(*) FROM jobs j WHERE j.kind = :kind "
        "AND NOT EXISTS (SELECT 1 FROM billing_runs r WHERE r.job_id = j.id))"), {"kind": kind})).scalar_one()
    return items, total


async def run_records(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The finished runs' records alone (billing_runs), newest first."""
    rows = (await conn.execute(text(
        "SELECT id, to_char(period, 'YYYY-MM') AS period, scope, scope_id, status, stats, started_at, finished_at "
        "FROM billing_runs ORDER BY id DESC LIMIT :l OFFSET :o"), {"l": limit, "o": offset})).all()
    total = (await conn.execute(text("SELECT count(*) FROM billing_runs"))).scalar_one()
    return [dict(r._mapping) for r in rows], total


def _run(r) -> dict[str, Any]:
    stats = r.stats or {}
    missing = stats.get("missing") if isinstance(stats.get("missing"), list) else []
    return {
        "run_id": r.run_id, "job_id": str(r.job_id) if r.job_id else None,
        "period": str(Period.of(r.period)) if r.period else "", "scope": r.scope, "scope_id": r.scope_id,
        "account_number": r.account_number, "house_address": r.house_address,
        "status": r.status, "active": r.status in ("queued", "running"), "progress": float(r.progress),
        "message": r.message, "error": r.error, "created_at": r.created_at, "finished_at": r.finished_at,
        "started_by": r.started_by,
        "accounts": stats.get("accounts"), "charges": stats.get("charges"), "amount": stats.get("amount"),
        "recalculated": stats.get("recalculated") if isinstance(stats.get("recalculated"), dict) else {},
        "missing": [m for m in missing if isinstance(m, dict)],
        "missing_total": stats.get("missing_total", len(missing)),
    }


async def latest_charged_period(conn: AsyncConnection, account_id: int | None = None) -> Period | None:
    """The latest month with charges: of the tenant, or of one account."""
    latest = (await conn.execute(text("SELECT max(period) FROM charges WHERE CAST(:a AS integer) IS NULL "
                                      "OR account_id = :a"), {"a": account_id})).scalar()
    return Period.of(latest) if latest else None


async def periods(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Billing periods, newest first, with their status and whether they hold charges."""
    rows = await conn.execute(text(
        "SELECT to_char(p.period, 'YYYY-MM') AS period, p.status, "
        "EXISTS (SELECT 1 FROM charges c WHERE c.period = p.period) AS charged "
        "FROM periods p ORDER BY p.period DESC"))
    return [dict(r._mapping) for r in rows]


def _charge_filter(period: Period, account_id: int | None, account_prefix: str) -> tuple[str, dict[str, Any]]:
    cond = "c.period = :p"
    args: dict[str, Any] = {"p": period.first_day}
    if account_id is not None:
        cond += " AND c.account_id = :a"
        args["a"] = account_id
    if account_prefix:
        cond += " AND c.account_id IN (SELECT id FROM accounts WHERE number LIKE :prefix)"
        args["prefix"] = account_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return cond, args


async def charge_rows(conn: AsyncConnection, period: Period, *, account_id: int | None = None,
                      account_prefix: str = "", limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """A page of a period's charges (ordered by account number, service, then corrections), with the
    count and the sum of all the matching rows."""
    cond, args = _charge_filter(period, account_id, account_prefix.strip())
    rows = await conn.execute(text(
        "SELECT c.id, c.account_id, a.number AS account_number, s.code AS service, s.name AS service_name, "
        "c.method, c.volume, c.tariff, c.coefficient, c.amount, c.days, "
        "to_char(c.corrects_period, 'YYYY-MM') AS corrects_period, c.note "
        "FROM charges c JOIN accounts a ON a.id = c.account_id JOIN services s ON s.id = c.service_id "
        f"WHERE {cond} ORDER BY a.number, s.sort, c.id LIMIT :l OFFSET :o"), {**args, "l": limit, "o": offset})
    totals = (await conn.execute(text(
        f"SELECT count(*), coalesce(sum(c.amount), 0) FROM charges c WHERE {cond}"), args)).one()
    return {"items": [dict(r._mapping) for r in rows], "total": totals[0], "amount": totals[1],
            "limit": limit, "offset": offset, "period": str(period)}


async def charge_summary(conn: AsyncConnection, period: Period, *, account_prefix: str = "") -> list[dict[str, Any]]:
    """A period's charges summed by service and method (recalculations by the period they correct)."""
    cond, args = _charge_filter(period, None, account_prefix.strip())
    rows = await conn.execute(text(
        "SELECT s.code AS service, s.name AS service_name, c.method, "
        "to_char(c.corrects_period, 'YYYY-MM') AS corrects_period, count(*) AS lines, "
        "count(DISTINCT c.account_id) AS accounts, sum(c.volume) AS volume, sum(c.amount) AS amount "
        "FROM charges c JOIN services s ON s.id = c.service_id "
        f"WHERE {cond} GROUP BY s.sort, s.id, s.code, s.name, c.method, c.corrects_period "
        "ORDER BY s.sort, s.id, c.corrects_period NULLS FIRST, c.method"), args)
    return [dict(r._mapping) for r in rows]
