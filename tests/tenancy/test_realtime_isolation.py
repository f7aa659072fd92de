"""Real-time events reach only their own tenant's WebSockets, across app processes.

Two uvicorn processes share PostgreSQL and Redis (`app_servers`); each tenant has clients on both.
Events are published for one tenant from process 1 (a job started over its API, run by the worker)
and straight through `realtime.publish`; that tenant's clients on both processes get them, the other
tenant's clients get none of them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from aquabill.demo.tenant import ensure_platform_admin
from aquabill.platform.realtime import publish
from aquabill.platform.web.context import SESSION_COOKIE
from tests.conftest import ADMIN_PASSWORD, TenantHandle

POLICY_VIOLATION = 1008
ABSENCE_WAIT = 1.5  # how long "nothing arrives" is watched for
EVENT_WAIT = 20.0  # upper bound for an expected event (a job goes through the worker)


class Client:
    """One WebSocket client; a background task records every frame it receives."""

    def __init__(self, ws: ClientConnection, handle: TenantHandle, label: str) -> None:
        self.ws = ws
        self.slug = handle.tenant.slug
        self.label = label
        self.raw: list[str] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                self.raw.append(msg if isinstance(msg, str) else msg.decode())
                self._changed.set()
        except ConnectionClosed:
            pass

    @property
    def events(self) -> list[dict[str, Any]]:
        out = []
        for m in self.raw:  # a frame is an event or an array of events
            frame = json.loads(m)
            out.extend(frame if isinstance(frame, list) else [frame])
        return out

    async def wait_for(self, pred, what: str, within: float = EVENT_WAIT) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            self._changed.clear()
            for event in self.events:
                if pred(event):
                    return event
            remaining = deadline - loop.time()
            if remaining <= 0 or self._task.done():
                raise AssertionError(f"{self.label}: no {what} within {within}s; received {self.raw}")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def close(self) -> None:
        await self.ws.close()
        await self._task


async def open_client(url: str, handle: TenantHandle, label: str, *, cookie: bool = False) -> Client:
    headers = ({"Cookie": f"{SESSION_COOKIE}={handle.token}"} if cookie
               else {"Authorization": f"Bearer {handle.token}"})
    ws = await connect(url, additional_headers=headers, open_timeout=10)
    client = Client(ws, handle, label)
    hello = await client.wait_for(lambda e: e.get("type") == "hello", "hello", within=10)
    assert hello["data"]["tenant"] == handle.tenant.slug, hello
    return client


async def wait_until_subscribed(core, handle: TenantHandle, clients: list[Client]) -> None:
    """Publish probes for the tenant until each of its clients got one: every hub has subscribed."""
    nonce = secrets.token_hex(8)
    deadline = asyncio.get_running_loop().time() + 15
    while not all(any(e.get("type") == "probe" and e["data"]["nonce"] == nonce for e in c.events) for c in clients):
        assert asyncio.get_running_loop().time() < deadline, "hubs did not subscribe in time"
        await publish(core.redis, core.keys, handle.tenant.id, "probe", {"nonce": nonce, "tenant": handle.tenant.slug})
        await asyncio.sleep(0.2)


def assert_only_own(client: Client, foreign: TenantHandle, foreign_secrets: list[str]) -> None:
    """The client got nothing but its own tenant's hello and probes, and none of the other tenant's values."""
    for event in client.events:
        own = (event.get("type") == "hello" and event["data"]["tenant"] == client.slug) or \
              (event.get("type") == "probe" and event["data"]["tenant"] == client.slug) or \
              event.get("type") == "presence.changed"  # its own sockets (the other tenant's can't be told apart here)
        assert own, f"{client.label} received a foreign event: {event}"
    text = "\n".join(client.raw)
    for secret in [foreign.tenant.slug, *foreign_secrets]:
        assert secret not in text, f"{client.label} received {secret!r}: {client.raw}"


@pytest.fixture(scope="module")
async def tenants(make_tenant) -> tuple[TenantHandle, TenantHandle]:
    suffix = secrets.token_hex(4)
    return await make_tenant(f"rt-alpha-{suffix}"), await make_tenant(f"rt-bravo-{suffix}")


@pytest.mark.parametrize("direction", ["A to B", "B to A"])
async def test_events_reach_only_their_tenant_on_every_process(direction, tenants, app_servers, core, worker):
    first, second = app_servers
    a, b = tenants if direction == "A to B" else tenants[::-1]
    clients = [
        await open_client(first.ws, a, "sender-tenant@process1"),
        await open_client(second.ws, a, "sender-tenant@process2"),
        await open_client(second.ws, a, "sender-tenant@process2 (cookie)", cookie=True),
        await open_client(first.ws, b, "other-tenant@process1"),
        await open_client(second.ws, b, "other-tenant@process2"),
    ]
    own, others = clients[:3], clients[3:]
    try:
        await wait_until_subscribed(core, a, own)
        await wait_until_subscribed(core, b, others)

        # 1. straight through Redis
        nonce = f"direct-{secrets.token_hex(8)}"
        await publish(core.redis, core.keys, a.tenant.id, "test.direct", {"nonce": nonce})
        # 2. a job started on process 1: job.queued comes from that app process, the rest from the worker
        async with httpx.AsyncClient(base_url=first.base, timeout=10) as http:
            r = await http.post("/api/jobs", headers=a.headers, json={"kind": "audit.summary", "params": {}})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]

        for c in own:
            await c.wait_for(lambda e: e.get("type") == "test.direct" and e["data"]["nonce"] == nonce, "direct event")
            for kind in ("job.queued", "job.started", "job.finished"):
                await c.wait_for(lambda e, k=kind: e.get("type") == k and e["data"]["id"] == job_id, kind)
        await asyncio.sleep(ABSENCE_WAIT)  # give a misrouted event time to arrive
        for c in others:
            assert_only_own(c, a, [nonce, job_id])
    finally:
        for c in clients:
            await c.close()


async def assert_refused(url: str, **kw) -> None:
    """The WebSocket is refused: the handshake is rejected, or the socket is closed with 1008 at once."""
    try:
        async with connect(url, open_timeout=10, **kw) as ws:
            msg = await asyncio.wait_for(ws.recv(), 5)
    except InvalidStatus as exc:
        assert exc.response.status_code == 403, exc.response.status_code
        return
    except ConnectionClosed as exc:
        assert exc.rcvd is not None and exc.rcvd.code == POLICY_VIOLATION, exc
        return
    raise AssertionError(f"the WebSocket was accepted and sent {msg!r}")


async def test_websocket_without_valid_credentials_is_refused(tenants, app_servers, core, client):
    a, b = tenants
    server = app_servers[0]
    await assert_refused(server.ws)
    await assert_refused(server.ws, additional_headers={"Authorization": "Bearer not-a-real-token"})
    await assert_refused(server.ws, additional_headers={"Cookie": f"{SESSION_COOKIE}=not-a-real-token"})
    # A's token on B's subdomain; the same token on A's own subdomain is accepted
    url_on = f"ws://{{}}.localhost:{server.port}/ws"
    await assert_refused(url_on.format(b.tenant.slug), host="127.0.0.1", additional_headers=a.headers)
    async with connect(url_on.format(a.tenant.slug), host="127.0.0.1", additional_headers=a.headers) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["data"]["tenant"] == a.tenant.slug
    # a platform admin has no tenant, so no events
    login = f"rt-root-{secrets.token_hex(3)}"
    await ensure_platform_admin(core, login, "platform-password")
    r = await client.post("/api/platform/login", json={"login": login, "password": "platform-password"})
    assert r.status_code == 200, r.text
    await assert_refused(server.ws, additional_headers={"Authorization": f"Bearer {r.json()['token']}"})
    # a revoked token
    r = await client.post("/api/auth/login", json={"tenant": a.tenant.slug, "login": "admin",
                                                   "password": ADMIN_PASSWORD})
    token = r.json()["token"]
    assert (await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    await assert_refused(server.ws, additional_headers={"Authorization": f"Bearer {token}"})
