"""An organisation's meters and reconciliation act on the portal (#16):

`/my/org/{id}/meters`          the commercial meters of the points of its active contracts, each with the last
                               accepted reading and, inside the tenant's reading window (the individuals' portal
                               rule), a form for today's reading (source 'portal', validated like every source);
`/my/org/{id}/reconciliation`  the reconciliation act of one of its contracts for `from`–`to` (L6's
                               `reconciliation_act`), as a table.

The link is checked first (`org_pages.linked`): another organisation's id or meter is a 404."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Annotated, Any

from litestar import Request
from litestar.params import Parameter, QueryParameter
from litestar.response import Template

from aquabill.base.errors import Invalid, NotFound
from aquabill.legal_entities import portal_store
from aquabill.platform.web.forms import attempt, parse_id, parse_text
from aquabill.platform.web.portal.context import My, PortalScope
from aquabill.platform.web.portal.org_pages import linked, org_page
from aquabill.platform.web.portal.pages_common import page_get, page_post, today_of
from aquabill.subscribers.readings import reading_days, window_refusal

RESULT_STYLE = {"accepted": "ok", "duplicate": "ok", "flagged": "warn", "rejected": "error"}
RECONCILIATION = "aquabill.legal_entities.reports.reconciliation"
ContractId = Annotated[int | None, Parameter(ge=0, le=2_147_483_647)]


async def _meters_page(my: PortalScope, org: dict[str, Any], *, status_code: int = 200, result: dict | None = None,
                       form: dict | None = None) -> Template:
    today = today_of(my)
    days = await reading_days(my.conn)
    return await org_page(my, "org_meters.html", org, section="meters", status_code=status_code,
                          meters=await portal_store.meters(my.conn, org["id"], today),
                          window={"days": days, "refusal": window_refusal(today, days)}, result=result,
                          form=form or {})


@page_get("/my/org/{counterparty_id:int}/meters")
async def org_meters_page(my: My, counterparty_id: int) -> Template:
    return await _meters_page(my, await linked(my, counterparty_id))


@page_post("/my/org/{counterparty_id:int}/meters")
async def org_reading_submit(my: My, counterparty_id: int, request: Request) -> Template:
    """The reading form (URL-encoded: `meter_id`, `value`)."""
    org = await linked(my, counterparty_id)
    form = await request.form()
    raw = {"meter_id": parse_text(form.get("meter_id"), 20), "value": parse_text(form.get("value"), 40)}
    result = None
    async with attempt(my) as tried:
        meter_id = parse_id(raw["meter_id"], "meter_id", "Выберите счётчик", required=True)
        assert meter_id is not None
        result = await portal_store.submit_reading(my.conn, counterparty_id, meter_id, raw["value"],
                                                   today=today_of(my))
    if tried.refused:
        if isinstance(tried.error, NotFound):  # another organisation's meter: as if it did not exist
            raise tried.error
        return await _meters_page(my, org, status_code=tried.error.status_code,
                                  result={"message": tried.message, "style": "error", "meter_id": raw["meter_id"]},
                                  form=raw)
    assert result is not None
    return await _meters_page(my, org, result={**result, "style": RESULT_STYLE[result["status"]]})


def _day(raw: str, field: str, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid("Дата — в виде ГГГГ-ММ-ДД, например 2026-01-31", field=field) from None


def _reconciliation_act():
    """L6's `reconciliation_act`, or None while the reports module is not there."""
    try:
        return importlib.import_module(RECONCILIATION).reconciliation_act
    except (ImportError, AttributeError):
        return None


@page_get("/my/org/{counterparty_id:int}/reconciliation")
async def org_reconciliation_page(my: My, counterparty_id: int, contract: ContractId = None,
                                  date_from: Annotated[str, QueryParameter(name="from", max_length=10)] = "",
                                  date_to: Annotated[str, QueryParameter(name="to", max_length=10)] = "") -> Template:
    org = await linked(my, counterparty_id)
    contracts = await portal_store.contracts_with_balance(my.conn, counterparty_id)
    today = today_of(my)
    form = {"from": date_from, "to": date_to, "contract": contract}
    context: dict[str, Any] = {"contracts": contracts, "act": None, "error": None, "available": True}
    try:
        start, end = _day(date_from, "from", date(today.year, 1, 1)), _day(date_to, "to", today)
        if end < start:
            raise Invalid("Конец периода раньше его начала", field="to")
    except Invalid as exc:
        return await org_page(my, "org_reconciliation.html", org, section="reconciliation", status_code=422,
                              form=form, **{**context, "error": exc.message})
    form.update({"from": start.isoformat(), "to": end.isoformat()})
    context.update(start=start, end=end)
    chosen = contract if contract is not None else (contracts[0]["id"] if contracts else None)
    if chosen is not None:
        await portal_store.require_contract(my.conn, counterparty_id, chosen)
        form["contract"] = chosen
        act = _reconciliation_act()
        if act is None:
            context["available"] = False
        else:
            context["act"] = await act(my.conn, chosen, start, end)
    return await org_page(my, "org_reconciliation.html", org, section="reconciliation", form=form, **context)


ROUTES = [org_meters_page, org_reading_submit, org_reconciliation_page]
