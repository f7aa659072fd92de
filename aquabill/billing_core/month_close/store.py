"""Month-close SQL the web layer needs besides the checks and the closing: the checks' settings and the
period's billing runs still waiting in the job queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, table, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.periods import Period

RUN_JOB = "billing.run"  # the job kind of a billing run

_CLOSE_CHECKS = table("close_checks", column("code"), column("enabled"), column("blocking"), column("parameter"))
_QUEUE_STATUS = {"queued": "в очереди", "running": "выполняется"}


async def queued_runs(conn: AsyncConnection, period: Period) -> list[str]:
    """Labels of the period's billing runs still in the job queue (queued or running): unfinished runs."""
    rows = await conn.execute(text(
        "SELECT id, status FROM jobs WHERE kind = :k AND status IN ('queued', 'running') "
        "AND params->>'period' = :p ORDER BY created_at"), {"k": RUN_JOB, "p": str(period)})
    return [f"задание {str(r.id)[:8]} ({_QUEUE_STATUS[r.status]})" for r in rows]


async def save_check_settings(conn: AsyncConnection, code: str, settings: dict[str, Any]) -> None:
    """Store a check's accepted settings (what `check_change` returned: enabled, blocking, parameter)."""
    if settings:
        await conn.execute(update(_CLOSE_CHECKS).where(_CLOSE_CHECKS.c.code == code).values(settings))
