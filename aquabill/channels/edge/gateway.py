"""The edge agents' gateway: the runtime of one agent's WebSocket session, over an abstract transport.

The web layer accepts the socket and hands it over as a `Transport` (`recv_json`, `send_json`, `close`), so the
session is the same under test and in production. A session:
1. authenticates the device key `ek1.<slug>.<agent id>.<secret>`: the tenant by the slug (control schema), then
   the active agent with that key's hash in the tenant's schema; otherwise it closes 4401;
2. claims the agent in Redis (channels/edge/sessions.py) and wakes the agent's other session, wherever it is:
   that one finds it no longer holds the agent and closes 4409 (the newer connection wins);
3. waits for `hello` (cursor, version, devices): what the agent journaled is acked, what was sent after it is
   resent; answers `welcome` (heartbeat 15 s) and publishes `edge.agent` {"agent_id", "online": true};
4. then, until the socket ends, two loops:
   - the pump sends the agent's commands in id order (commands.to_send) whenever it is woken — the tenant's
     realtime hub brings `edge.wake` {"agent_id"} (channels/edge/wake.py) — and at the latest every
     POLL_SECONDS (which also resends commands whose 30 s lease ran out); on each round it renews its claim
     (lost → 4409) and checks that the agent is still active with this key (revoked or enrolled again → 4401),
     so a revocation closes the session within POLL_SECONDS, at once when the revoking request wakes it;
   - the reader takes the agent's frames: `ping` → `pong` (and `last_seen_at`), `ack`, `result` → in ONE
     transaction commands.record_result and the cash desk's outcome hook (`aquabill.cash.outcomes.apply`), then
     after commit the hook's realtime events are published and `result_ack` sent; a duplicate result (the
     command already done) is acknowledged and applied no more; `device` updates what the agent reports.
     No frame for IDLE_SECONDS (three heartbeats) → 4408.
5. at the end it gives the claim up; if it still held it the agent is offline (`edge.agent` online false).
A result whose transaction fails is not acknowledged: the agent sends it again after it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aquabill.cash import agents, commands
from aquabill.channels.edge import sessions
from aquabill.channels.edge.wake import WakeOutlet, wake
from aquabill.platform.realtime import Hub, publish
from aquabill.platform.state import Core
from aquabill.tenants import registry
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)

HEARTBEAT = 15  # seconds between the agent's pings (told in `welcome`)
IDLE_SECONDS = 3 * HEARTBEAT  # no frame for this long: the connection is dead
HELLO_SECONDS = 10.0  # the first frame must come within this
POLL_SECONDS = 2.0  # the queue is looked at least this often (wake events make it sooner)
TOUCH_SECONDS = 60  # `last_seen_at` written at most this often while connected (an audited row change)
DEVICE_MAX = 16_000  # characters of the reported devices' JSON

CLOSE_PROTOCOL = (4400, "Нарушение протокола агента")
CLOSE_NO_HELLO = (4400, "Первым кадром ожидается hello с курсором")
CLOSE_UNAUTHORIZED = (4401, "Ключ устройства отозван или неизвестен")
CLOSE_IDLE = (4408, "Нет пинга от агента")
CLOSE_REPLACED = (4409, "Агент подключился заново с тем же ключом")
CLOSE_INTERNAL = (1011, "Внутренняя ошибка сервера, переподключитесь")

Events = list[tuple[str, dict[str, Any]]]
Apply = Callable[..., Awaitable[Events]]  # apply(conn, command, *, ok, result, error) -> events to publish


class Disconnected(Exception):
    """The peer went away (or the socket is closed)."""


class BadFrame(Exception):
    """A frame that is not JSON text."""


class Transport(Protocol):
    async def recv_json(self) -> Any: ...  # the next frame decoded; Disconnected, BadFrame
    async def send_json(self, obj: dict[str, Any]) -> None: ...  # Disconnected
    async def close(self, code: int, reason: str) -> None: ...


def default_outcomes() -> Apply | None:
    """The cash desk's outcome hook, when the module exists (`aquabill.cash.outcomes.apply`)."""
    try:
        from aquabill.cash import outcomes  # noqa: PLC0415 (optional: imported when first needed)
    except ModuleNotFoundError as exc:
        if exc.name == "aquabill.cash.outcomes":
            return None
        raise
    return outcomes.apply


