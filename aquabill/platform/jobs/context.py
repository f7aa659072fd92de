"""The typed context a job function receives instead of arq's bare dict."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.platform.jobs import store
from aquabill.platform.realtime import publish
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction


@dataclass
class JobContext:
    core: Core
    tenant: Tenant
    job_id: UUID
    user_id: int | None

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A tenant transaction acting as the user who started the job (for the audit log)."""
        return tenant_transaction(self.core.engines, self.tenant, self.user_id)

    async def progress(self, percent: float, message: str = "") -> None:
        pct = Decimal(str(round(max(0.0, min(100.0, percent)), 2)))
        async with tenant_transaction(self.core.engines, self.tenant) as conn:
            await store.set_progress(conn, self.job_id, pct, message)
        await publish(self.core.redis, self.core.keys, self.tenant.id, "job.progress",
                      {"id": str(self.job_id), "progress": float(pct), "message": message})
