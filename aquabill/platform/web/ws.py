"""The authenticated WebSocket: a staff client receives its own tenant's events, nothing else.

Every event carries the tenant's sequence number `seq`; the greeting says the current one. A client
that reconnects with `/ws?since=N` first gets the events after N it missed (kept in Redis for a short
window), then the live ones, each once and in order; when the gap is no longer kept it gets
`{"type": "reset"}` and reloads its state. A frame is one event, or a JSON array of events in order
when several came together (see realtime.COALESCE_MS) or were waiting. Client frames: `ping` → `pong`;
`{"type": "presence", "status": "busy"}` sets the agent's presence (see platform/presence.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from aquabill.platform.auth.permissions import Principal
from aquabill.platform.auth.service import principal_for
from aquabill.platform.presence import CHOOSABLE, REFRESH_SECONDS, PresenceBook
from aquabill.platform.realtime import Hub, current_seq, join, replay_since

POLICY_VIOLATION = 1008
BATCH_MAX = 50  # hub frames sent together in one frame when a client has fallen behind
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
    try:
        since = int(socket.query_params["since"]) if "since" in socket.query_params else None
    except ValueError:
        since = None
    hub: Hub = socket.app.state.hub
    presence = PresenceBook(hub.redis, hub.keys)
    await socket.accept()
    sub = await hub.subscribe(tenant.id)  # before reading the replay log: nothing falls in between

    async def pump(last: int) -> None:
        queue = sub.queue
        while True:
            frames = [await queue.get()]
            while not queue.empty() and len(frames) < BATCH_MAX:  # a backlog goes out as one frame
                frames.append(queue.get_nowait())
            if sub.overflowed:
                await socket.close(code=1013, reason="too slow, reconnect")
                return
            if len(frames) == 1 and frames[0].first > last:  # the usual case: the hub's text as is
                text = frames[0].text
            else:
                events = [e for f in frames for e in f.events if e[0] > last]  # replayed already otherwise
                if not events:
                    continue
                text = join(events)
            last = frames[-1].last
            await socket.send_text(text)

    async def recheck() -> None:  # the socket lives only as long as its session and tenant stay valid
        token = socket.scope.get("auth")
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            found = await principal_for(socket.app.state.core, token) if token else None
            if found is None or found[1] is None or found[1].id != tenant.id:
                await socket.close(code=POLICY_VIOLATION, reason="session ended")
                return

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            await presence.seen(tenant.id, principal.user_id)

    async def drain() -> None:  # client frames; reading them also notices the disconnect
        while True:
            msg = await socket.receive_text()
            if msg == "ping":
                await socket.send_json({"type": "pong"})
                continue
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                frame = json.loads(msg)
                if frame.get("type") == "presence" and frame.get("status") in CHOOSABLE:
                    await presence.choose(tenant.id, principal.user_id, principal.login,
                                          principal.full_name, frame["status"])

    joined = False
    try:
        last = since if since is not None else 0
        missed = await replay_since(hub.redis, hub.keys, tenant.id, since) if since is not None else []
        seq_now = await current_seq(hub.redis, hub.keys, tenant.id)
        await socket.send_json({"type": "hello", "seq": seq_now,
                                "data": {"tenant": tenant.slug, "user": principal.login}})
        if missed is None:
            await socket.send_json({"type": "reset", "seq": seq_now})
            last = seq_now
        for seq, text in missed:
            last = seq
            await socket.send_text(text)
        await presence.connected(tenant.id, principal.user_id, principal.login, principal.full_name)
        joined = True
        tasks = [asyncio.create_task(pump(last)), asyncio.create_task(drain()),
                 asyncio.create_task(recheck()), asyncio.create_task(heartbeat())]
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
        if joined:
            with contextlib.suppress(Exception):
                await presence.disconnected(tenant.id, principal.user_id)


ROUTES = [events_socket]