def _command_id(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= commands.BIGINT_MAX:
        return None
    return value


class Gateway:
    """This process's edge sessions (one object per app: `app.state.edge`)."""

    def __init__(self, core: Core, hub: Hub | None, *, apply: Apply | None = None, heartbeat: int = HEARTBEAT,
                 poll_seconds: float = POLL_SECONDS, lease_seconds: int = commands.LEASE_SECONDS,
                 hello_seconds: float = HELLO_SECONDS, idle_seconds: float | None = None) -> None:
        self.core = core
        self.hub = hub
        self._apply = apply
        self.heartbeat = heartbeat
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.hello_seconds = hello_seconds
        self.idle_seconds = idle_seconds if idle_seconds is not None else 3 * heartbeat
        self._outlets: dict[int, WakeOutlet] = {}
        self._lock = asyncio.Lock()
        self.sessions: set[_Session] = set()

    def outcomes(self) -> Apply | None:
        return self._apply if self._apply is not None else default_outcomes()

    async def serve(self, transport: Transport, key: str | None, *, address: str = "") -> None:
        """Run one agent's session on an accepted socket until it ends."""
        try:
            found = await self._authenticate(key)
        except Exception:
            log.exception("edge gateway: authenticating a device key failed")
            await _close(transport, *CLOSE_INTERNAL)
            return
        if found is None:
            await _close(transport, *CLOSE_UNAUTHORIZED)
            return
        tenant, agent = found
        await _Session(self, transport, tenant, agent, agents.key_hash(key or ""), address).run()

    async def _authenticate(self, key: str | None) -> tuple[Tenant, dict[str, Any]] | None:
        parsed = agents.parse_key(key)
        if parsed is None:
            return None
        async with self.core.engines.control.connect() as conn:
            tenant = await registry.by_slug(conn, parsed[0])
        if tenant is None or tenant.status != "active":
            return None
        async with tenant_transaction(self.core.engines, tenant) as conn:
            agent = await agents.authenticate(conn, key)
        return (tenant, agent) if agent is not None else None

    async def join(self, s: _Session) -> None:
        self.sessions.add(s)
        if self.hub is None:
            return
        async with self._lock:
            outlet = self._outlets.get(s.tenant.id)
            if outlet is None:
                outlet = self._outlets[s.tenant.id] = WakeOutlet()
                await self.hub.subscribe(s.tenant.id, outlet)
            outlet.by_agent.setdefault(s.agent_id, set()).add(s)

    async def leave(self, s: _Session) -> None:
        self.sessions.discard(s)
        if self.hub is None:
            return
        async with self._lock:
            outlet = self._outlets.get(s.tenant.id)
            if outlet is None:
                return
            group = outlet.by_agent.get(s.agent_id, set())
            group.discard(s)
            if not group:
                outlet.by_agent.pop(s.agent_id, None)
            if not outlet.by_agent:
                del self._outlets[s.tenant.id]
                await self.hub.unsubscribe(s.tenant.id, outlet)

    async def publish(self, tenant: Tenant, event_type: str, data: dict[str, Any]) -> None:
        """Best effort: a lost event only delays a page's refresh."""
        try:
            await publish(self.core.redis, self.core.keys, tenant.id, event_type, data)
        except Exception:
            log.warning("edge gateway: publishing %s failed", event_type, exc_info=True)


async def _close(transport: Transport, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await transport.close(code, reason)


class _Session:
    def __init__(self, gw: Gateway, transport: Transport, tenant: Tenant, agent: dict[str, Any], hashed_key: str,
                 address: str) -> None:
        self.gw = gw
        self.t = transport
        self.tenant = tenant
        self.agent_id: int = agent["id"]
        self.hashed_key = hashed_key
        self.address = address
        self.id = uuid.uuid4().hex
        self.cursor = 0
        self.closed = False
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._touched = 0.0

    def wake(self) -> None:
        self._wake.set()

    def _tx(self):
        return tenant_transaction(self.gw.core.engines, self.tenant)

    async def run(self) -> None:
        core = self.gw.core
        try:
            await sessions.claim(core.redis, core.keys, self.tenant.id, self.agent_id, self.id)
            await self.gw.join(self)
            await wake(core, self.tenant, self.agent_id)  # an older session of this agent: replaced
            if await self._hello():
                await self.gw.publish(self.tenant, "edge.agent", {"agent_id": self.agent_id, "online": True})
                await self._loops()
        except Disconnected:
            pass
        except Exception:
            log.exception("edge gateway: session of agent %s (tenant %s) failed", self.agent_id, self.tenant.slug)
            await self._close(*CLOSE_INTERNAL)
        finally:
            await self._end()

    async def _loops(self) -> None:
        tasks = [asyncio.create_task(self._read(), name=f"edge-read-{self.agent_id}"),
                 asyncio.create_task(self._pump(), name=f"edge-pump-{self.agent_id}")]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        for r in results:
            if isinstance(r, Exception) and not isinstance(r, Disconnected):
                log.error("edge gateway: agent %s (tenant %s): %r", self.agent_id, self.tenant.slug, r, exc_info=r)
                await self._close(*CLOSE_INTERNAL)

    async def _end(self) -> None:
        await self._close(1000, "")
        core = self.gw.core
        with contextlib.suppress(Exception):
            await self.gw.leave(self)
        try:
            held = await sessions.release(core.redis, core.keys, self.tenant.id, self.agent_id, self.id)
        except Exception:
            log.warning("edge gateway: releasing agent %s failed", self.agent_id, exc_info=True)
            return
        if held:  # not replaced by a newer session: the agent is offline now
            with contextlib.suppress(Exception):
                async with self._tx() as conn:
                    await agents.touch(conn, self.agent_id, every_seconds=0)
            await self.gw.publish(self.tenant, "edge.agent", {"agent_id": self.agent_id, "online": False})

    async def _close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._wake.set()
        await _close(self.t, code, reason)

    async def _send(self, obj: dict[str, Any]) -> None:
        if self.closed:
            raise Disconnected()
        async with self._send_lock:
            await self.t.send_json(obj)

    async def _recv(self, within: float, silent: tuple[int, str] = CLOSE_IDLE) -> dict[str, Any] | None:
        """The next frame (an object), or None after closing the session (nothing `within` s, garbage)."""
        try:
            frame = await asyncio.wait_for(self.t.recv_json(), within)
        except TimeoutError:
            await self._close(*silent)
            return None
        except BadFrame:
            await self._close(*CLOSE_PROTOCOL)
            return None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._close(*CLOSE_PROTOCOL)
            return None
        return frame

    async def _hello(self) -> bool:
        frame = await self._recv(self.gw.hello_seconds, CLOSE_NO_HELLO)
        if frame is None:
            return False
        cursor = frame.get("cursor", 0)
        if frame["type"] != "hello" or isinstance(cursor, bool) or not isinstance(cursor, int) \
                or not 0 <= cursor <= commands.BIGINT_MAX:
            await self._close(*CLOSE_NO_HELLO)
            return False
        version = frame.get("version") if isinstance(frame.get("version"), str) else None
        async with self._tx() as conn:
            acked = await commands.on_hello(conn, self.agent_id, cursor)
            await agents.touch(conn, self.agent_id, address=self.address, version=version,
                               device=self._device(frame.get("device")), every_seconds=0)
        self.cursor = cursor
        self._touched = time.monotonic()
        await self._send({"type": "welcome", "agent_id": self.agent_id, "heartbeat": self.gw.heartbeat})
        if acked:
            await self.gw.publish(self.tenant, "edge.command",
                                  {"agent_id": self.agent_id, "ids": [], "status": "acked", "upto": cursor})
        return True

    @staticmethod
    def _device(value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            return None
        try:
            return value if len(json.dumps(value, ensure_ascii=False)) <= DEVICE_MAX else None
        except (TypeError, ValueError):
            return None

    # -- the pump: commands out --

    async def _pump(self) -> None:
        core = self.gw.core
        while not self.closed:
            self._wake.clear()
            if not await sessions.renew(core.redis, core.keys, self.tenant.id, self.agent_id, self.id):
                await self._close(*CLOSE_REPLACED)
                return
            batch: list[dict[str, Any]] = []
            async with self._tx() as conn:
                current = await agents.is_current(conn, self.agent_id, self.hashed_key)
                if current:
                    batch = await commands.to_send(conn, self.agent_id, cursor=self.cursor,
                                                   lease_seconds=self.gw.lease_seconds)
            if not current:
                await self._close(*CLOSE_UNAUTHORIZED)
                return
            for c in batch:
                await self._send({"type": "command", "id": c["id"], "key": c["key"], "kind": c["kind"],
                                  "payload": c["payload"]})
            if batch:
                await self.gw.publish(self.tenant, "edge.command",
                                      {"agent_id": self.agent_id, "ids": [c["id"] for c in batch], "status": "sent"})
            if len(batch) >= commands.BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.gw.poll_seconds)

    # -- the reader: the agent's frames --

    async def _read(self) -> None:
        while not self.closed:
            frame = await self._recv(self.gw.idle_seconds)
            if frame is None:
                return
            kind = frame["type"]
            if kind == "ping":
                await self._send({"type": "pong"})
                await self._seen()
            elif kind == "ack":
                await self._ack(frame)
            elif kind == "result":
                await self._result(frame)
            elif kind == "device":
                device = self._device(frame.get("device"))
                if device is not None:
                    async with self._tx() as conn:
                        await agents.touch(conn, self.agent_id, device=device, every_seconds=TOUCH_SECONDS)
            else:
                log.debug("edge gateway: agent %s sent an unknown frame type %r", self.agent_id, kind[:40])

    async def _seen(self) -> None:
        now = time.monotonic()
        if now - self._touched < TOUCH_SECONDS:
            return
        self._touched = now
        async with self._tx() as conn:
            await agents.touch(conn, self.agent_id, address=self.address, every_seconds=TOUCH_SECONDS)

    async def _ack(self, frame: dict[str, Any]) -> None:
        command_id = _command_id(frame.get("id"))
        if command_id is None:
            return
        async with self._tx() as conn:
            acked = await commands.ack(conn, self.agent_id, command_id)
        if acked:
            await self.gw.publish(self.tenant, "edge.command",
                                  {"agent_id": self.agent_id, "ids": [command_id], "status": "acked"})

    async def _result(self, frame: dict[str, Any]) -> None:
        command_id = _command_id(frame.get("id"))
        if command_id is None:
            return
        ok = frame.get("ok") is True
        result = frame.get("result") if ok and isinstance(frame.get("result"), dict) else ({} if ok else None)
        error = None if ok else frame.get("error")
        apply = self.gw.outcomes()
        try:
            events: Events = []
            async with self._tx() as conn:
                command = await commands.record_result(conn, self.agent_id, command_id, ok, result, error)
                if command is not None and apply is not None:
                    events = list(await apply(conn, command, ok=ok, result=result, error=error) or [])
        except Exception:
            log.exception("edge gateway: the result of command %s (agent %s, tenant %s) was not recorded; the agent "
                          "sends it again after reconnecting", command_id, self.agent_id, self.tenant.slug)
            return
        for event_type, data in events:
            await self.gw.publish(self.tenant, event_type, data)
        if command is not None:
            await self.gw.publish(self.tenant, "edge.command",
                                  {"agent_id": self.agent_id, "ids": [command_id], "status": command["status"]})
        await self._send({"type": "result_ack", "id": command_id})

