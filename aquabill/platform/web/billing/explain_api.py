"""How each charge was computed (#13): the account card's section (`billing/card_explain.html` loads
`GET /accounts/{id}/explain?period=YYYY-MM`: a month selector, each line's explanation and the short answer an
operator reads out to the caller) and the API `GET /api/accounts/{id}/charges/explain?period=YYYY-MM`.
Permission accounts/view. Without a period: the account's latest charged month."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import Invalid
from aquabill.billing_core.registry.card import CHARGE_METHODS
from aquabill.billing_core.registry.queries import require_account
from aquabill.billing_core.run.explain import explain_month
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import parse_period

VIEW = [requires("accounts", "view")]
Month = Annotated[str, Parameter(max_length=7, description="Месяц ГГГГ-ММ (по умолчанию — последний начисленный)")]


@get("/accounts/{account_id:int}/explain", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def explain_section(ctx: Ctx, account_id: int, period: Month = "") -> Template:
    await require_account(ctx.conn, account_id)
    error = None
    try:
        month = parse_period(period, message=f"Месяц «{period.strip()}» не распознан: выберите его из списка")
    except Invalid as exc:
        error, month = exc.message, None
    found = await explain_month(ctx.conn, account_id, month)
    return Template("billing/card_explain_body.html", context={**found, "error": error, "methods": CHARGE_METHODS})


@get("/api/accounts/{account_id:int}/charges/explain", dependencies=DEPS, guards=VIEW, tags=["accounts"])
async def api_explain(ctx: Ctx, account_id: int, period: Month = "") -> dict[str, Any]:
    """How each charge line of the month was computed, in plain Russian (`lines`; `text` joins them), and the
    short answer to "why is my bill like this" (`summary`); `months` lists the account's charged months."""
    await require_account(ctx.conn, account_id)
    found = await explain_month(ctx.conn, account_id, parse_period(period))
    return {**found, "items": [e.as_dict() for e in found["items"]]}


ROUTES = [explain_section, api_explain]
