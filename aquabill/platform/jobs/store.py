"""Queries on the tenant's job registry table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, insert, select, update
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


def to_dict(row) -> dict[str, Any]:
    return {
        "id": str(row.id), "kind": row.kind, "title": row.title, "status": row.status,
        "progress": float(row.progress), "message": row.message, "params": row.params,
        "result": row.result, "error": row.error, "created_by": row.created_by,
        "created_at": row.created_at, "started_at": row.started_at, "finished_at": row.finished_at,
    }
