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
from litestar.response import Template

from aquabill.base.errors import Invalid, found
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
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM, attempt, parse_date, parse_id

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
    card = found(await full_card(ctx.conn, account_id, readings=RECENT_READINGS, charge_months=12),
                 "Лицевой счёт не найден")
    kinds, _ = await list_kinds(ctx.conn, limit=500)
    return Template("billing/account_card.html", context=_page_ctx(ctx, account_id=account_id, card=card,
                                                           a=card["account"], meters=card["meters"],
                                                           readings=card["readings"],
                                                           parameters=card["parameters"], kinds=kinds))


@post("/accounts/{account_id:int}/readings", dependencies=DEPS, guards=[requires("accounts", "edit")],
      include_in_schema=False, status_code=200)
async def reading_submit(ctx: Ctx, account_id: int, data: Annotated[ReadingForm, FORM]) -> Template:
    await require_account(ctx.conn, account_id)
    async with attempt(ctx) as tried:
        meter_id = parse_id(data.meter_id, "meter_id", "Выберите счётчик", required=True)
        meter = await get_meter(ctx.conn, meter_id)
        if meter["account_id"] != account_id:
            raise Invalid("Счётчик не относится к этому лицевому счёту", field="meter_id")
        read_on = parse_date(data.read_on, "read_on", "Укажите дату", required=True)
        outcome = await add_reading(ctx.conn, meter["id"], read_on=read_on,
                                    value=parse_reading_value(data.value), source="operator",
                                    user_id=ctx.principal.user_id)
    if tried.refused:
        return await _meters_section(ctx, account_id, message=tried.message, error=True)
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
    async with attempt(ctx) as tried:
        result = await set_account_parameter(
            ctx.conn, account_id, kind=data.kind.strip(), value=data.value,
            valid_from=parse_date(data.valid_from, "valid_from", "Укажите дату", required=True))
    if tried.refused:
        return await _parameters_section(ctx, account_id, message=tried.message, error=True)
    message = {"inserted": "Значение сохранено", "corrected": "Значение на эту дату исправлено",
               "unchanged": "Такое значение уже действует с этой даты"}[result["status"]]
    return await _parameters_section(ctx, account_id, message=message, error=False)


ROUTES = [account_page, reading_submit, parameter_submit]
