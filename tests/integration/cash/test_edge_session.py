"""One agent's session in the gateway with short timings (real PostgreSQL, Redis and hub; the agent's frames through
an in-memory transport): an unacknowledged command is sent again when its lease runs out, on a live connection and
without any wake; a silent agent is closed 4408; one that never says hello is closed 4400."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from aquabill.cash import commands
from aquabill.channels.edge.gateway import Gateway
from aquabill.tenants.context import tenant_transaction
from tests.integration.cash.test_edge_gateway import enrolled, row
from tests.integration.cash.test_edge_outcomes import GONE, WAIT, MemoryTransport


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant()


async def test_an_unacknowledged_command_is_sent_again_when_its_lease_runs_out(core, hub, client, tenant):
    agent_id, key = await enrolled(client, tenant)
    gw = Gateway(core, hub, poll_seconds=0.2, lease_seconds=1)
    t = MemoryTransport()
    task = asyncio.create_task(gw.serve(t, key, address="10.0.0.8"))
    t.feed({"type": "hello", "cursor": 0})
    await t.wait_for({"type": "welcome", "agent_id": agent_id, "heartbeat": 15})
    async with tenant_transaction(core.engines, tenant.tenant, 1) as conn:  # queued without waking anybody
        cmd = await commands.enqueue(conn, agent_id=agent_id, kind="status", key=uuid.uuid4(), payload={}, user_id=1)
    frame = {"type": "command", "id": cmd["id"], "key": cmd["key"], "kind": "status", "payload": {}}
    await t.wait_for(frame, count=2)  # found by the poll, then again after the lease
    t.feed({"type": "ack", "id": cmd["id"]})
    t.feed({"type": "ping"})
    await t.wait_for({"type": "pong"})
    acked = await row(core, tenant, cmd["id"])
    assert acked["status"] == "acked" and acked["attempts"] >= 2
    t.feed(GONE)
    await asyncio.wait_for(task, WAIT)


async def test_a_silent_agent_is_closed(core, hub, client, tenant):
    _, key = await enrolled(client, tenant)
    gw = Gateway(core, hub, poll_seconds=0.2, idle_seconds=0.5)
    t = MemoryTransport()
    t.feed({"type": "hello", "cursor": 0})
    await asyncio.wait_for(gw.serve(t, key), WAIT)
    assert t.closed == (4408, "Нет пинга от агента")


async def test_an_agent_that_never_says_hello_is_closed(core, hub, client, tenant):
    _, key = await enrolled(client, tenant)
    gw = Gateway(core, hub, hello_seconds=0.3)
    t = MemoryTransport()
    await asyncio.wait_for(gw.serve(t, key), WAIT)
    assert t.closed == (4400, "Первым кадром ожидается hello с курсором")
    assert t.out == []
