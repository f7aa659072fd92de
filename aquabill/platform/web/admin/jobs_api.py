"""The job registry over the API: start a job, follow its status and progress."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import get, post
from litestar.params import Parameter

from aquabill.base.errors import found
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store
from aquabill.platform.jobs.registry import JOBS
from aquabill.platform.jobs.service import start_job
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, page


class JobIn(msgspec.Struct):
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    params: dict[str, Any] = msgspec.field(default_factory=dict)


@get("/api/jobs", dependencies=DEPS, guards=[requires("jobs", "view")], tags=["jobs"])
async def list_jobs(ctx: Ctx, status: Annotated[str | None, Parameter(max_length=16)] = None,
                    kind: Annotated[str | None, Parameter(max_length=64)] = None,
                    limit: Limit = 50, offset: Offset = 0) -> dict:
    rows, total = await store.list_jobs(ctx.conn, status=status, kind=kind, limit=limit, offset=offset)
    return page([store.to_dict(r) for r in rows], total, limit, offset)


@get("/api/jobs/kinds", dependencies=DEPS, guards=[requires("jobs", "view")], tags=["jobs"])
async def job_kinds(ctx: Ctx) -> dict:
    items = [{"kind": s.kind, "title": s.title, "allowed": ctx.principal.can(s.resource, s.action)}
             for s in JOBS.values()]
    return page(items, len(items), len(items), 0)


@get("/api/jobs/{job_id:uuid}", dependencies=DEPS, guards=[requires("jobs", "view")], tags=["jobs"])
async def get_job(ctx: Ctx, job_id: UUID) -> dict:
    row = found(await store.get(ctx.conn, job_id), "Задание не найдено")
    return store.to_dict(row)


@post("/api/jobs", dependencies=DEPS, guards=[requires("jobs", "view")], tags=["jobs"], status_code=202)
async def create_job(ctx: Ctx, data: JobIn) -> dict:
    job_id = await start_job(ctx, data.kind, data.params)
    return store.to_dict(await store.get(ctx.conn, job_id))


ROUTES = [list_jobs, job_kinds, get_job, create_job]
