"""The requests' timers as an arq cron job: every minute, for each active tenant, reassign requests whose
assignee did not accept in time, mark overdue phases and escalate them (`contact_center.requests.flow.process_timers`),
then publish the events. One tenant's failure (e.g. a schema not migrated yet) does not stop the others."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from arq.cron import CronJob, cron
from sqlalchemy import text

from aquabill.contact_center.requests.flow import process_timers
from aquabill.contact_center.requests.store import Outbox
from aquabill.platform.realtime import publish
from aquabill.platform.state import Core
from aquabill.tenants import registry
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)


async def tenant_timers(core: Core, tenant: Tenant, now: datetime) -> dict[str, int]:
    """One tenant's pass at `now` (committed), its events published after the commit."""
    out = Outbox()
    async with tenant_transaction(core.engines, tenant) as conn:
        if (await conn.execute(text("SELECT to_regclass('requests')"))).scalar() is None:
            return {"skipped": 1}  # a schema not migrated to t0010 yet
        stats = await process_timers(conn, now, out)
    for event_type, data in out.events:
        await publish(core.redis, core.keys, tenant.id, event_type, data)
    return stats


async def all_tenants_timers(core: Core, now: datetime) -> dict[str, int]:
    async with core.engines.control.connect() as conn:
        tenants, _ = await registry.list_tenants(conn)
    done = failed = 0
    for tenant in tenants:
        if tenant.status != "active":
            continue
        try:
            await tenant_timers(core, tenant, now)
            done += 1
        except Exception:
            failed += 1
            log.exception("request timers of tenant %s failed", tenant.slug)
    return {"tenants": done, "failed": failed}


async def requests_timers_cron(ctx: dict[str, Any]) -> dict[str, int]:
    return await all_tenants_timers(ctx["core"], datetime.now(UTC))


def cron_jobs() -> list[CronJob]:
    """Every minute at second 0; unique per tick, so several workers run it once."""
    return [cron(requests_timers_cron, name="requests.timers", second=0, timeout=300)]
