"""The counterparties' pages (resource "legal"): `/legal/counterparties` — search by name or INN, filters, paging,
«Добавить» (`/legal/counterparties/new`: an organisation or a sole trader); the card
`/legal/counterparties/{id}` — requisites (and their change; a new penalty category with the day it holds from), the
category's history, bank accounts, contacts, contracts.

Forms post URL-encoded fields; a refusal shows the page again with the message beside the form and the typed values
kept (status 422; `forms.attempt`: nothing of that attempt is written); a success redirects to the card (303)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.response import Redirect, Template

from aquabill.legal_entities import counterparty_store as store
from aquabill.legal_entities.catalogue import (
    CONTRACT_KINDS,
    CONTRACT_STATUSES,
    COUNTERPARTY_KINDS,
    PENALTY_CATEGORIES,
)
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM, attempt
from aquabill.platform.web.legal_entities.counterparty_api import Filter
from aquabill.platform.web.legal_entities.form_inputs import (
    DATED,
    BankAccountForm,
    ContactForm,
    CounterpartyForm,
)
from aquabill.platform.web.paging import Offset, Search

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
LIST_PAGE = 30


def page_context(ts: TenantScope, **kw: Any) -> dict[str, Any]:
    return {"principal": ts.principal, "tenant": ts.tenant, "can_edit": ts.principal.can("legal", "edit"),
            "kinds": COUNTERPARTY_KINDS, "categories": PENALTY_CATEGORIES, "contract_kinds": CONTRACT_KINDS,
            "contract_statuses": CONTRACT_STATUSES, **kw}


def _notice(request: Request) -> str:
    return request.query_params.get("notice", "")[:200]


@get("/legal/counterparties", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def counterparties_page(ctx: Ctx, q: Search = "", kind: Filter = "", active: Filter = "",
                              offset: Offset = 0) -> Template:
    kind_value = kind if kind in COUNTERPARTY_KINDS else None
    active_value = {"true": True, "false": False}.get(active)
    items, total = await store.list_counterparties(ctx.conn, q, kind=kind_value, active=active_value,
                                                   limit=LIST_PAGE, offset=offset)
    return Template("legal_entities/counterparties.html", context=page_context(
        ctx, items=items, total=total, q=q, kind=kind_value or "", active=active if active_value is not None else "",
        offset=offset, limit=LIST_PAGE))


def _form_page(ctx: Ctx, form: CounterpartyForm, message: str = "", field: str = "", status_code: int = 200):
    return Template("legal_entities/counterparty_new.html", status_code=status_code,
                    context=page_context(ctx, f=form, message=message, field=field))


@get("/legal/counterparties/new", dependencies=DEPS, guards=EDIT, include_in_schema=False)
async def new_counterparty_page(ctx: Ctx, kind: Filter = "org") -> Template:
    return _form_page(ctx, CounterpartyForm(kind=kind if kind in COUNTERPARTY_KINDS else "org", active="on"))


@post("/legal/counterparties", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def create_counterparty(ctx: Ctx, data: Annotated[CounterpartyForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        made = await store.create_counterparty(ctx.conn, data.domain(), user_id=ctx.principal.user_id)
    if tried.refused:
        return _form_page(ctx, data, tried.message, getattr(tried.error, "field", "") or "", 422)
    return Redirect(path=f"/legal/counterparties/{made['id']}", query_params={"notice": "Контрагент добавлен"},
                    status_code=303)


async def _card(ctx: Ctx, counterparty_id: int, *, notice: str = "", errors: dict[str, str] | None = None,
                forms: dict[str, Any] | None = None, status_code: int = 200) -> Template:
    card = await store.get_counterparty(ctx.conn, counterparty_id)
    edit = CounterpartyForm(**{k: str(card[k]) if k != "active" else ("on" if card["active"] else "")
                               for k in CounterpartyForm.__struct_fields__ if k not in DATED})
    forms = {"edit": edit, "bank": BankAccountForm(), "contact": ContactForm(), **(forms or {})}
    return Template("legal_entities/counterparty.html", status_code=status_code, context=page_context(
        ctx, c=card, notice=notice, errors=errors or {}, forms=forms))


@get("/legal/counterparties/{counterparty_id:int}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def counterparty_page(ctx: Ctx, request: Request, counterparty_id: int) -> Template:
    return await _card(ctx, counterparty_id, notice=_notice(request))


def _back(counterparty_id: int, notice: str, anchor: str) -> Redirect:
    return Redirect(path=f"/legal/counterparties/{counterparty_id}?notice={quote(notice)}#{anchor}", status_code=303)


@post("/legal/counterparties/{counterparty_id:int}", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def update_counterparty(ctx: Ctx, counterparty_id: int,
                              data: Annotated[CounterpartyForm, FORM]) -> Template | Redirect:
    await store.require_counterparty(ctx.conn, counterparty_id)
    async with attempt(ctx) as tried:
        await store.update_counterparty(ctx.conn, counterparty_id, vars_of(data.domain()),
                                        category_from=data.category_from_day(), category_note=data.category_note,
                                        user_id=ctx.principal.user_id)
    if tried.refused:
        return await _card(ctx, counterparty_id, errors={"edit": tried.message}, forms={"edit": data}, status_code=422)
    return _back(counterparty_id, "Реквизиты сохранены", "requisites")


@post("/legal/counterparties/{counterparty_id:int}/bank-accounts", dependencies=DEPS, guards=EDIT,
      include_in_schema=False, status_code=200)
async def add_bank_account(ctx: Ctx, counterparty_id: int,
                           data: Annotated[BankAccountForm, FORM]) -> Template | Redirect:
    await store.require_counterparty(ctx.conn, counterparty_id)
    async with attempt(ctx) as tried:
        await store.add_bank_account(ctx.conn, counterparty_id, data.domain(), user_id=ctx.principal.user_id)
    if tried.refused:
        return await _card(ctx, counterparty_id, errors={"bank": tried.message}, forms={"bank": data},
                           status_code=422)
    return _back(counterparty_id, "Счёт добавлен", "bank-accounts")


@post("/legal/counterparties/{counterparty_id:int}/contacts", dependencies=DEPS, guards=EDIT,
      include_in_schema=False, status_code=200)
async def add_contact(ctx: Ctx, counterparty_id: int, data: Annotated[ContactForm, FORM]) -> Template | Redirect:
    await store.require_counterparty(ctx.conn, counterparty_id)
    async with attempt(ctx) as tried:
        await store.add_contact(ctx.conn, counterparty_id, data.domain(), user_id=ctx.principal.user_id)
    if tried.refused:
        return await _card(ctx, counterparty_id, errors={"contact": tried.message}, forms={"contact": data},
                           status_code=422)
    return _back(counterparty_id, "Контактное лицо добавлено", "contacts")


def vars_of(data: Any) -> dict[str, Any]:
    return {name: getattr(data, name) for name in store.COLUMNS}


ROUTES = [counterparties_page, new_counterparty_page, create_counterparty, counterparty_page, update_counterparty,
          add_bank_account, add_contact]
