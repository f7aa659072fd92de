"""The edge gateway over real sockets: two app processes (uvicorn) and a fake agent speaking the wire protocol
with the `websockets` client — hello/welcome, commands in id order, redelivery after a reconnect, acks by the
hello's cursor, results recorded once, one session per agent (4409 across processes), revocation (4401, live),
and tenant isolation of keys and queues."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from aquabill.cash import commands
from aquabill.channels.edge.wake import wake
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api
from tests.integration.cash.test_edge_enroll import new_agent

WAIT = 15.0  # upper bound for an expected frame or close (the gateway polls every 2 s)
QUIET = 2.5  # how long "nothing more arrives" is watched for (longer than the gateway's poll)


class FakeAgent:
    """An edge agent's side of the protocol; a background task records every frame and the close code."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, ws_url: str, key: str | None, *, cursor: int | None = 0, headers: dict | None = None
                      ) -> FakeAgent:
        extra = {"Authorization": f"Bearer {key}"} if key else {}
        agent = cls(await connect(ws_url, additional_headers={**extra, **(headers or {})}))
        if cursor is not None:
            with contextlib.suppress(ConnectionClosed):  # a refused key: the socket is closed at once
                await agent.send({"type": "hello", "cursor": cursor, "version": "0.1.0",
                                  "device": {"register": {"model": "ШТРИХ-М-01Ф", "serial": "0012345678",
                                                          "fn_number": "7281440500123456", "shift_open": False,
                                                          "shift_number": 3}, "terminal": None}})
        return agent

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                self.frames.append(json.loads(msg))
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            if self.ws.close_code is not None:
                self.close_code, self.close_reason = self.ws.close_code, self.ws.close_reason or ""
            self._changed.set()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame, ensure_ascii=False))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == kind]

    async def wait_for(self, pred, what: str, within: float = WAIT) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            self._changed.clear()
            for f in self.frames:
                if pred(f):
                    return f
            if self._task.done() or loop.time() >= deadline:
                raise AssertionError(f"no {what} within {within}s; got {self.frames}, closed {self.close_code}")
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
            except TimeoutError:
                pass

    async def command(self, command_id: int) -> dict[str, Any]:
        return await self.wait_for(lambda f: f.get("type") == "command" and f["id"] == command_id, f"command {command_id}")

    async def closed(self, within: float = WAIT) -> int | None:
        await asyncio.wait_for(asyncio.shield(self._task), within)
        return self.close_code

    async def close(self) -> None:
        await self.ws.close()
        await self._task


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant()


async def enrolled(client, handle) -> tuple[int, str]:
    """A new enrolled agent of the tenant: (agent id, device key)."""
    agent_id, code = await new_agent(client, handle)
    r = await client.post("/edge/enroll", json={"tenant": handle.tenant.slug, "code": code, "name": "kassa-pc"})
    assert r.status_code == 200, r.text
    return agent_id, r.json()["key"]


async def enqueue(core, handle, agent_id: int, kind: str = "status", payload: dict | None = None) -> dict:
    async with tenant_transaction(core.engines, handle.tenant, 1) as conn:
        c = await commands.enqueue(conn, agent_id=agent_id, kind=kind, key=uuid.uuid4(), payload=payload or {},
                                   user_id=1)
    await wake(core, handle.tenant, agent_id)
    return c


async def row(core, handle, command_id: int) -> dict:
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        return await commands.get(conn, command_id)


async def until(check, what: str, within: float = WAIT):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, f"not {what} within {within}s"
        await asyncio.sleep(0.05)


def ws_url(server) -> str:
    return f"ws://127.0.0.1:{server.port}/edge/ws"


async def test_welcome_command_and_redelivery_after_a_reconnect(app_servers, client, core, tenant):
    agent_id, key = await enrolled(client, tenant)
    queued = await enqueue(core, tenant, agent_id, payload={"probe": 1})
    agent = await FakeAgent.connect(ws_url(app_servers[0]), key)
    welcome = await agent.wait_for(lambda f: f["type"] == "welcome", "welcome")
    assert welcome == {"type": "welcome", "agent_id": agent_id, "heartbeat": 15}
    got = await agent.command(queued["id"])
    assert got == {"type": "command", "id": queued["id"], "key": queued["key"], "kind": "status", "payload": {"probe": 1}}
    await agent.close()  # gone before acking (nothing journaled)

    again = await FakeAgent.connect(ws_url(app_servers[1]), key, cursor=0)
    assert await again.command(queued["id"]) == got
    await again.send({"type": "ack", "id": queued["id"]})
    acked = await until(lambda: _status(core, tenant, queued["id"], "acked"), "acked")
    assert acked["attempts"] == 2
    await again.close()


