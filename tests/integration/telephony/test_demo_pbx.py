"""The demo exchange of `aquabill dev`: it points the demo tenant's AMI connection at itself and rings with a
call from one of the tenant's subscribers, in the real AMI wire format."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from aquabill.channels.asterisk import protocol
from aquabill.demo import pbx as demo_pbx
from aquabill.demo.pbx import DemoPbx
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.conftest import small_registry


async def test_demo_pbx_configures_the_tenant_and_rings(make_tenant, core, monkeypatch):
    monkeypatch.setattr(demo_pbx, "RING_SECONDS", 0.0)
    monkeypatch.setattr(demo_pbx, "TALK_SECONDS", 0.0)
    t = await make_tenant(seed=small_registry)
    async with tenant_transaction(core.engines, t.tenant) as conn:
        await conn.execute(text("UPDATE accounts SET phone = NULL"))
        await conn.execute(text("UPDATE accounts SET phone = '+79160000042' WHERE id = (SELECT min(id) FROM accounts)"))
    pbx = DemoPbx()
    port = await pbx.start(core, t.tenant)
    try:
        async with tenant_transaction(core.engines, t.tenant) as conn:
            row = (await conn.execute(text("SELECT host, port, enabled FROM ami_connections"))).one()
        assert (row.host, row.port, row.enabled) == ("127.0.0.1", port, True)
        assert await core.redis.sismember(core.keys.ami_tenants, t.tenant.id)

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        decoder = protocol.Decoder()
        writer.write(protocol.encode([("Action", "Login"), ("Username", demo_pbx.USER),
                                      ("Secret", demo_pbx.SECRET), ("ActionID", "1")]))
        got: list = []

        async def until(pred) -> None:
            async with asyncio.timeout(10):
                while not any(pred(m) for m in got):
                    got.extend(decoder.feed(await reader.read(65536)))

        await until(lambda m: m.get("Response") == "Success")
        async with tenant_transaction(core.engines, t.tenant) as conn:
            rung = await pbx.ring(conn)
        assert rung["caller"] == "+79160000042"
        await until(lambda m: m.get("Event") == "Hangup" and m.get("Uniqueid") == m.get("Linkedid"))
        events = [m["Event"] for m in got if m.get("Event") and m["Event"] != "FullyBooted"]
        assert events[0] == "Newchannel" and "AgentCalled" in events and "AgentConnect" in events
        assert next(m for m in got if m.get("Event") == "Newchannel")["CallerIDNum"] == "+79160000042"
        writer.close()
    finally:
        await pbx.stop()
        await core.redis.srem(core.keys.ami_tenants, t.tenant.id)
