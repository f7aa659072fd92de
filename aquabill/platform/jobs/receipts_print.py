"""The mass printing of receipts (`receipts.print`): a month's receipts of the tenant, a house, a street or a
delivery method, as PDF bundles on disk, then the export for print houses (CSV, XML).

- The batch is the job: its id is the job id (a resumed printing passes `batch_id` and keeps it). Its plan —
  the accounts in address order cut into bundles — is written once, in one transaction; a rerun never
  recomputes it, so no account is added, lost or printed twice.
- Each bundle not printed yet, in one transaction: the receipts (`build_receipts`), issued
  (`issue_receipts`, batch_id = the batch: idempotent), rendered in the process pool, written to
  `<var>/receipts/<tenant>/<batch>/NNN-<slug>.pdf` atomically, and recorded (hash, size, the issues' PDF hash
  and page). A job killed anywhere leaves each bundle either printed and recorded or not (a file without its
  record is rewritten by the rerun); the same receipts give the same bytes, so a resumed printing's files
  are those of an uninterrupted one.
- Two runs of the same batch at once (an arq retry and a manual resume) are serialised by a session-level
  advisory lock on the batch: the second waits, then finds the bundles printed and only finishes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import build_receipts, issue_receipts, select_accounts
from aquabill.channels.print.pool import render_in_pool
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job
from aquabill.platform.printing import batches
from aquabill.platform.printing.export_files import write_exports
from aquabill.platform.printing.files import batch_dir, write_atomic
from aquabill.platform.printing.plan import cut
from aquabill.platform.printing.receipt_files import print_layout
from aquabill.platform.printing.request import parse_request

log = logging.getLogger(__name__)
PRINTED_AT = 97.0  # progress (%) when every bundle is printed; the export takes the rest
NBSP = "\u00a0"


def grouped(n: int) -> str:
    return f"{n:,}".replace(",", NBSP)


def progress_text(no: int, bundles: int, receipts: int) -> str:
    """«Пачка 12 из 40, 4 800 квитанций»."""
    return f"Пачка {no} из {bundles}, {grouped(receipts)} квитанций"


async def _plan(ctx: JobContext, batch_id: UUID, params: dict[str, Any]) -> dict[str, Any]:
    """The batch, planned now if it has no plan yet."""
    async with ctx.transaction() as conn:
        found = await batches.find_batch(conn, batch_id)
        if found is not None:
            await batches.set_status(conn, batch_id, "printing", job_id=ctx.job_id)
            return found
        req = parse_request(params)
        ids = await select_accounts(conn, req.period, **req.filter)
        if not ids:
            raise ValueError(f"Нет лицевых счетов для печати за {req.period} по этому отбору")
        plan = cut(await batches.account_houses(conn, ids), req.by, req.size)
        await batches.create_batch(conn, batch_id, job_id=ctx.job_id, period=req.period, filter_=req.filter,
                                   by=req.by, size=req.size, bundles=plan, user_id=ctx.user_id)
        await batches.set_status(conn, batch_id, "printing", job_id=ctx.job_id)
        return await batches.get_batch(conn, batch_id)


async def print_batch(ctx: JobContext, batch_id: UUID, params: dict[str, Any]) -> dict[str, Any]:
    async with ctx.transaction() as conn:
        found = await batches.find_batch(conn, batch_id)
        if found is not None and found["status"] == "done":  # a second run waited for the first: done already
            await batches.set_status(conn, batch_id, "done", job_id=ctx.job_id)  # the page follows this job
    if found is not None and found["status"] == "done":
        return {"batch_id": str(batch_id), "period": found["period"], "bundles": found["bundles"],
                "receipts": found["total"], "printed_now": 0, "issued_now": 0}
    batch = await _plan(ctx, batch_id, params)
    period = Period.parse(batch["period"])
    folder = batch_dir(ctx.core.settings.var_dir, ctx.tenant.slug, batch_id)
    async with ctx.transaction() as conn:
        layout = await print_layout(conn)
        pending = await batches.pending_bundles(conn, batch_id)
    total, bundles, done = batch["total"], batch["bundles"], batch["done"]
    issued = 0
    for no, ids, file_name in pending:
        async with ctx.transaction() as conn:
            receipts = await build_receipts(conn, period, ids)
            issues = await issue_receipts(conn, period, receipts, batch_id=batch_id, user_id=ctx.user_id)
            pdf = await render_in_pool(receipts, layout)
            sha = await asyncio.to_thread(write_atomic, folder / file_name, pdf)
            await batches.bundle_printed(conn, batch_id, no, sha256=sha, size=len(pdf),
                                         issue_ids=[i["id"] for i in issues])
        done += len(ids)
        issued += sum(1 for i in issues if i["issued"])
        await ctx.progress(PRINTED_AT * done / max(total, 1), progress_text(no, bundles, done))
    await ctx.progress(PRINTED_AT, "Выгрузка для типографии (CSV, XML)")
    async with ctx.transaction() as conn:
        files = await write_exports(conn, batch_id, folder)
        await batches.set_exports(conn, batch_id, files)
        await batches.set_status(conn, batch_id, "done")
    return {"batch_id": str(batch_id), "period": str(period), "bundles": bundles, "receipts": total,
            "printed_now": len(pending), "issued_now": issued, "csv": files["csv"][0], "xml": files["xml"][0]}


@job("receipts.print", "Печать квитанций", resource="receipts", action="edit")
async def receipts_print(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `period`, `filter`, `bundle` (request.parse_request) for a new printing; `batch_id` to resume
    one."""
    batch_id = UUID(str(params["batch_id"])) if params.get("batch_id") else ctx.job_id
    engine = await ctx.core.engines.engine(ctx.tenant.db_key)
    async with engine.connect() as lock:
        await batches.lock_batch(lock, ctx.tenant.schema_name, batch_id)
        await lock.commit()  # the session-level lock stays; no transaction is kept open
        try:
            return await print_batch(ctx, batch_id, params)
        except Exception as exc:
            async with ctx.transaction() as conn:
                if await batches.find_batch(conn, batch_id) is not None:
                    await batches.set_status(conn, batch_id, "failed", error=str(exc) or type(exc).__name__)
            raise
        finally:
            try:
                await batches.unlock_batch(lock, ctx.tenant.schema_name, batch_id)
                await lock.commit()
            except BaseException:  # the lock must not outlive the job on a pooled connection
                log.warning("printing %s: unlocking failed, connection dropped", batch_id, exc_info=True)
                await lock.invalidate()

