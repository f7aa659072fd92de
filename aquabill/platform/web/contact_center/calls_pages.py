"""The journal of calls (`/calls`): filters by days, status, direction, agent and number, paging; a missed
or abandoned call links to its account and can be called back from the page (AMI Originate through the
API, see static/click_to_call.js)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from litestar import get
from litestar.params import Parameter
from litestar.response import Template

from aquabill.contact_center import calls as store
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import or_none, parse_date
from aquabill.platform.web.paging import Offset

PAGE = 50
STATUSES = {"answered": "Отвечен", "missed": "Пропущен", "abandoned": "Брошен", "in_progress": "Идёт",
            "lost": "Связь с АТС потеряна"}
DIRECTIONS = {"inbound": "Входящий", "outbound": "Исходящий"}
Field = Annotated[str, Parameter(max_length=40)]


@get("/calls", dependencies=DEPS, guards=[requires("calls", "view")], include_in_schema=False)
async def calls_page(ctx: Ctx, date_from: Field = "", date_to: Field = "", status: Field = "",
                     direction: Field = "", agent: Field = "", number: Field = "", offset: Offset = 0) -> Template:
    filters = {"date_from": date_from, "date_to": date_to, "status": status if status in STATUSES else "",
               "direction": direction if direction in DIRECTIONS else "", "agent": agent, "number": number}
    day_from, day_to = or_none(parse_date, date_from, "date_from"), or_none(parse_date, date_to, "date_to")
    items, total = await store.list_calls(
        ctx.conn, date_from=day_from, date_to=day_to, status=filters["status"] or None,
        direction=filters["direction"] or None, agent=agent or None, number=number or None, limit=PAGE,
        offset=offset, zone=ctx.core.settings.timezone)
    query = urlencode({k: v for k, v in filters.items() if v})
    return Template("contact_center/calls.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "items": items, "total": total, "offset": offset,
        "page": PAGE, "filters": filters, "query": query, "statuses": STATUSES, "directions": DIRECTIONS,
        "bad_dates": bool((date_from and not day_from) or (date_to and not day_to)),
        "can_call": ctx.principal.can("calls", "edit")})


ROUTES = [calls_page]
