"""How each charge was computed, on the portal (#13): the page `/my/accounts/{id}/explain?period=YYYY-MM` and the
API `/api/my/accounts/{id}/explain?period=` — the same explanations staff see on the account card, for an account
linked to the signed-in subscriber (any other account: 404, as one that does not exist)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import Invalid
from aquabill.billing_core.run.explain import explain_month
from aquabill.platform.web.forms import parse_period
from aquabill.platform.web.portal.context import My
from aquabill.platform.web.portal.pages_common import api_get, page_get, render
from aquabill.subscribers.links import require_linked

Month = Annotated[str, Parameter(max_length=7, description="Месяц ГГГГ-ММ (по умолчанию — последний начисленный)")]


@page_get("/my/accounts/{account_id:int}/explain")
async def explain_page(my: My, account_id: int, period: Month = "") -> Template:
    await require_linked(my.conn, my.subscriber_id, account_id)
    error = None
    try:
        month = parse_period(period, message=f"Месяц «{period.strip()}» не распознан: выберите месяц из списка")
    except Invalid as exc:
        error, month = exc.message, None
    found = await explain_month(my.conn, account_id, month)
    return await render(my, "explain.html", **found, error=error)


@api_get("/api/my/accounts/{account_id:int}/explain")
async def explain_api(my: My, account_id: int, period: Month = "") -> dict[str, Any]:
    """How each charge line of the month was computed (`lines`, `text`), and the short answer (`summary`)."""
    await require_linked(my.conn, my.subscriber_id, account_id)
    found = await explain_month(my.conn, account_id, parse_period(period))
    return {**found, "items": [e.as_dict() for e in found["items"]]}


ROUTES: list = [explain_page, explain_api]
