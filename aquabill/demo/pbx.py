"""The demo's telephone exchange (`aquabill dev` only): an AMI simulator on loopback that the demo tenant's
connection points at, so the console can be tried end to end — «Симулировать звонок» on the console page
rings the agent with a call from one of the tenant's subscribers, answered a few seconds later. An outage
notice's autocall reaches it too: the demo house's phones are answered, busy or unanswered as
demo/notifications.PBX_SCRIPT says (any other number answers at once).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time

from sqlalchemy import text

from aquabill.channels.asterisk.scenarios import QueueCall
from aquabill.channels.asterisk.simulator import AmiSimulator
from aquabill.contact_center import calls as store
from aquabill.demo.notifications import PBX_RING_SECONDS, PBX_SCRIPT
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction

USER, SECRET = "aquabill-demo", "demo-ami-secret"
RING_SECONDS = 5.0
TALK_SECONDS = 20.0


class DemoPbx:
    def __init__(self) -> None:
        self.sim = AmiSimulator(USER, SECRET)
        self.sim.outcomes.update(PBX_SCRIPT)
        self.sim.ring_seconds.update(PBX_RING_SECONDS)
        self.tenant_id: int | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, core: Core, tenant: Tenant) -> int:
        """Listen on a free loopback port and point the tenant's AMI connection at it."""
        port = await self.sim.start()
        async with tenant_transaction(core.engines, tenant) as conn:
            await store.save_connection(conn, {
                "host": "127.0.0.1", "port": port, "username": USER, "enabled": True, "technology": "SIP",
                "originate_context": "from-internal",
                "secret_encrypted": SecretBox(core.settings.secret_key).seal(SECRET)}, None)
        async with core.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(core.keys.ami_tenants, tenant.id)
            pipe.incr(core.keys.ami_version(tenant.id))
            await pipe.execute()
        self.tenant_id = tenant.id
        return port

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.sim.stop()

    async def ring(self, conn, *, answer: bool = True) -> dict:
        """Ring the console with a call from a random subscriber that has a phone (answered or abandoned)."""
        rows = (await conn.execute(text(
            "SELECT number, holder, phone FROM accounts WHERE phone IS NOT NULL AND phone <> '' "
            "ORDER BY id LIMIT 200"))).all()
        if not rows:
            raise LookupError("В демо-организации нет лицевых счетов с телефоном")
        row = random.choice(rows)
        call = QueueCall(row.phone, linkedid=f"{int(time.time())}.{secrets.randbelow(10**6)}")

        async def play() -> None:
            await self.sim.replay(call.ringing())
            await asyncio.sleep(RING_SECONDS)
            if not answer:
                await self.sim.replay(call.abandoned())
                return
            events = call.answered()
            talk = next(i for i, e in enumerate(events) if e["Event"] == "BridgeLeave")
            await self.sim.replay(events[:talk])
            await asyncio.sleep(TALK_SECONDS)
            await self.sim.replay(events[talk:])

        task = asyncio.create_task(play())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"caller": row.phone, "account_number": row.number, "holder": row.holder}
