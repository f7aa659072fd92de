"""The contracts' API (resource "legal"): the list with filters and paging, create (with its first terms), the
card, status and end, the terms in force on a day, addenda (versions), sites, points, sub-subscribers, the points'
meters and their readings.

`GET /api/legal/contracts?q=&kind=&status=&counterparty_id=&limit=&offset=`, `POST /api/legal/contracts`,
`GET|PATCH /api/legal/contracts/{id}` (`?on=ГГГГ-ММ-ДД`: the terms in force that day), `GET …/{id}/terms?on=`,
`POST …/{id}/versions`, `POST …/{id}/objects`, `POST …/{id}/points`, `POST /api/legal/points/{id}/subs`,
`POST /api/legal/points/{id}/meters`, `POST /api/legal/meters/{id}/readings`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import get, patch, post
from litestar.params import Parameter

from aquabill.base.errors import Invalid
from aquabill.legal_entities import contract_store, point_meters, sites_store
from aquabill.legal_entities.catalogue import CONTRACT_KINDS, CONTRACT_STATUSES
from aquabill.legal_entities.contract_card import contract_card
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import parse_date
from aquabill.platform.web.legal_entities.bodies import (
    ContractBody,
    ContractPatch,
    MeterBody,
    ObjectBody,
    PointBody,
    ReadingBody,
    SubBody,
    VersionBody,
)
from aquabill.platform.web.paging import Limit, Offset, Search, page

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
TAGS = ["Юрлица: договоры"]
Filter = Annotated[str, Parameter(max_length=16, description="Значение фильтра")]
Day = Annotated[str, Parameter(max_length=10, description="Дата ГГГГ-ММ-ДД (по умолчанию сегодня)")]
OptionalId = Annotated[int | None, Parameter(ge=1, le=2_147_483_647, description="Идентификатор")]


def _choice(value: str, options: dict[str, str], field: str, what: str) -> str | None:
    if not value:
        return None
    if value not in options:
        raise Invalid(f"{what}: " + ", ".join(options), field=field)
    return value


def _on(raw: str) -> date | None:
    return parse_date(raw, "on", "Дата: ожидается ГГГГ-ММ-ДД")


@get("/api/legal/contracts", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_contracts(ctx: Ctx, q: Search = "", kind: Filter = "", status: Filter = "",
                         counterparty_id: OptionalId = None, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Contracts by number (any part), the counterparty's name (any part) or INN (its start); newest first."""
    items, total = await contract_store.list_contracts(
        ctx.conn, q, kind=_choice(kind, CONTRACT_KINDS, "kind", "Вид договора"),
        status=_choice(status, CONTRACT_STATUSES, "status", "Состояние договора"), counterparty_id=counterparty_id,
        limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/legal/contracts", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_contract(ctx: Ctx, data: ContractBody) -> dict[str, Any]:
    """A contract with a counterparty and version 1 of its terms (payment by default by the 10th of the next month,
    Decree 644 p. 16); a number already taken is refused (409)."""
    contract, first = data.domain()
    return await contract_store.create_contract(ctx.conn, contract, first, user_id=ctx.principal.user_id)


@get("/api/legal/contracts/{contract_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_contract(ctx: Ctx, contract_id: int, on: Day = "") -> dict[str, Any]:
    """The card: the terms in force on `on` and their history, sites with points, meters, sub-subscribers."""
    return await contract_card(ctx.conn, contract_id, _on(on))


@patch("/api/legal/contracts/{contract_id:int}", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def update_contract(ctx: Ctx, contract_id: int, data: ContractPatch) -> dict[str, Any]:
    """Status (draft → active → terminated; terminating needs the last day), the last day, the note."""
    return await contract_store.update_contract(ctx.conn, contract_id, status=data.status, valid_to=data.valid_to,
                                                note=data.note)


@get("/api/legal/contracts/{contract_id:int}/terms", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def contract_terms(ctx: Ctx, contract_id: int, on: Day = "") -> dict[str, Any]:
    """The version of the terms in force on `on` (404 before the contract's first day)."""
    return await contract_store.terms_on(ctx.conn, contract_id, _on(on) or date.today())


@post("/api/legal/contracts/{contract_id:int}/versions", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def add_version(ctx: Ctx, contract_id: int, data: VersionBody) -> dict[str, Any]:
    """An addendum: new terms from `valid_from` until a later version starts."""
    return await contract_store.add_version(ctx.conn, contract_id, data.domain(), user_id=ctx.principal.user_id)


@post("/api/legal/contracts/{contract_id:int}/objects", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def add_object(ctx: Ctx, contract_id: int, data: ObjectBody) -> dict[str, Any]:
    return await sites_store.add_object(ctx.conn, contract_id, data.domain(), user_id=ctx.principal.user_id)


@post("/api/legal/contracts/{contract_id:int}/points", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def add_point(ctx: Ctx, contract_id: int, data: PointBody) -> dict[str, Any]:
    """A connection point of one of the contract's objects (a supply point states its pipe diameter)."""
    return await sites_store.add_point(ctx.conn, contract_id, data.domain(), user_id=ctx.principal.user_id)


@post("/api/legal/points/{point_id:int}/subs", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def add_sub(ctx: Ctx, point_id: int, data: SubBody) -> dict[str, Any]:
    """A sub-subscriber whose volume is deducted from the point's."""
    return await sites_store.add_sub(ctx.conn, point_id, data.domain(), user_id=ctx.principal.user_id)


@post("/api/legal/points/{point_id:int}/meters", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def install_meter(ctx: Ctx, point_id: int, data: MeterBody) -> dict[str, Any]:
    """A commercial meter on the point (the existing meter model; the point becomes metered)."""
    return await point_meters.install_point_meter(ctx.conn, point_id, data.domain())


@post("/api/legal/meters/{meter_id:int}/readings", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def add_reading(ctx: Ctx, meter_id: int, data: ReadingBody) -> dict[str, Any]:
    """A reading of a point's meter, validated as any reading (status accepted, flagged or rejected)."""
    return await point_meters.add_point_reading(ctx.conn, meter_id, read_on=data.read_on, value=data.value,
                                                user_id=ctx.principal.user_id)


ROUTES = [list_contracts, create_contract, get_contract, update_contract, contract_terms, add_version, add_object,
          add_point, add_sub, install_meter, add_reading]
