"""The edge agents' doors: `POST /edge/enroll` and the WebSocket `/edge/ws` (no staff session: the agent's own
secrets). Both are exempt from load shedding (web/shedding.py): an agent is one long connection, and its
enrollment is rare.

`POST /edge/enroll` JSON {"tenant", "code", "name", "version"} → 200 {"agent_id", "tenant", "key", "ws_url"};
a used, expired or unknown code (or tenant) → 403, malformed input → 422, too many refused attempts from one
address → 429 (channels/edge/enrollment.py).
`/edge/ws` with `Authorization: Bearer <device key>`: the socket is accepted, then the session runs in the
gateway (channels/edge/gateway.py), which closes it with 4401 when the key is unknown or revoked.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, WebSocket, post, websocket
from litestar.exceptions import WebSocketDisconnect

from aquabill.base.errors import Invalid
from aquabill.channels.edge import enrollment
from aquabill.channels.edge.gateway import BadFrame, Disconnected, Gateway

BODY_MAX = 4096
FRAME_MAX = 1_000_000  # characters of one agent frame
MALFORMED = 'Ожидается JSON {"tenant": "…", "code": "ABCDE-FGHJK", "name": "…", "version": "…"}'


class EnrollIn(msgspec.Struct, forbid_unknown_fields=False):
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    version: Annotated[str, msgspec.Meta(max_length=64)] = ""


def gateway_of(app: Litestar) -> Gateway:
    """The process's edge gateway, made on first use (`app.state.edge`)."""
    gw = getattr(app.state, "edge", None)
    if gw is None:
        gw = app.state.edge = Gateway(app.state.core, getattr(app.state, "hub", None))
    return gw


def _client(connection: Request | WebSocket) -> str:
    return connection.client.host if connection.client else ""


@post("/edge/enroll", status_code=200, include_in_schema=False, request_max_body_size=BODY_MAX)
async def enroll_agent(request: Request) -> dict[str, Any]:
    try:
        data = msgspec.json.decode(await request.body(), type=EnrollIn)
    except msgspec.ValidationError as exc:
        where = str(exc).rsplit("$.", 1)[-1].rstrip("`").strip() if "$." in str(exc) else None
        raise Invalid(f"Неверный запрос подключения агента. {MALFORMED}", field=where) from exc
    except msgspec.DecodeError as exc:
        raise Invalid(f"Неверный запрос подключения агента. {MALFORMED}") from exc
    return await enrollment.enroll(request.app.state.core, tenant_slug=data.tenant, code=data.code, name=data.name,
                                   version=data.version, client=_client(request))


class _Socket:
    """The gateway's Transport over litestar's WebSocket."""

    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket

    async def recv_json(self) -> Any:
        try:
            raw = await self.socket.receive_text()
        except WebSocketDisconnect as exc:
            raise Disconnected() from exc
        if len(raw) > FRAME_MAX:
            raise BadFrame()
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise BadFrame() from exc

    async def send_json(self, obj: dict[str, Any]) -> None:
        try:
            await self.socket.send_text(json.dumps(obj, ensure_ascii=False, default=str))
        except Exception as exc:  # the client went away (uvicorn's ClientDisconnected, a closed socket)
            raise Disconnected() from exc

    async def close(self, code: int, reason: str) -> None:
        await self.socket.close(code=code, reason=reason)


@websocket("/edge/ws")
async def edge_socket(socket: WebSocket) -> None:
    auth = socket.headers.get("authorization", "")
    key = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    await socket.accept()
    await gateway_of(socket.app).serve(_Socket(socket), key, address=_client(socket))


ROUTES = [enroll_agent, edge_socket]
