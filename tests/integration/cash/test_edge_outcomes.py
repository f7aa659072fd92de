"""The gateway's result path with the cash desk's outcome hook injected (real PostgreSQL, Redis and realtime hub; the
agent's frames through an in-memory transport): the hook runs once per command in the result's transaction, its
events are published after commit, and a result whose transaction fails is not acknowledged (the agent sends it
again) and changes nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from aquabill.cash import commands
from aquabill.channels.edge.gateway import Disconnected, Gateway
from aquabill.platform import realtime
from aquabill.tenants.context import tenant_transaction
from tests.integration.cash.test_edge_gateway import enrolled, row

GONE = object()
WAIT = 10.0
_STATUS = text("SELECT status FROM edge_commands WHERE id = :i")


class MemoryTransport:
    """The socket's two directions as a queue in and a list out (every frame through JSON, as on the wire)."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.out: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self._changed = asyncio.Event()

    async def recv_json(self) -> Any:
        item = await self.inbox.get()
        if item is GONE:
            raise Disconnected()
        return json.loads(json.dumps(item))

    async def send_json(self, obj: dict[str, Any]) -> None:
        if self.closed:
            raise Disconnected()
        self.out.append(json.loads(json.dumps(obj, default=str)))
        self._changed.set()

    async def close(self, code: int, reason: str) -> None:
        if self.closed is None:
            self.closed = (code, reason)
            self.inbox.put_nowait(GONE)
            self._changed.set()

    def feed(self, frame: dict[str, Any]) -> None:
        self.inbox.put_nowait(frame)

    async def wait_for(self, frame: dict[str, Any], count: int = 1) -> None:
        async with asyncio.timeout(WAIT):
            while self.out.count(frame) < count:
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant()


async def _session(core, hub, client, tenant, apply):
    agent_id, key = await enrolled(client, tenant)
    async with tenant_transaction(core.engines, tenant.tenant, 1) as conn:
        cmd = await commands.enqueue(conn, agent_id=agent_id, kind="receipt", key=uuid.uuid4(),
                                     payload={"key": str(uuid.uuid4())}, user_id=1)
    gw = Gateway(core, hub, apply=apply, poll_seconds=0.2)
    t = MemoryTransport()
    task = asyncio.create_task(gw.serve(t, key, address="10.0.0.7"))
    t.feed({"type": "hello", "cursor": 0, "version": "0.1.0", "device": None})
    await t.wait_for({"type": "command", "id": cmd["id"], "key": cmd["key"], "kind": "receipt", "payload": cmd["payload"]})
    return t, task, cmd


async def test_the_outcome_is_applied_once_and_its_events_published_after_commit(core, hub, client, tenant):
    calls: list[tuple[int, bool, Any, Any, str]] = []

    async def apply(conn, command, *, ok, result, error):
        status = (await conn.execute(_STATUS, {"i": command["id"]})).scalar_one()  # inside the result's transaction
        calls.append((command["id"], ok, result, error, status))
        return [("cash.receipt", {"receipt_id": 1, "shift_id": 1, "status": "done", "command": command["id"]})]

    since = await realtime.current_seq(core.redis, core.keys, tenant.tenant.id)
    t, task, cmd = await _session(core, hub, client, tenant, apply)
    result = {"fn_number": "7281440500123456", "fd_number": 42, "fiscal_sign": 1234567890}
    t.feed({"type": "result", "id": cmd["id"], "ok": True, "result": result})
    t.feed({"type": "result", "id": cmd["id"], "ok": True, "result": result})  # a copy (the agent reconnected)
    await t.wait_for({"type": "result_ack", "id": cmd["id"]}, count=2)
    assert calls == [(cmd["id"], True, result, None, "done")]
    events = [json.loads(e) for _, e in await realtime.replay_since(core.redis, core.keys, tenant.tenant.id, since)]
    assert [e["data"] for e in events if e["type"] == "cash.receipt"] == [
        {"receipt_id": 1, "shift_id": 1, "status": "done", "command": cmd["id"]}]
    t.feed(GONE)
    await asyncio.wait_for(task, WAIT)


async def test_a_result_whose_transaction_fails_is_not_acknowledged(core, hub, client, tenant):
    failing = [True]

    async def apply(conn, command, *, ok, result, error):
        if failing[0]:
            raise RuntimeError("the outcome could not be applied")
        return []

    t, task, cmd = await _session(core, hub, client, tenant, apply)
    error = {"code": "register_error", "message": "Нет бумаги", "retryable": False}
    t.feed({"type": "result", "id": cmd["id"], "ok": False, "error": error})
    t.feed({"type": "ping"})
    await t.wait_for({"type": "pong"})  # frames are taken in order: the result was handled before the ping
    assert {"type": "result_ack", "id": cmd["id"]} not in t.out
    assert (await row(core, tenant, cmd["id"]))["status"] == "sent"  # rolled back
    failing[0] = False
    t.feed({"type": "result", "id": cmd["id"], "ok": False, "error": error})
    await t.wait_for({"type": "result_ack", "id": cmd["id"]})
    failed = await row(core, tenant, cmd["id"])
    assert (failed["status"], failed["error"]) == ("failed", "Нет бумаги")
    t.feed(GONE)
    await asyncio.wait_for(task, WAIT)

