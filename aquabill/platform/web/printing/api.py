"""The printing API (permission "receipts": view to read, edit to start):

- `GET /api/receipts/print?offset=` — the printings, newest first, with their job's state;
- `POST /api/receipts/print` `{period: "ГГГГ-ММ", filter: {} | {house_id} | {street_id} | {delivery},
  bundle: "house" | N}` → 201 `{id}` (the printing's id, also its job's);
- `GET /api/receipts/print/{id}` — the printing, its bundles (`download`: the PDF's address once printed) and
  the export files;
- `POST /api/receipts/print/{id}/resume` → 201 `{job_id}`: print the bundles not printed yet.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import get, post

from aquabill.platform.printing import batches
from aquabill.platform.printing.service import resume_printing, start_printing
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Offset
from aquabill.platform.web.printing.common import EDIT, TAGS, VIEW

FilterValue = Annotated[str, msgspec.Meta(max_length=32)] | int | None


class PrintIn(msgspec.Struct):
    period: Annotated[str, msgspec.Meta(max_length=16)] = ""
    filter: dict[Annotated[str, msgspec.Meta(max_length=16)], FilterValue] = {}
    bundle: Annotated[str, msgspec.Meta(max_length=16)] | int | None = None


@get("/api/receipts/print", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def api_printings(ctx: Ctx, offset: Offset = 0) -> dict[str, Any]:
    rows, total = await batches.list_printings(ctx.conn, limit=50, offset=offset)
    return {"items": rows, "total": total}


@post("/api/receipts/print", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def api_start(ctx: Ctx, data: PrintIn) -> dict[str, Any]:
    """Start a printing of a month's receipts (a job: progress over the WebSocket, `job.*` events)."""
    job_id = await start_printing(ctx, {"period": data.period, "filter": data.filter, "bundle": data.bundle})
    return {"id": str(job_id)}


@get("/api/receipts/print/{batch_id:uuid}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def api_printing(ctx: Ctx, batch_id: UUID) -> dict[str, Any]:
    batch = await batches.get_batch(ctx.conn, batch_id)
    bundles = [{**b, "download": f"/receipts/print/{batch_id}/bundles/{b['no']}.pdf" if b["done_at"] else None}
               for b in await batches.bundles_of(ctx.conn, batch_id)]
    exports = ({"csv": f"/receipts/print/{batch_id}/export.csv", "xml": f"/receipts/print/{batch_id}/export.xml"}
               if batch["csv_file"] else None)
    return {**batch, "bundle_list": bundles, "exports": exports}


@post("/api/receipts/print/{batch_id:uuid}/resume", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def api_resume(ctx: Ctx, batch_id: UUID) -> dict[str, Any]:
    return {"job_id": str(await resume_printing(ctx, batch_id))}


ROUTES = [api_printings, api_start, api_printing, api_resume]
