"""A notification campaign as a background job: its recipients are written (once), the tenant's senders are
opened, the runner (notifications/runner.py) sends at each channel's pace with progress over the WebSocket
(`job.progress`, and `notifications.progress` with the counts per channel and status, about once a second).

Quiet hours: when they begin, the run ends and this job starts the next one of the same campaign deferred to
their end (at most DEFER_MAX ahead, so the job sweeper never takes a waiting job for a lost one; a job that
wakes up still inside them defers again). A killed worker's campaign goes on when its job is run again (arq's
retry, or «Продолжить» on the page): what it had claimed and not recorded is handled by the rule in
notifications/delivery_store.py. Two jobs on one campaign share the work without sending anything twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from arq.connections import ArqRedis

from aquabill.notifications.campaign_store import get_campaign, materialise, set_resume
from aquabill.notifications.runner import CampaignRunner, as_progress_text
from aquabill.notifications.settings import load_rules
from aquabill.platform.jobs import store
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job
from aquabill.platform.jobs.service import RUN_JOB
from aquabill.platform.realtime import publish

CAMPAIGN_JOB = "notifications.campaign"
TITLE = "Рассылка оповещений"
DEFER_MAX = timedelta(hours=5)  # below the sweeper's QUEUED_DEADLINE (6 h)


async def defer_continuation(ctx: JobContext, campaign_id: int, at: datetime) -> UUID:
    """A new job of the campaign, queued now and run at `at` (capped at DEFER_MAX from now)."""
    at = min(at, datetime.now(UTC) + DEFER_MAX)
    async with ctx.transaction() as conn:
        job_id = await store.create(conn, CAMPAIGN_JOB, TITLE, {"campaign_id": campaign_id}, ctx.user_id)
        await set_resume(conn, campaign_id, at, job_id)
    redis = ctx.core.redis
    assert isinstance(redis, ArqRedis)
    await redis.enqueue_job(RUN_JOB, ctx.tenant.id, str(job_id), _job_id=str(job_id),
                            _queue_name=ctx.core.keys.queue, _defer_until=at)
    return job_id


@job(CAMPAIGN_JOB, TITLE, resource="notifications", action="edit")
async def campaign_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    campaign_id = params.get("campaign_id")
    if not isinstance(campaign_id, int):
        raise ValueError("Не указана рассылка (campaign_id)")
    async with ctx.transaction() as conn:
        rules = await load_rules(conn)
        campaign = await get_campaign(conn, campaign_id)
        if campaign["status"] != "running":
            return {"campaign_id": campaign_id, "status": campaign["status"], "skipped": "рассылка не идёт"}
        today = datetime.now(ZoneInfo(rules.timezone)).date()
        materialised = await materialise(conn, campaign_id, today)
    if materialised is not None:
        await ctx.progress(0, f"Получателей: {materialised}")

    async def progress(per: dict[str, dict[str, int]], done: int, total: int) -> None:
        await ctx.progress(100.0 * done / total if total else 0.0, as_progress_text(per))
        await publish(ctx.core.redis, ctx.core.keys, ctx.tenant.id, "notifications.progress",
                      {"campaign_id": campaign_id, "job_id": str(ctx.job_id), "counts": per, "done": done,
                       "total": total})

    from aquabill.channels.notify.factory import close_senders, open_senders  # imported when run

    # a receipts campaign attaches each recipient's issued receipt (PDF), keyed by the issue
    from aquabill.platform.jobs.receipt_mail import receipt_extras

    extras = await receipt_extras(ctx, campaign_id)
    senders = await open_senders(ctx.core, ctx.tenant)
    try:
        runner = CampaignRunner(ctx.transaction, campaign_id, senders, rules=rules, progress=progress,
                                extras=extras)
        result = await runner.run()
    finally:
        await close_senders(senders)
    out: dict[str, Any] = {"campaign_id": campaign_id, "status": result.status, "sent": result.sent,
                           "counts": result.counts, "channels": sorted(senders)}
    if result.status == "quiet" and result.resume_at is not None:
        next_job = await defer_continuation(ctx, campaign_id, result.resume_at)
        local = result.resume_at.astimezone(ZoneInfo(rules.timezone))
        out.update(resume_at=result.resume_at.isoformat(), next_job=str(next_job),
                   note=f"Тихие часы: отправка продолжится {local:%d.%m.%Y %H:%M}")
    return out
