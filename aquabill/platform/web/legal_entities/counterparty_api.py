"""The counterparties' API (resource "legal"): search with paging, create, the card, change, bank accounts and
contacts. `GET /api/legal/counterparties?q=&kind=org|ip&active=true|false&limit=&offset=`,
`POST /api/legal/counterparties`, `GET|PATCH /api/legal/counterparties/{id}`,
`POST /api/legal/counterparties/{id}/bank-accounts`, `POST /api/legal/counterparties/{id}/contacts`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, patch, post
from litestar.params import Parameter

from aquabill.base.errors import Invalid
from aquabill.legal_entities import counterparty_store as store
from aquabill.legal_entities.catalogue import COUNTERPARTY_KINDS
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.legal_entities.bodies import (
    BankAccountBody,
    ContactBody,
    CounterpartyBody,
    CounterpartyPatch,
)
from aquabill.platform.web.paging import Limit, Offset, Search, page

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
TAGS = ["Юрлица: контрагенты"]
Filter = Annotated[str, Parameter(max_length=16, description="Значение фильтра")]


def kind_filter(kind: str) -> str | None:
    if not kind:
        return None
    if kind not in COUNTERPARTY_KINDS:
        raise Invalid("Вид контрагента: org или ip", field="kind")
    return kind


def active_filter(active: str) -> bool | None:
    if not active:
        return None
    if active not in ("true", "false"):
        raise Invalid("Активность: true или false", field="active")
    return active == "true"


@get("/api/legal/counterparties", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_counterparties(ctx: Ctx, q: Search = "", kind: Filter = "", active: Filter = "", limit: Limit = 50,
                              offset: Offset = 0) -> dict[str, Any]:
    """Counterparties by name (any part) or INN (its start)."""
    items, total = await store.list_counterparties(ctx.conn, q, kind=kind_filter(kind), active=active_filter(active),
                                                   limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/legal/counterparties", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_counterparty(ctx: Ctx, data: CounterpartyBody) -> dict[str, Any]:
    """An organisation or a sole trader; the requisites' checksums are checked, a second one with the same INN
    and KPP is refused (409)."""
    return await store.create_counterparty(ctx.conn, data.domain(), user_id=ctx.principal.user_id)


@get("/api/legal/counterparties/{counterparty_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_counterparty(ctx: Ctx, counterparty_id: int) -> dict[str, Any]:
    """The card: requisites, the changes of the penalty category (`category_changes`, the newest first), bank
    accounts, contacts, contracts."""
    return await store.get_counterparty(ctx.conn, counterparty_id)


@patch("/api/legal/counterparties/{counterparty_id:int}", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def update_counterparty(ctx: Ctx, counterparty_id: int, data: CounterpartyPatch) -> dict[str, Any]:
    """A new penalty category holds from `category_from` (default: today; not before the latest change, at most a
    year ahead: 422 with the field "category_from")."""
    return await store.update_counterparty(ctx.conn, counterparty_id, data.changes(), category_from=data.category_from,
                                           category_note=data.category_note, user_id=ctx.principal.user_id)


@post("/api/legal/counterparties/{counterparty_id:int}/bank-accounts", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def add_bank_account(ctx: Ctx, counterparty_id: int, data: BankAccountBody) -> dict[str, Any]:
    """A settlement account (BIC and the account's control key checked); the first one is the main one."""
    return await store.add_bank_account(ctx.conn, counterparty_id, data.domain(), user_id=ctx.principal.user_id)


@post("/api/legal/counterparties/{counterparty_id:int}/contacts", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def add_contact(ctx: Ctx, counterparty_id: int, data: ContactBody) -> dict[str, Any]:
    return await store.add_contact(ctx.conn, counterparty_id, data.domain(), user_id=ctx.principal.user_id)


ROUTES = [list_counterparties, create_counterparty, get_counterparty, update_counterparty, add_bank_account,
          add_contact]
