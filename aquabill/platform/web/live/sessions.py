"""This process's open console sockets: their sessions re-checked and their users' presence refreshed by
two loops per process, once per distinct session and per distinct user, not once per socket.

A socket lives only as long as its session and tenant stay valid: within `Settings.ws_recheck_seconds` of a logout,
an expired session or a suspended tenant its sockets are closed (1008). The presence of a user with an
open socket is refreshed every presence.REFRESH_SECONDS, so other processes see it is still alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aquabill.platform.auth.service import principal_for
from aquabill.platform.presence import REFRESH_SECONDS, PresenceBook
from aquabill.platform.state import Core

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008


@dataclass(eq=False)
class OpenSocket:
    tenant_id: int
    user_id: int
    token: str | None
    close: Callable[[int, str], Awaitable[None]] = field(repr=False)


class OpenSockets:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.presence = PresenceBook(core.redis, core.keys)
        self._open: set[OpenSocket] = set()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._recheck_loop(), name="ws-recheck"),
                       asyncio.create_task(self._heartbeat_loop(), name="ws-presence")]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    def add(self, sock: OpenSocket) -> None:
        self._open.add(sock)

    def discard(self, sock: OpenSocket) -> None:
        self._open.discard(sock)

    def __len__(self) -> int:
        return len(self._open)

    async def recheck(self) -> int:
        """Close the sockets whose session or tenant is no longer valid; returns how many were closed."""
        by_token: dict[str | None, list[OpenSocket]] = {}
        for sock in list(self._open):
            by_token.setdefault(sock.token, []).append(sock)
        closed = 0
        for token, socks in by_token.items():
            found = await principal_for(self.core, token) if token else None
            valid_tenant = found[1].id if found is not None and found[1] is not None else None
            for sock in socks:
                if valid_tenant != sock.tenant_id:
                    self._open.discard(sock)
                    closed += 1
                    with contextlib.suppress(Exception):
                        await sock.close(POLICY_VIOLATION, "session ended")
        return closed

    async def _recheck_loop(self) -> None:
        while True:
            await asyncio.sleep(self.core.settings.ws_recheck_seconds)
            try:
                await self.recheck()
            except Exception:
                log.exception("re-checking WebSocket sessions failed")

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for tenant_id, user_id in {(s.tenant_id, s.user_id) for s in self._open}:
                try:
                    await self.presence.seen(tenant_id, user_id)
                except Exception:
                    log.exception("refreshing presence failed")
