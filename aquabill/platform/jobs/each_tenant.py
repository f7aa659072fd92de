"""Run a periodic job's step for every active tenant, one after another: a tenant whose step raises is logged and
counted, and the others still run (one broken schema does not stop the sweep)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aquabill.platform.state import Core
from aquabill.tenants import registry
from aquabill.tenants.context import Tenant

log = logging.getLogger(__name__)
T = TypeVar("T")


async def each_active_tenant(core: Core, step: Callable[[Tenant], Awaitable[T]], what: str) -> tuple[list[T], int]:
    """(the results of the tenants whose step succeeded, how many failed); `what` names the step in the log."""
    async with core.engines.control.connect() as conn:
        tenants, _ = await registry.list_tenants(conn)
    results: list[T] = []
    failed = 0
    for tenant in tenants:
        if tenant.status != "active":
            continue
        try:
            results.append(await step(tenant))
        except Exception:
            failed += 1
            log.exception("%s of tenant %s failed", what, tenant.slug)
    return results, failed
