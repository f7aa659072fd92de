"""The billing reference page «Справочники» (/billing/reference; permission resource "registry", as the reference
API): tabs of tariffs, norms, increasing coefficients and services (`?tab=`, tariffs by default).

Tariffs and norms: their whole history, filtered by service, group (category) and a search, each row with its
validity and the act that set it (`basis`), the row in force today marked; «Новый тариф» / «Новый норматив» add a
value from a date (the same date corrects it) through billing_core.reference, as the API does. Coefficients: the
federal and the organisation's rows per service kind and the form of the organisation's own value. Services: the
list. A refusal (a number that does not parse, a closed period …) shows the tab again with the message and the typed
values (status 200; `forms.attempt`: nothing of that attempt is written); a success goes back to the tab (303)
saying what happened."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid
from aquabill.billing_core import reference
from aquabill.billing_core.run.explain_format import num
from aquabill.platform.web.billing.fields import REF_EDIT, REF_VIEW, Basis
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM, attempt, or_none, parse_amount, parse_date, parse_id
from aquabill.platform.web.paging import Offset, Search

TABS = {"tariffs": "Тарифы", "norms": "Нормативы", "coefficients": "Коэффициенты", "services": "Услуги"}
PAGE = 50
Param = Annotated[str, Parameter(max_length=32)]
Field = Annotated[str, msgspec.Meta(max_length=64)]
WHAT = {"tariffs": "Тариф", "norms": "Норматив", "coefficients": "Коэффициент"}
DONE = {"inserted": "{what} добавлен", "corrected": "{what} исправлен",
        "unchanged": "{what} не изменился: такое значение и основание с этой даты уже есть"}
SOURCES = {"federal": "Федеральный", "tenant": "Организации"}


class TariffForm(msgspec.Struct):
    service_id: Field = ""
    tariff_group: Field = "population"
    price: Field = ""
    valid_from: Field = ""
    basis: Basis = ""


class NormForm(msgspec.Struct):
    service_id: Field = ""
    improvement: Field = ""
    volume: Field = ""
    valid_from: Field = ""
    basis: Basis = ""


class CoefficientForm(msgspec.Struct):
    service_kind: Field = ""
    value: Field = ""
    valid_from: Field = ""
    basis: Basis = ""


def _number(raw: str, field: str, label: str, example: str) -> Decimal:
    """A value typed into a form (`1 234,5` or `1234.5`), required."""
    try:
        value = parse_amount(raw, field)
    except Invalid as exc:
        raise Invalid(f"{label}: ожидается число, например {example}", field=field) from exc
    if value is None:
        raise Invalid(f"{label}: укажите значение", field=field)
    return value


def _day(raw: str) -> date:
    found = parse_date(raw, "valid_from", dotted=True)
    if found is None:
        raise Invalid("Укажите дату, с которой действует значение", field="valid_from")
    return found


def _service(raw: str) -> int:
    return parse_id(raw, "service_id", "Выберите услугу", required=True) or 0


def _timed(rows: list[dict], value: str, keep: int, today: date) -> list[dict]:
    """The rows of a dated list with their value as shown («57,37», «48,1234», «4,85»: every decimal stored, at
    least `keep`) and their state on `today`."""
    return [{**r, "shown": num(r[value], 4, keep),
             "state": "current" if r["current"] else "past" if r["valid_to"] and r["valid_to"] < today
             else "future" if r["valid_from"] > today else ""} for r in rows]


async def _page(ctx: TenantScope, tab: str, *, service_id: int | None = None, key: str = "", q: str = "",
                offset: int = 0, form: Any = None, message: str = "", notice: str = "") -> Template:
    today = date.today()
    services, _ = await reference.list_services(ctx.conn, limit=500)
    context: dict[str, Any] = {
        "principal": ctx.principal, "tenant": ctx.tenant, "can_edit": ctx.principal.can("registry", "edit"),
        "tab": tab, "tabs": TABS, "services": services, "units": {s["id"]: s["unit"] for s in services},
        "service_id": service_id, "key": key, "q": q, "offset": offset, "limit": PAGE, "form": form,
        "message": message, "notice": notice, "today": today, "kinds": reference.SERVICE_KINDS, "sources": SOURCES}
    if tab == "tariffs":
        groups = await reference.tariff_groups(ctx.conn)
        rows, total = await reference.list_tariffs(ctx.conn, service_id=service_id, tariff_group=key or None, q=q,
                                                   on=today, limit=PAGE, offset=offset)
        context.update(groups=groups, rows=_timed(rows, "price", 2, today), total=total,
                       form=form or TariffForm(service_id=str(service_id or ""), tariff_group=key or "population"))
    elif tab == "norms":
        rows, total = await reference.list_norms(ctx.conn, service_id=service_id, improvement=key or None, q=q,
                                                 on=today, limit=PAGE, offset=offset)
        context.update(improvements=await reference.improvements(ctx.conn), rows=_timed(rows, "volume", 0, today),
                       total=total, form=form or NormForm(service_id=str(service_id or ""), improvement=key))
    elif tab == "coefficients":
        kinds = await reference.list_coefficients(ctx.conn, on=today)
        for kind in kinds:
            valid_to = {t["id"]: t["valid_to"] for t in kind["timeline"]}
            current = (kind["current"] or {}).get("id")
            kind["rows"] = [{**r, "shown": num(r["value"], 3), "valid_to": valid_to.get(r["id"]),
                             "state": "current" if r["id"] == current else "overridden" if r["overridden"]
                             else "future" if r["valid_from"] > today else "past"} for r in kind["rows"]]
        context.update(coefficients=kinds, form=form or CoefficientForm())
    else:
        rows, total = await reference.list_services(ctx.conn, q, limit=PAGE, offset=offset)
        context.update(rows=rows, total=total)
    return Template(template_name=f"billing/reference_{tab}.html", context=context)


@get("/billing/reference", dependencies=DEPS, guards=REF_VIEW, include_in_schema=False)
async def reference_page(ctx: Ctx, tab: Param = "tariffs", service_id: Param = "", group: Param = "",
                         improvement: Param = "", q: Search = "", offset: Offset = 0, done: Param = "") -> Template:
    tab = tab if tab in TABS else "tariffs"
    notice = DONE[done].format(what=WHAT[tab]) if done in DONE and tab in WHAT else ""
    return await _page(ctx, tab, service_id=or_none(parse_id, service_id, "service_id"),
                       key=(group if tab == "tariffs" else improvement).strip(), q=q, offset=offset, notice=notice)


def _back(tab: str, status: str, service_id: int, key_name: str = "", key: str = "") -> Redirect:
    query = {"tab": tab, "done": status, "service_id": str(service_id), **({key_name: key} if key_name else {})}
    return Redirect(path="/billing/reference", query_params=query, status_code=303)


@post("/billing/reference/tariffs", dependencies=DEPS, guards=REF_EDIT, include_in_schema=False, status_code=200)
async def add_tariff(ctx: Ctx, data: Annotated[TariffForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        service_id = _service(data.service_id)
        done = await reference.set_tariff(
            ctx.conn, service_id=service_id, tariff_group=data.tariff_group,
            price=_number(data.price, "price", "Тариф", "57,37"), valid_from=_day(data.valid_from), basis=data.basis)
    if tried.refused:
        return await _page(ctx, "tariffs", form=data, message=tried.message)
    return _back("tariffs", done["status"], service_id, "group", done["item"]["tariff_group"])


@post("/billing/reference/norms", dependencies=DEPS, guards=REF_EDIT, include_in_schema=False, status_code=200)
async def add_norm(ctx: Ctx, data: Annotated[NormForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        service_id = _service(data.service_id)
        done = await reference.set_norm(
            ctx.conn, service_id=service_id, improvement=data.improvement,
            volume=_number(data.volume, "volume", "Норматив", "4,85"), valid_from=_day(data.valid_from),
            basis=data.basis)
    if tried.refused:
        return await _page(ctx, "norms", form=data, message=tried.message)
    return _back("norms", done["status"], service_id, "improvement", done["item"]["improvement"])


@post("/billing/reference/coefficients", dependencies=DEPS, guards=REF_EDIT, include_in_schema=False,
      status_code=200)
async def add_coefficient(ctx: Ctx, data: Annotated[CoefficientForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        done = await reference.set_override(
            ctx.conn, service_kind=data.service_kind, value=_number(data.value, "value", "Коэффициент", "1,5"),
            valid_from=_day(data.valid_from), basis=data.basis)
    if tried.refused:
        return await _page(ctx, "coefficients", form=data, message=tried.message)
    return Redirect(path="/billing/reference", query_params={"tab": "coefficients", "done": done["status"]},
                    status_code=303)


ROUTES = [reference_page, add_tariff, add_norm, add_coefficient]
