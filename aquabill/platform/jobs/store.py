"""Queries on the tenant's job registry table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.tables import jobs


async def create(conn: AsyncConnection, kind: str, title: str, params: dict[str, Any], user_id: int | None) -> UUID:
    job_id = uuid4()
    await conn.execute(insert(jobs).values(id=job_id, kind=kind, title=title, params=params, created_by=user_id))
    return job_id


async def get(conn: AsyncConnection, job_id: UUID):
    return (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()


async def list_jobs(conn: AsyncConnection, *, status: str | None = None, kind: str | None = None,
                    limit: int = 50, offset: int = 0):
    q = select(jobs).order_by(jobs.c.created_at.desc())
    cq = select(func.count()).select_from(jobs)
    for col, val in ((jobs.c.status, status), (jobs.c.kind, kind)):
        if val:
            q, cq = q.where(col == val), cq.where(col == val)
    return (await conn.execute(q.limit(limit).offset(offset))).all(), (await conn.execute(cq)).scalar_one()


async def mark_running(conn: AsyncConnection, job_id: UUID) -> bool:
    res = await conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status.in_(("queued", "running")))
                             .values(status="running", started_at=func.now(), error=None))
    return res.rowcount == 1


async def set_progress(conn: AsyncConnection, job_id: UUID, progress: Decimal, message: str) -> None:
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(progress=progress, message=message))


async def finish(conn: AsyncConnection, job_id: UUID, *, result: dict | None = None, error: str | None = None) -> None:
    values: dict[str, Any] = {"finished_at": func.now()}
    if error is None:
        values.update(status="done", progress=Decimal(100), result=result, message="Готово")
    else:
        values.update(status="failed", error=error, message="Ошибка")
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))


async def beat(conn: AsyncConnection, job_id: UUID) -> None:
    """The worker running the job is alive (t0017 `heartbeat_at`)."""
    await conn.execute(text("UPDATE jobs SET heartbeat_at = clock_timestamp() WHERE id = :id AND status = 'running'"),
                       {"id": job_id})


async def stale_queued(conn: AsyncConnection, older_than_s: float) -> list[UUID]:
    """Jobs still `queued` this long after they were created, oldest first."""
    return list((await conn.execute(text(
        "SELECT id FROM jobs WHERE status = 'queued' AND created_at < now() - make_interval(secs => :s) "
        "ORDER BY created_at"), {"s": older_than_s})).scalars())


async def fail_abandoned(conn: AsyncConnection, *, dead_after_s: float, queued_deadline_s: float,
                         dead: str, lost: str) -> list[tuple[UUID, str]]:
    """Mark failed the `running` jobs without a heartbeat (or start) for `dead_after_s` (error `dead`) and the
    jobs still `queued` `queued_deadline_s` after they were created (error `lost`); their ids and errors."""
    return [(r.id, r.error) for r in await conn.execute(text("""
        UPDATE jobs SET status = 'failed', finished_at = now(), message = 'Ошибка',
                        error = CASE status WHEN 'running' THEN :dead ELSE :lost END
        WHERE (status = 'running'
               AND coalesce(heartbeat_at, started_at, created_at) < now() - make_interval(secs => :d))
           OR (status = 'queued' AND created_at < now() - make_interval(secs => :q))
        RETURNING id, error"""), {"d": dead_after_s, "q": queued_deadline_s, "dead": dead, "lost": lost})]


def to_dict(row) -> dict[str, Any]:
    return {
        "id": str(row.id), "kind": row.kind, "title": row.title, "status": row.status,
        "progress": float(row.progress), "message": row.message, "params": row.params,
        "result": row.result, "error": row.error, "created_by": row.created_by,
        "created_at": row.created_at, "started_at": row.started_at, "finished_at": row.finished_at,
    }
