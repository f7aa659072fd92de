"""Polling the tenants' IMAP mailboxes for appeals.

- the `mail.poll` job (`POST /api/mailboxes/{id}/poll`, or `POST /api/jobs {"kind": "mail.poll"}`): one
  mailbox (`params.mailbox_id`) or every enabled mailbox of the tenant, with a report per mailbox;
- the `mail.poll` arq cron job: every MAIL_POLL_MINUTES minutes, every enabled mailbox of every active tenant
  (no job rows: its results are on the mailboxes — last_polled_at, last_error). One tenant's failure does not
  stop the others.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.cron import CronJob, cron

from aquabill.channels.mail.intake import poll_tenant
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job
from aquabill.platform.state import Core
from aquabill.tenants import registry

log = logging.getLogger(__name__)
KIND = "mail.poll"
MAIL_POLL_MINUTES = 5


@job(KIND, "Проверка почты обращений", resource="appeals", action="edit")
async def mail_poll_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    raw = params.get("mailbox_id")
    mailbox_id = int(raw) if raw not in (None, "") else None
    reports = await poll_tenant(ctx.core, ctx.tenant, mailbox_id=mailbox_id, user_id=ctx.user_id)
    return {"mailboxes": [r.as_dict() for r in reports], "stored": sum(r.stored for r in reports),
            "failed": sum(1 for r in reports if r.error)}


async def poll_all_tenants(core: Core) -> dict[str, int]:
    async with core.engines.control.connect() as conn:
        tenants, _ = await registry.list_tenants(conn)
    done = failed = stored = 0
    for tenant in tenants:
        if tenant.status != "active":
            continue
        try:
            reports = await poll_tenant(core, tenant)
            stored += sum(r.stored for r in reports)
            done += 1
        except Exception:
            failed += 1
            log.exception("mail poll of tenant %s failed", tenant.slug)
    return {"tenants": done, "failed": failed, "stored": stored}


async def mail_poll_cron(ctx: dict[str, Any]) -> dict[str, int]:
    return await poll_all_tenants(ctx["core"])


def mail_cron_jobs() -> list[CronJob]:
    """Every MAIL_POLL_MINUTES minutes at second 30; unique per tick, so several workers run it once."""
    return [cron(mail_poll_cron, name="mail.poll", minute=set(range(0, 60, MAIL_POLL_MINUTES)), second=30,
                 timeout=600)]
