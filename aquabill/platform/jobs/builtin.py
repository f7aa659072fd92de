"""Built-in job kinds of the platform."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text

from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job


@job("audit.summary", "Сводка журнала изменений", resource="audit", action="report")
async def audit_summary(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Counts audit entries per table and action over a date range, one table at a time."""
    date_from, date_to = _date(params, "date_from"), _date(params, "date_to")
    async with ctx.transaction() as conn:
        tables = [r[0] for r in await conn.execute(text("SELECT DISTINCT table_name FROM audit_log ORDER BY 1"))]
    summary: dict[str, dict[str, int]] = {}
    for i, table in enumerate(tables):
        async with ctx.transaction() as conn:
            rows = await conn.execute(text(
                "SELECT action, count(*) FROM audit_log WHERE table_name = :t "
                "AND (CAST(:df AS date) IS NULL OR at >= CAST(:df AS date)) "
                "AND (CAST(:dt AS date) IS NULL OR at < CAST(:dt AS date) + 1) GROUP BY action"
            ), {"t": table, "df": date_from, "dt": date_to})
            summary[table] = {a: n for a, n in rows}
        await ctx.progress(100.0 * (i + 1) / max(1, len(tables)), f"Таблица {table}")
    return {"tables": summary, "total": sum(sum(v.values()) for v in summary.values())}


def _date(params: dict[str, Any], key: str) -> date | None:
    raw = params.get(key)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise ValueError(f"Параметр {key}: ожидается дата ГГГГ-ММ-ДД, получено «{raw}»") from exc
