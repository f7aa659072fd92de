"""Starting and resuming printings — one code path for the pages and the API. The parameters are checked here
(a refusal before anything is queued); the job `receipts.print` plans and prints (jobs/receipts_print.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aquabill.base.errors import Conflict
from aquabill.platform.jobs import store
from aquabill.platform.jobs.service import start_job
from aquabill.platform.printing import batches
from aquabill.platform.printing.request import check_request, parse_request

JOB = "receipts.print"


async def start_printing(ctx, params: dict[str, Any]) -> UUID:
    """A new printing in `ctx` (a TenantScope); returns its id (the job's, also the batch's)."""
    req = parse_request(params)
    await check_request(ctx.conn, req)
    return await start_job(ctx, JOB, req.params())


async def resume_printing(ctx, batch_id: UUID) -> UUID:
    """Print the bundles of a stopped printing that are not printed yet (the same plan); returns the new job."""
    batch = await batches.get_batch(ctx.conn, batch_id)
    if batch["status"] == "done":
        raise Conflict("Эта печать уже завершена: все пачки напечатаны")
    running = await store.get(ctx.conn, UUID(batch["job_id"]))
    if running is not None and running.status in ("queued", "running"):
        raise Conflict("Эта печать ещё выполняется: дождитесь её окончания")
    return await start_job(ctx, JOB, {"batch_id": str(batch_id)})
