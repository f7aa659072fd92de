"""The account card page, with htmx forms to add a reading and to set a parameter value.

The forms post URL-encoded fields; a refusal (invalid value, closed period, …) is shown inside the swapped
section (status 200, so htmx swaps it) and nothing of that attempt is written (a savepoint rolls it back).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from aquabill.base.errors import NotFound
from aquabill.billing_core.errors import BillingError
from aquabill.billing_core.metering.meters import get_meter, list_meters
from aquabill.billing_core.metering.reading_entry import (
    STATUSES,
    add_reading,
    list_readings,
    parse_reading_value,
)
from aquabill.billing_core.reference.parameter_kinds import list_kinds
from aquabill.billing_core.registry.account_parameters import (
    current_values,
    parameter_history,
    set_account_parameter,
)
from aquabill.billing_core.registry.card import full_card
from aquabill.billing_core.registry.queries import require_account
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import Ctx, TenantScope, provide_tenant_scope

DEPS = {"ctx": Provide(provide_tenant_scope)}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
RECENT_READINGS = 20


class ReadingForm(msgspec.Struct):
    meter_id: str = ""
    read_on: str = ""
    value: str = ""


class ParameterForm(msgspec.Struct):
    kind: str = ""
    value: str = ""
    valid_from: str = ""


def _page_ctx(ts: TenantScope, **kw: Any) -> dict[str, Any]:
    return {"principal": ts.principal, "tenant": ts.tenant, "can_edit": ts.principal.can("accounts", "edit"),
            "today": date.today(), "reading_statuses": STATUSES, **kw}


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise BillingError("Укажите дату", field=field) from exc


async def _meters_section(ctx: Ctx, account_id: int, **kw: Any) -> Template:
    meters, _ = await list_meters(ctx.conn, account_id=account_id, limit=500)
    recent, total = await list_readings(ctx.conn, account_id=account_id, limit=RECENT_READINGS)
    return Template("billing/card_meters.html", context=_page_ctx(
        ctx, account_id=account_id, meters=meters, readings={"items": recent, "total": total}, **kw))


async def _parameters_section(ctx: Ctx, account_id: int, **kw: Any) -> Template:
    history = await parameter_history(ctx.conn, account_id)
    kinds, _ = await list_kinds(ctx.conn, limit=500)
    return Template("billing/card_parameters.html", context=_page_ctx(
        ctx, account_id=account_id, parameters={"current": current_values(history, date.today()), "history": history},
        kinds=kinds, **kw))


@get("/accounts/{account_id:int}", dependencies=DEPS, guards=[requires("accounts", "view")], include_in_schema=False)
async def account_page(ctx: Ctx, account_id: int) -> Template:
    found = await full_card(ctx.conn, account_id, readings=RECENT_READINGS, charge_months=12)
    if found is None:
        raise NotFound("Лицевой счёт не найден")
    kinds, _ = await list_kinds(ctx.conn, limit=500)
    return Template("billing/account_card.html", context=_page_ctx(ctx, account_id=account_id, card=found,
                                                           a=found["account"], meters=found["meters"],
                                                           readings=found["readings"],
                                                           parameters=found["parameters"], kinds=kinds))


@post("/accounts/{account_id:int}/readings", dependencies=DEPS, guards=[requires("accounts", "edit")],
      include_in_schema=False, status_code=200)
async def reading_submit(ctx: Ctx, account_id: int, data: Annotated[ReadingForm, FORM]) -> Template:
    await require_account(ctx.conn, account_id)
    try:
        async with ctx.conn.begin_nested():
            if not data.meter_id.strip().isdigit():
                raise BillingError("Выберите счётчик", field="meter_id")
            meter = await get_meter(ctx.conn, int(data.meter_id))
            if meter["account_id"] != account_id:
                raise BillingError("Счётчик не относится к этому лицевому счёту", field="meter_id")
            outcome = await add_reading(ctx.conn, meter["id"], read_on=_date(data.read_on, "read_on"),
                                        value=parse_reading_value(data.value), source="operator",
                                        user_id=ctx.principal.user_id)
    except BillingError as exc:
        return await _meters_section(ctx, account_id, message=exc.message, error=True)
    status = STATUSES.get(outcome["status"], outcome["status"])
    message = f"Показание {_num(outcome['value'])} на {outcome['read_on']:%d.%m.%Y}: {status.lower()}"
    if outcome["duplicate"]:
        message += " (такое показание уже было внесено)"
    if outcome["reason"]:
        message += f". {outcome['reason']}"
    return await _meters_section(ctx, account_id, message=message, error=outcome["status"] != "accepted")


@post("/accounts/{account_id:int}/parameters", dependencies=DEPS, guards=[requires("accounts", "edit")],
      include_in_schema=False, status_code=200)
async def parameter_submit(ctx: Ctx, account_id: int, data: Annotated[ParameterForm, FORM]) -> Template:
    await require_account(ctx.conn, account_id)
    try:
        async with ctx.conn.begin_nested():
            result = await set_account_parameter(ctx.conn, account_id, kind=data.kind.strip(), value=data.value,
                                                 valid_from=_date(data.valid_from, "valid_from"))
    except BillingError as exc:
        return await _parameters_section(ctx, account_id, message=exc.message, error=True)
    message = {"inserted": "Значение сохранено", "corrected": "Значение на эту дату исправлено",
               "unchanged": "Такое значение уже действует с этой даты"}[result["status"]]
    return await _parameters_section(ctx, account_id, message=message, error=False)


ROUTES = [account_page, reading_submit, parameter_submit]
