"""Wake an agent's session: it looks at its queue now instead of at its next poll (2 s).

Called after the transaction that queued a command (or revoked the agent) has committed:
`ctx.after_commit(lambda: wake(ctx.core, ctx.tenant, agent_id))`. The event goes through the tenant's realtime
channel (`edge.wake` {"agent_id": N}); whichever app process holds the agent's session hears it from its hub.
A lost event costs nothing but the poll's delay. `WakeOutlet` is the gateway's end of a tenant's channel in one app
process (an Outlet of the realtime hub): it wakes that process's sessions of the agent named.
"""

from __future__ import annotations

import json
from typing import Any

from aquabill.platform.realtime import Frame, publish
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant

WAKE = "edge.wake"


async def wake(core: Core, tenant: Tenant, agent_id: int) -> None:
    await publish(core.redis, core.keys, tenant.id, WAKE, {"agent_id": agent_id})


class WakeOutlet:
    """The gateway's end of the tenant's realtime channel: `edge.wake` events wake the agent's sessions in this
    process; a reset (events lost) wakes them all."""

    def __init__(self) -> None:
        self.by_agent: dict[int, set[Any]] = {}  # agent id → its sessions here (each has `wake()`)

    def offer(self, frame: Frame) -> None:
        if frame.reset:
            for group in self.by_agent.values():
                for s in group:
                    s.wake()
            return
        for _, raw in frame.events:
            if WAKE not in raw:
                continue
            try:
                event = json.loads(raw)
                agent_id = event["data"]["agent_id"] if event.get("type") == WAKE else None
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            for s in self.by_agent.get(agent_id, ()):
                s.wake()
