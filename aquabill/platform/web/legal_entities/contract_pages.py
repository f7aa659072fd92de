"""The contracts' pages (resource "legal"): `/legal/contracts` — filters (kind, status, number / counterparty /
INN), paging, «Новый договор» (`/legal/contracts/new`); the card `/legal/contracts/{id}` — the terms in force on a
day (`?on=`) and the history of versions, sites with their points (diameter, metered, meter, tariff group) and
sub-subscribers, the latest readings; forms to change the status, add an addendum, an object, a point, a
sub-subscriber, a meter and a reading.

A refusal shows the card again with the message beside its form and the typed values kept (422; `forms.attempt`
rolls the attempt back); a success redirects to the card's section (303)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.response import Redirect, Template

from aquabill.base.errors import NotFound
from aquabill.billing_core.metering.reading_entry import STATUSES as READING_STATUSES
from aquabill.legal_entities import contract_store, point_meters, sites_store
from aquabill.legal_entities.catalogue import (
    CONTRACT_KINDS,
    CONTRACT_STATUSES,
    POINT_KINDS,
    STATUS_MOVES,
    VAT_MODES,
)
from aquabill.legal_entities.contract_card import contract_card
from aquabill.legal_entities.counterparty_store import list_counterparties, require_counterparty
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt, or_none, parse_date, parse_id
from aquabill.platform.web.legal_entities.contract_api import Day, Filter
from aquabill.platform.web.legal_entities.counterparty_pages import page_context
from aquabill.platform.web.legal_entities.form_inputs import (
    ContractForm,
    MeterForm,
    ObjectForm,
    PointForm,
    ReadingForm,
    StatusForm,
    SubForm,
    TermsForm,
)
from aquabill.platform.web.paging import Offset, Search

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
LIST_PAGE = 30
COUNTERPARTY_CHOICES = 500  # the new contract form's list; more are reached from the counterparty's card


def _context(ctx: Ctx, **kw: Any) -> dict[str, Any]:
    return page_context(ctx, point_kinds=POINT_KINDS, vat_modes=VAT_MODES, status_moves=STATUS_MOVES,
                        reading_statuses=READING_STATUSES, today=date.today(), **kw)


@get("/legal/contracts", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def contracts_page(ctx: Ctx, q: Search = "", kind: Filter = "", status: Filter = "",
                         offset: Offset = 0) -> Template:
    kind_value = kind if kind in CONTRACT_KINDS else None
    status_value = status if status in CONTRACT_STATUSES else None
    items, total = await contract_store.list_contracts(ctx.conn, q, kind=kind_value, status=status_value,
                                                       limit=LIST_PAGE, offset=offset)
    return Template("legal_entities/contracts.html", context=_context(
        ctx, items=items, total=total, q=q, kind=kind_value or "", status=status_value or "", offset=offset,
        limit=LIST_PAGE))


async def _new_page(ctx: Ctx, form: ContractForm, message: str = "", status_code: int = 200) -> Template:
    chosen = or_none(parse_id, form.counterparty_id, "counterparty_id")
    counterparty = None
    if chosen is not None:
        try:
            counterparty = await require_counterparty(ctx.conn, chosen)
        except NotFound:  # an unknown id in the link: the form offers the list instead
            counterparty = None
    choices, _ = ([], 0) if counterparty else await list_counterparties(ctx.conn, active=True,
                                                                          limit=COUNTERPARTY_CHOICES)
    return Template("legal_entities/contract_new.html", status_code=status_code, context=_context(
        ctx, f=form, message=message, counterparty=counterparty, choices=choices))


@get("/legal/contracts/new", dependencies=DEPS, guards=EDIT, include_in_schema=False)
async def new_contract_page(ctx: Ctx, counterparty: Filter = "") -> Template:
    today = date.today().isoformat()
    return await _new_page(ctx, ContractForm(counterparty_id=counterparty, signed_on=today, valid_from=today))


@post("/legal/contracts", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def create_contract(ctx: Ctx, data: Annotated[ContractForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        contract, first = data.domain()
        made = await contract_store.create_contract(ctx.conn, contract, first, user_id=ctx.principal.user_id)
    if tried.refused:
        return await _new_page(ctx, data, tried.message, 422)
    return _back(made["id"], "Договор создан", "terms")


async def _card(ctx: Ctx, contract_id: int, *, on: date | None = None, notice: str = "",
                errors: dict[str, str] | None = None, forms: dict[str, Any] | None = None,
                status_code: int = 200) -> Template:
    card = await contract_card(ctx.conn, contract_id, on)
    in_force = card["in_force"]
    defaults: dict[str, Any] = {
        "status": StatusForm(status=card["status"], valid_to=card["valid_to"].isoformat() if card["valid_to"] else "",
                             note=card["note"]),
        "version": TermsForm(vat_mode=in_force["vat_mode"] if in_force else "vat"),
        "object": ObjectForm(), "point": PointForm(valid_from=card["valid_from"].isoformat()), "sub": SubForm(),
        "meter": MeterForm(installed_on=date.today().isoformat()),
        "reading": ReadingForm(read_on=date.today().isoformat())}
    points = [p for o in card["objects"] for p in o["points"]]
    meters = [(p, m) for p in points for m in p["meters"] if m["state"] != "removed"]
    subs = [(p, s) for p in points for s in p["subs"]]
    return Template("legal_entities/contract.html", status_code=status_code, context=_context(
        ctx, k=card, notice=notice, errors=errors or {}, forms={**defaults, **(forms or {})}, points=points,
        meters=meters, subs=subs))


@get("/legal/contracts/{contract_id:int}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def contract_page(ctx: Ctx, request: Request, contract_id: int, on: Day = "") -> Template:
    return await _card(ctx, contract_id, on=or_none(parse_date, on, "on"),
                       notice=request.query_params.get("notice", "")[:200])


def _back(contract_id: int, notice: str, anchor: str) -> Redirect:
    return Redirect(path=f"/legal/contracts/{contract_id}?notice={quote(notice)}#{anchor}", status_code=303)


async def _refused(ctx: Ctx, contract_id: int, key: str, message: str, form: Any) -> Template:
    return await _card(ctx, contract_id, errors={key: message}, forms={key: form}, status_code=422)


@post("/legal/contracts/{contract_id:int}/status", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def change_status(ctx: Ctx, contract_id: int, data: Annotated[StatusForm, FORM]) -> Template | Redirect:
    await contract_store.require_contract(ctx.conn, contract_id)
    async with attempt(ctx) as tried:
        end = parse_date(data.valid_to, "valid_to", dotted=True)
        await contract_store.update_contract(ctx.conn, contract_id, status=data.status[:16], valid_to=end,
                                             clear_valid_to=end is None, note=data.note[:4000])
    if tried.refused:
        return await _refused(ctx, contract_id, "status", tried.message, data)
    return _back(contract_id, "Договор сохранён", "contract")


@post("/legal/contracts/{contract_id:int}/versions", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def add_version(ctx: Ctx, contract_id: int, data: Annotated[TermsForm, FORM]) -> Template | Redirect:
    await contract_store.require_contract(ctx.conn, contract_id)
    async with attempt(ctx) as tried:
        made = await contract_store.add_version(ctx.conn, contract_id, data.version(), user_id=ctx.principal.user_id)
    if tried.refused:
        return await _refused(ctx, contract_id, "version", tried.message, data)
    return _back(contract_id, f"Редакция {made['version']} условий добавлена", "terms")


@post("/legal/contracts/{contract_id:int}/objects", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def add_object(ctx: Ctx, contract_id: int, data: Annotated[ObjectForm, FORM]) -> Template | Redirect:
    await contract_store.require_contract(ctx.conn, contract_id)
    async with attempt(ctx) as tried:
        await sites_store.add_object(ctx.conn, contract_id, data.domain(), user_id=ctx.principal.user_id)
    if tried.refused:
        return await _refused(ctx, contract_id, "object", tried.message, data)
    return _back(contract_id, "Объект добавлен", "objects")


@post("/legal/contracts/{contract_id:int}/points", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def add_point(ctx: Ctx, contract_id: int, data: Annotated[PointForm, FORM]) -> Template | Redirect:
    await contract_store.require_contract(ctx.conn, contract_id)
    async with attempt(ctx) as tried:
        await sites_store.add_point(ctx.conn, contract_id, data.domain(), user_id=ctx.principal.user_id)
    if tried.refused:
        return await _refused(ctx, contract_id, "point", tried.message, data)
    return _back(contract_id, "Точка подключения добавлена", "objects")


async def _own_point(ctx: Ctx, contract_id: int, point_id: int) -> None:
    """The point named by a form must be one of this contract's (a foreign id is refused like an unknown one)."""
    point = await sites_store.get_point(ctx.conn, point_id)
    if point["contract_id"] != contract_id:
        raise NotFound("Точка подключения не найдена в этом договоре", field="point_id")


