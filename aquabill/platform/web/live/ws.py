"""The authenticated WebSocket: a staff client receives its own tenant's events, nothing else.

Every event carries the tenant's sequence number `seq`; the greeting says the current one. A client
that reconnects with `/ws?since=N` first gets the events after N it missed (kept in Redis for a short
window), then the live ones, each once and in order; when the gap is no longer kept it gets
`{"type": "reset"}` and reloads its state. A frame is one event, or a JSON array of events in order
when several came together (see `Settings.ws_coalesce_ms`) or were waiting. Client frames: `ping` → `pong`;
`{"type": "presence", "status": "busy"}` sets the agent's presence (see platform/presence.py).
Frames are delivered by live/outlet.SocketOutlet (no task per socket; a socket whose send fails is
closed with 1011 and its client resumes); sessions are re-checked and presence refreshed per process by
live/sessions.OpenSockets. Events this process's hub missed while its Redis subscription was down are
replayed (or a reset sent) by the hub itself (platform/realtime.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from aquabill.platform.auth.permissions import Principal
from aquabill.platform.presence import CHOOSABLE
from aquabill.platform.realtime import Hub, current_seq, replay_since
from aquabill.platform.web.live.outlet import INTERNAL_ERROR, SocketOutlet
from aquabill.platform.web.live.sessions import POLICY_VIOLATION, OpenSocket, OpenSockets

log = logging.getLogger(__name__)


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
    sockets: OpenSockets = socket.app.state.sockets
    presence = sockets.presence
    await socket.accept()

    async def close(code: int, reason: str) -> None:
        await socket.close(code=code, reason=reason)

    def detach() -> None:  # the outlet failed: the hub offers it nothing more
        hub.discard(tenant.id, outlet)

    outlet = SocketOutlet(socket.send_text, close, detach)
    await hub.subscribe(tenant.id, outlet)  # before reading the replay log: nothing falls in between
    entry = OpenSocket(tenant.id, principal.user_id, socket.scope.get("auth"), close)
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
        outlet.release(last)  # live frames from here on (those that came during the replay first)
        sockets.add(entry)
        await presence.connected(tenant.id, principal.user_id, principal.login, principal.full_name)
        joined = True
        while True:  # client frames; reading them also notices the disconnect
            msg = await socket.receive_text()
            if msg == "ping":
                await socket.send_json({"type": "pong"})
                continue
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                frame = json.loads(msg)
                if frame.get("type") == "presence" and frame.get("status") in CHOOSABLE:
                    await presence.choose(tenant.id, principal.user_id, principal.login,
                                          principal.full_name, frame["status"])
    except WebSocketDisconnect:
        pass
    except Exception:  # a send on a socket that was closed meanwhile, or failed: the client resumes
        log.debug("console socket ended", exc_info=True)
        with contextlib.suppress(Exception):
            await socket.close(code=INTERNAL_ERROR, reason="send failed, reconnect")
    finally:
        outlet.stop()
        sockets.discard(entry)
        await hub.unsubscribe(tenant.id, outlet)
        if joined:
            with contextlib.suppress(Exception):
                await presence.disconnected(tenant.id, principal.user_id)


ROUTES = [events_socket]