async def _status(core, handle, command_id: int, status: str) -> dict | None:
    r = await row(core, handle, command_id)
    return r if r["status"] == status else None


async def test_live_commands_are_woken_and_the_page_shows_the_agent_online(app_servers, client, core, tenant):
    agent_id, key = await enrolled(client, tenant)
    agent = await FakeAgent.connect(ws_url(app_servers[0]), key)
    await agent.wait_for(lambda f: f["type"] == "welcome", "welcome")
    api = Api(client, tenant.headers)
    shown = await until(lambda: _online(api, agent_id), "online")
    assert shown["device"]["register"]["fn_number"] == "7281440500123456"
    assert shown["device"]["host"] == "kassa-pc" and shown["last_address"] == "127.0.0.1"
    first, second = await enqueue(core, tenant, agent_id), await enqueue(core, tenant, agent_id)
    await agent.command(second["id"])
    assert [f["id"] for f in agent.of("command")] == [first["id"], second["id"]]
    await agent.send({"type": "ping"})
    await agent.wait_for(lambda f: f["type"] == "pong", "pong")
    await agent.close()
    assert (await until(lambda: _offline(api, agent_id), "offline"))["last_seen_at"] is not None


async def _online(api: Api, agent_id: int) -> dict | None:
    a = await api.ok("get", f"/api/cash/agents/{agent_id}")
    return a if a["online"] else None


async def _offline(api: Api, agent_id: int) -> dict | None:
    a = await api.ok("get", f"/api/cash/agents/{agent_id}")
    return a if not a["online"] else None


async def test_hello_cursor_acks_what_the_agent_journaled(app_servers, client, core, tenant):
    agent_id, key = await enrolled(client, tenant)
    journaled = await enqueue(core, tenant, agent_id)
    agent = await FakeAgent.connect(ws_url(app_servers[0]), key)
    await agent.command(journaled["id"])
    await agent.close()  # journaled it, but the ack was lost with the connection

    back = await FakeAgent.connect(ws_url(app_servers[0]), key, cursor=journaled["id"])
    await back.wait_for(lambda f: f["type"] == "welcome", "welcome")
    later = await enqueue(core, tenant, agent_id)
    await back.command(later["id"])
    assert [f["id"] for f in back.of("command")] == [later["id"]]  # the journaled one is not sent again
    r = await row(core, tenant, journaled["id"])
    assert (r["status"], r["attempts"]) == ("acked", 1)
    await back.close()


async def test_a_result_is_recorded_once_and_every_copy_acknowledged(app_servers, client, core, tenant):
    agent_id, key = await enrolled(client, tenant)
    cmd = await enqueue(core, tenant, agent_id, kind="x_report")
    agent = await FakeAgent.connect(ws_url(app_servers[0]), key)
    await agent.command(cmd["id"])
    await agent.send({"type": "ack", "id": cmd["id"]})
    await agent.send({"type": "result", "id": cmd["id"], "ok": True, "result": {"printed": True}})
    await agent.wait_for(lambda f: f == {"type": "result_ack", "id": cmd["id"]}, "result_ack")
    done = await row(core, tenant, cmd["id"])
    assert (done["status"], done["result"]) == ("done", {"printed": True})
    await agent.close()

    back = await FakeAgent.connect(ws_url(app_servers[1]), key, cursor=cmd["id"])  # the result sent again
    await back.send({"type": "result", "id": cmd["id"], "ok": False,
                     "error": {"code": "register_error", "message": "Нет бумаги", "retryable": False}})
    await back.wait_for(lambda f: f == {"type": "result_ack", "id": cmd["id"]}, "result_ack")
    again = await row(core, tenant, cmd["id"])
    assert (again["status"], again["result"], again["error"], again["done_at"]) == (
        "done", {"printed": True}, None, done["done_at"])
    await back.close()