@post("/legal/contracts/{contract_id:int}/subs", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def add_sub(ctx: Ctx, contract_id: int, data: Annotated[SubForm, FORM]) -> Template | Redirect:
    await contract_store.require_contract(ctx.conn, contract_id)
    async with attempt(ctx) as tried:
        point_id, sub = data.domain()
        await _own_point(ctx, contract_id, point_id)
        await sites_store.add_sub(ctx.conn, point_id, sub, user_id=ctx.principal.user_id)
    if tried.refused:
        return await _refused(ctx, contract_id, "sub", tried.message, data)
    return _back(contract_id, "Субабонент добавлен", "subs")


@post("/legal/contracts/{contract_id:int}/meters", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def install_meter(ctx: Ctx, contract_id: int, data: Annotated[MeterForm, FORM]) -> Template | Redirect:
    await contract_store.require_contract(ctx.conn, contract_id)
    async with attempt(ctx) as tried:
        point_id, meter = data.domain()
        await _own_point(ctx, contract_id, point_id)
        made = await point_meters.install_point_meter(ctx.conn, point_id, meter)
    if tried.refused:
        return await _refused(ctx, contract_id, "meter", tried.message, data)
    return _back(contract_id, f"Счётчик № {made['serial']} установлен", "objects")


@post("/legal/contracts/{contract_id:int}/readings", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def add_reading(ctx: Ctx, contract_id: int, data: Annotated[ReadingForm, FORM]) -> Template | Redirect:
    await contract_store.require_contract(ctx.conn, contract_id)
    async with attempt(ctx) as tried:
        meter_id = parse_id(data.meter_id, "meter_id", "Выберите счётчик", required=True)
        read_on = parse_date(data.read_on, "read_on", "Укажите дату показания", required=True, dotted=True)
        assert meter_id is not None and read_on is not None
        meter = await point_meters.get_point_meter(ctx.conn, meter_id)
        await _own_point(ctx, contract_id, meter["point_id"])
        outcome = await point_meters.add_point_reading(ctx.conn, meter_id, read_on=read_on, value=data.value[:40],
                                                       user_id=ctx.principal.user_id)
    if tried.refused:
        return await _refused(ctx, contract_id, "reading", tried.message, data)
    status = READING_STATUSES.get(outcome["status"], outcome["status"]).lower()
    text = f"Показание на {outcome['read_on']:%d.%m.%Y}: {status}" + (f". {outcome['reason']}" if outcome["reason"]
                                                                      else "")
    return _back(contract_id, text, "readings")


ROUTES = [contracts_page, new_contract_page, create_contract, contract_page, change_status, add_version, add_object,
          add_point, add_sub, install_meter, add_reading]
