"""The authenticated WebSocket: a staff client receives its own tenant's events, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import os
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from aquabill.platform.auth.permissions import Principal
from aquabill.platform.auth.service import principal_for
from aquabill.platform.realtime import Hub

POLICY_VIOLATION = 1008
RECHECK_SECONDS = float(os.environ.get("AQUABILL_WS_RECHECK_SECONDS", "15"))  # how soon an open socket notices a logout, an expired session or a suspended tenant


@websocket("/ws")
async def events_socket(socket: WebSocket) -> None:
    principal = socket.scope.get("user")
    tenant = socket.scope.get("tenant")
    if not isinstance(principal, Principal) or principal.kind != "staff" or tenant is None:
        await socket.close(code=POLICY_VIOLATION, reason="not authenticated")
        return
    origin = socket.headers.get("origin")
    if origin and urlsplit(origin).netloc.lower() != socket.headers.get("host", "").lower():
        await socket.close(code=POLICY_VIOLATION, reason="cross-origin")  # another site's page
        return
    hub: Hub = socket.app.state.hub
    await socket.accept()
    sub = await hub.subscribe(tenant.id)

    async def pump() -> None:
        while True:
            event = await sub.queue.get()
            if sub.overflowed:
                await socket.close(code=1013, reason="too slow, reconnect")
                return
            await socket.send_json(event)

    async def recheck() -> None:  # the socket lives only as long as its session and tenant stay valid
        token = socket.scope.get("auth")
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            found = await principal_for(socket.app.state.core, token) if token else None
            if found is None or found[1] is None or found[1].id != tenant.id:
                await socket.close(code=POLICY_VIOLATION, reason="session ended")
                return

    async def drain() -> None:  # read client frames to notice the disconnect; a "ping" gets a "pong"
        while True:
            msg = await socket.receive_text()
            if msg == "ping":
                await socket.send_json({"type": "pong"})

    try:
        await socket.send_json({"type": "hello", "data": {"tenant": tenant.slug, "user": principal.login}})
        tasks = [asyncio.create_task(pump()), asyncio.create_task(drain()), asyncio.create_task(recheck())]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        for t in done:
            with contextlib.suppress(WebSocketDisconnect, Exception):
                t.result()
    except WebSocketDisconnect:
        pass
    finally:
        await hub.unsubscribe(sub)


ROUTES = [events_socket]