async def test_a_newer_connection_closes_the_older_across_processes(app_servers, client, core, tenant):
    agent_id, key = await enrolled(client, tenant)
    older = await FakeAgent.connect(ws_url(app_servers[0]), key)
    await older.wait_for(lambda f: f["type"] == "welcome", "welcome")
    newer = await FakeAgent.connect(ws_url(app_servers[1]), key)
    await newer.wait_for(lambda f: f["type"] == "welcome", "welcome")
    assert await older.closed() == 4409
    cmd = await enqueue(core, tenant, agent_id)
    await newer.command(cmd["id"])
    assert newer.close_code is None
    await newer.close()


async def test_revoking_closes_the_live_session_and_refuses_the_key(app_servers, client, core, tenant):
    agent_id, key = await enrolled(client, tenant)
    agent = await FakeAgent.connect(ws_url(app_servers[0]), key)
    await agent.wait_for(lambda f: f["type"] == "welcome", "welcome")
    r = await client.post(f"/api/cash/agents/{agent_id}/revoke", headers=tenant.headers)
    assert r.status_code == 200
    assert await agent.closed() == 4401
    assert agent.close_reason == "Ключ устройства отозван или неизвестен"
    again = await FakeAgent.connect(ws_url(app_servers[1]), key)
    assert await again.closed() == 4401
    assert again.of("welcome") == []


@pytest.mark.parametrize("key", [None, "", "ek1.nobody.1." + "x" * 43, "Bearer", "ek1"])
async def test_unknown_keys_are_closed_4401(app_servers, key):
    agent = await FakeAgent.connect(ws_url(app_servers[0]), key)
    assert await agent.closed() == 4401


async def test_a_first_frame_other_than_hello_is_a_protocol_error(app_servers, client, tenant):
    _, key = await enrolled(client, tenant)
    agent = await FakeAgent.connect(ws_url(app_servers[0]), key, cursor=None)
    await agent.ws.send("not json at all")
    assert await agent.closed() == 4400
    agent = await FakeAgent.connect(ws_url(app_servers[0]), key, cursor=None)
    await agent.send({"type": "hello", "cursor": -1})
    assert await agent.closed() == 4400


async def test_keys_and_queues_are_the_tenants_own(app_servers, client, core, tenant, make_tenant):
    other = await make_tenant(f"edge-b-{secrets.token_hex(3)}")
    a_id, a_key = await enrolled(client, tenant)
    b_api = Api(client, other.headers)
    point = await b_api.ok("post", "/api/cash/points", {"name": "Касса B"})
    b_id = 0
    while b_id < a_id:  # B's agent with the same id as A's (ids are per tenant schema)
        b_id = (await b_api.ok("post", f"/api/cash/points/{point['id']}/agents", {"name": "SECRET-B"}))["id"]
    assert b_id == a_id
    code = (await b_api.ok("post", f"/api/cash/agents/{b_id}/code"))["code"]
    b_key = (await client.post("/edge/enroll", json={"tenant": other.tenant.slug, "code": code})).json()["key"]
    # A's key with B's slug names B's agent of that id, whose key it is not
    for forged in (f"ek1.{other.tenant.slug}.{a_id}.{a_key.rsplit('.', 1)[1]}",
                   f"ek1.{tenant.tenant.slug}.{a_id}.{b_key.rsplit('.', 1)[1]}"):
        agent = await FakeAgent.connect(ws_url(app_servers[0]), forged)
        assert await agent.closed() == 4401
    a_agent = await FakeAgent.connect(ws_url(app_servers[0]), a_key)
    await a_agent.wait_for(lambda f: f["type"] == "welcome", "welcome")
    b_cmd = await enqueue(core, other, b_id, payload={"tenant": "B"})  # B's agent has A's agent's id
    a_cmd = await enqueue(core, tenant, a_id, payload={"tenant": "A"})
    await a_agent.command(a_cmd["id"])
    await asyncio.sleep(QUIET)  # a poll of A's queue has passed since
    assert [f["payload"] for f in a_agent.of("command")] == [{"tenant": "A"}]
    assert (await row(core, other, b_cmd["id"]))["status"] == "queued"
    await a_agent.close()
