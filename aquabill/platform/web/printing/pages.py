"""The printing pages: `/receipts/print` — start a printing (month, accounts, bundle size) and the printings
with live progress (the realtime hub's job events, as the billing runs page); `/receipts/print/{id}` — one
printing: its bundles with download links, the export files, the counts; «Продолжить» for a stopped one."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Template

from aquabill.billing_core.periods_guard import default_period
from aquabill.billing_core.registry.queries import house_choices, street_choices
from aquabill.platform.jobs import store
from aquabill.platform.printing import batches
from aquabill.platform.printing.request import filter_title
from aquabill.platform.printing.service import resume_printing, start_printing
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM, attempt
from aquabill.platform.web.paging import Offset
from aquabill.platform.web.printing.common import (
    DELIVERY_NAMES,
    EDIT,
    JOB_STATUS,
    STATUS,
    VIEW,
    PrintForm,
    form_params,
)

LIST_PAGE = 20
Part = Annotated[str, Parameter(max_length=16, description="Часть страницы (list — только список печатей)")]


def _ctx(ts: TenantScope, **kw: Any) -> dict[str, Any]:
    return {"principal": ts.principal, "tenant": ts.tenant, "can_edit": ts.principal.can("receipts", "edit"),
            "status_names": STATUS, "job_status": JOB_STATUS, "delivery_names": DELIVERY_NAMES, **kw}


async def _list_ctx(ctx: TenantScope, offset: int) -> dict[str, Any]:
    rows, total = await batches.list_printings(ctx.conn, limit=LIST_PAGE, offset=offset)
    for r in rows:
        r["filter_title"] = await filter_title(ctx.conn, r["filter"])
    return {"printings": rows, "total": total, "offset": offset, "limit": LIST_PAGE,
            "has_active": any(r["active"] for r in rows)}


async def _page(ctx: TenantScope, request: Request, form: PrintForm | None = None, *, offset: int = 0,
                started: UUID | None = None, message: str = "") -> Template:
    form = form or PrintForm(period=str(await default_period(ctx.conn)))
    context = _ctx(ctx, form=form, houses=await house_choices(ctx.conn), streets=await street_choices(ctx.conn),
                   started=str(started) if started else None, message=message, **await _list_ctx(ctx, offset))
    partial = request.headers.get("hx-request") == "true"
    return Template("printing/panel.html" if partial else "printing/index.html", context=context)


@get("/receipts/print", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def print_page(ctx: Ctx, request: Request, part: Part = "", offset: Offset = 0) -> Template:
    if part == "list":  # the list alone: refreshed when a printing ends, polled while the WebSocket is down
        return Template("printing/list.html", context=_ctx(ctx, **await _list_ctx(ctx, offset)))
    return await _page(ctx, request, offset=offset)


@post("/receipts/print", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def print_submit(ctx: Ctx, request: Request, data: Annotated[PrintForm, FORM]) -> Template:
    async with attempt(ctx) as tried:
        started = await start_printing(ctx, form_params(data))
    if tried.refused:
        return await _page(ctx, request, data, message=tried.message)
    return await _page(ctx, request, data, started=started)


async def _batch_page(ctx: TenantScope, batch_id: UUID, *, message: str = "", error: bool = False) -> Template:
    batch = await batches.get_batch(ctx.conn, batch_id)
    bundles = await batches.bundles_of(ctx.conn, batch_id)
    job = await store.get(ctx.conn, UUID(batch["job_id"]))
    live = {"status": job.status, "progress": float(job.progress), "message": job.message, "error": job.error,
            "active": job.status in ("queued", "running") and batch["status"] not in ("done", "failed")
            } if job is not None else None
    return Template("printing/batch.html", context=_ctx(
        ctx, b=batch, bundles=bundles, live=live, filter_title=await filter_title(ctx.conn, batch["filter"]),
        printed=sum(1 for x in bundles if x["done_at"] is not None), message=message, error=error))


@get("/receipts/print/{batch_id:uuid}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def batch_page(ctx: Ctx, batch_id: UUID) -> Template:
    return await _batch_page(ctx, batch_id)


@post("/receipts/print/{batch_id:uuid}/resume", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def batch_resume(ctx: Ctx, batch_id: UUID) -> Template:
    async with attempt(ctx) as tried:
        await resume_printing(ctx, batch_id)
    if tried.refused:
        return await _batch_page(ctx, batch_id, message=tried.message, error=True)
    return await _batch_page(ctx, batch_id, message="Печать продолжена: напечатанные пачки не печатаются заново")


ROUTES = [print_page, print_submit, batch_page, batch_resume]
