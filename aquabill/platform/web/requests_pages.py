"""Requests pages: the list (filters, overdue rows highlighted, SLA time left) and a request's card
(phase, deadline, required documents, journal, documents, works, act). Read-only pages: changes go through
the API (`requests_api.py`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Template

from aquabill.platform.auth.permissions import requires
from aquabill.platform.contact_center.requests_setup import KINDS
from aquabill.platform.contact_center.requests_store import (
    EVENT_KINDS,
    STATUSES,
    RequestFilter,
    list_requests,
    request_card,
)
from aquabill.platform.web.context import Ctx, TenantScope, provide_tenant_scope
from aquabill.platform.web.paging import Offset

DEPS = {"ctx": Provide(provide_tenant_scope)}
VIEW = [requires("requests", "view")]
PAGE = 50
Choice = Annotated[str, Parameter(max_length=16)]


def left(seconds: int | None) -> str:
    """Time left as «2 ч 05 мин», overdue as «−0 ч 30 мин»."""
    if seconds is None:
        return ""
    sign = "−" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 1440)
    return sign + (f"{days} д " if days else "") + f"{rest // 60} ч {rest % 60:02d} мин"


def _ctx(ts: TenantScope, **kw: Any) -> dict[str, Any]:
    return {"principal": ts.principal, "tenant": ts.tenant, "statuses": STATUSES, "kinds": KINDS,
            "event_kinds": EVENT_KINDS, "left": left, **kw}


@get("/requests", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def requests_page(ctx: Ctx, status: Choice = "", kind: Choice = "", overdue: bool = False,
                        offset: Offset = 0) -> Template:
    f = RequestFilter(status=status if status in STATUSES else None, kind=kind if kind in KINDS else None,
                      overdue_only=overdue)
    items, total = await list_requests(ctx.conn, f, datetime.now(UTC), limit=PAGE, offset=offset)
    return Template("requests.html", context=_ctx(ctx, items=items, total=total, offset=offset, limit=PAGE,
                                                  status=f.status or "", kind=f.kind or "", overdue=overdue))


@get("/requests/{request_id:int}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def request_page(ctx: Ctx, request_id: int) -> Template:
    card = await request_card(ctx.conn, request_id, datetime.now(UTC))
    return Template("request_card.html", context=_ctx(ctx, r=card))


ROUTES = [requests_page, request_page]
