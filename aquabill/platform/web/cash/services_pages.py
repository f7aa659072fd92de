"""`/cash/services` — third parties' services the cash desk takes money for as a payment agent (вывоз ТКО,
домофон, …): the supplier's name, INN (checked) and phone, the commission (percent, minimum). Resource "cash":
view to see, admin to change. API: `GET /api/cash/services`, `POST /api/cash/services`,
`PUT /api/cash/services/{id}`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import get, post, put
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid
from aquabill.cash.services import ServiceIn, get_service, list_services, save_service
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt, parse_amount, parse_id, parse_text
from aquabill.platform.web.paging import INT4_MAX

VIEW, ADMIN = [requires("cash", "view")], [requires("cash", "admin")]
TAGS = ["cash"]
Percent = Decimal  # checked by cash.services.checked
MinFee = Decimal


class ServiceBody(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=32)]
    name: Annotated[str, msgspec.Meta(max_length=200)]
    supplier_name: Annotated[str, msgspec.Meta(max_length=256)]
    supplier_inn: Annotated[str, msgspec.Meta(max_length=12)]
    supplier_phone: Annotated[str, msgspec.Meta(max_length=19)] = ""
    commission_percent: Percent = Decimal("0")
    commission_min: MinFee = Decimal("0")
    active: bool = True

    def domain(self) -> ServiceIn:
        return ServiceIn(**{f: getattr(self, f) for f in self.__struct_fields__})


class ServiceForm(msgspec.Struct):
    service_id: str = ""
    code: str = ""
    name: str = ""
    supplier_name: str = ""
    supplier_inn: str = ""
    supplier_phone: str = ""
    commission_percent: str = ""
    commission_min: str = ""
    active: str = ""


async def _page(ctx: Ctx, *, message: str = "", notice: str = "", form: ServiceForm | None = None,
                edit: int = 0) -> Template:
    items = await list_services(ctx.conn)
    editing = next((s for s in items if s["id"] == edit), None)
    return Template("cash/services.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "can_admin": ctx.principal.can("cash", "admin"),
        "items": items, "message": message, "notice": notice, "form": form, "editing": editing})


@get("/cash/services", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def services_page(ctx: Ctx, edit: Annotated[int, Parameter(ge=0, le=INT4_MAX)] = 0,
                        notice: Annotated[str, Parameter(max_length=200)] = "") -> Template:
    return await _page(ctx, edit=edit, notice=notice)


@post("/cash/services", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def service_submit(ctx: Ctx, data: Annotated[ServiceForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        service_id = parse_id(data.service_id, "service_id")
        saved = await save_service(ctx.conn, service_id, ServiceIn(
            code=parse_text(data.code, 32), name=parse_text(data.name, 200),
            supplier_name=parse_text(data.supplier_name, 256), supplier_inn=parse_text(data.supplier_inn, 12),
            supplier_phone=parse_text(data.supplier_phone, 19),
            commission_percent=_number(data.commission_percent, "commission_percent"),
            commission_min=_number(data.commission_min, "commission_min"), active=bool(data.active)))
    if tried.refused:
        return await _page(ctx, message=tried.message, form=data)
    return Redirect(path="/cash/services", query_params={"notice": f"Услуга «{saved['name']}» сохранена"},
                    status_code=303)


def _number(raw: str, field: str) -> Decimal:
    value = parse_amount(raw, field)
    if value is None:
        return Decimal("0")
    if value < 0:
        raise Invalid("Значение не может быть отрицательным", field=field)
    return value


@get("/api/cash/services", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def services_api(ctx: Ctx) -> dict[str, Any]:
    """Third parties' services with their suppliers and commission."""
    return {"items": await list_services(ctx.conn)}


@post("/api/cash/services", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def create_service_api(ctx: Ctx, data: ServiceBody) -> dict[str, Any]:
    """A new third party's service (201); the supplier's INN must have valid control digits."""
    return await save_service(ctx.conn, None, data.domain())


@put("/api/cash/services/{cash_service_id:int}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def update_service_api(ctx: Ctx, cash_service_id: int, data: ServiceBody) -> dict[str, Any]:
    await get_service(ctx.conn, cash_service_id)
    return await save_service(ctx.conn, cash_service_id, data.domain())


ROUTES = [services_page, service_submit, services_api, create_service_api, update_service_api]
