"""The acquirer's notifications: `POST /api/acquiring/yookassa/{tenant_slug}` (the URL a tenant gives ЮKassa in
its merchant cabinet, «Интеграция → HTTP-уведомления»). No session: the sender is checked by its address
(the connection's own client address, `settings.acquiring_networks`), and nothing is credited before the
payment is read back from the API (`channels/acquiring/flow.handle_notification`). Never a 5xx."""

from __future__ import annotations

from litestar import MediaType, Request, Response, post

from aquabill.channels.acquiring import flow
from aquabill.platform.web.context import core_of

MAX_NOTIFICATION = 256 * 1024


@post("/api/acquiring/yookassa/{tenant_slug:str}", tags=["acquiring"], status_code=200,
      request_max_body_size=MAX_NOTIFICATION,
      summary="Уведомление ЮKassa (payment.succeeded, payment.canceled, refund.succeeded)")
async def yookassa_notification(request: Request, tenant_slug: str) -> Response:
    body = await request.body()
    client = request.client.host if request.client else None
    status, answer = await flow.handle_notification(core_of(request), tenant_slug, body, client)
    return Response(content=answer, status_code=status, media_type=MediaType.JSON)


ROUTES = [yookassa_notification]
