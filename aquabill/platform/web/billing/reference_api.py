"""Billing reference data: services, tariffs, norms, coefficients, parameter kinds (the "registry" permission).

Refusals come from billing_core as DomainError and are rendered by web/errors.py (422 / 404 / 409).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import get, patch, post
from litestar.params import Parameter

from aquabill.billing_core.reference import coefficients, norms, parameter_kinds, services, tariffs
from aquabill.platform.web.billing.fields import (
    REF_EDIT,
    REF_VIEW,
    Basis,
    Code,
    Text,
)
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, Search, page


class ServiceIn(msgspec.Struct):
    code: Code
    name: Text
    kind: Annotated[str, msgspec.Meta(max_length=16)]
    unit: Annotated[str, msgspec.Meta(max_length=8)] = "м³"
    sort: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 100


class ServicePatch(msgspec.Struct):
    name: Text | None = None
    active: bool | None = None
    sort: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None


class TariffIn(msgspec.Struct):
    service_id: int
    price: Decimal
    valid_from: date
    tariff_group: Code = "population"
    basis: Basis = ""  # the act that set the price (order, its date and number)


class NormIn(msgspec.Struct):
    service_id: int
    improvement: Code
    volume: Decimal
    valid_from: date
    basis: Basis = ""  # the act that set the norm


class CoefficientIn(msgspec.Struct):
    service_kind: Annotated[str, msgspec.Meta(max_length=16)]
    value: Decimal
    valid_from: date
    basis: Basis = ""


class ParameterKindIn(msgspec.Struct):
    code: Code
    name: Text
    value_type: Annotated[str, msgspec.Meta(max_length=8)] = "number"


@get("/api/services", dependencies=DEPS, guards=REF_VIEW, tags=["reference"])
async def list_services(ctx: Ctx, q: Search = "", active: bool | None = None, limit: Limit = 100,
                        offset: Offset = 0) -> dict:
    items, total = await services.list_services(ctx.conn, q, active=active, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/services", dependencies=DEPS, guards=REF_EDIT, tags=["reference"])
async def create_service(ctx: Ctx, data: ServiceIn) -> dict:
    return await services.create_service(ctx.conn, code=data.code, name=data.name, kind=data.kind, unit=data.unit,
                                         sort=data.sort)


@patch("/api/services/{service_id:int}", dependencies=DEPS, guards=REF_EDIT, tags=["reference"])
async def update_service(ctx: Ctx, service_id: int, data: ServicePatch) -> dict:
    return await services.update_service(ctx.conn, service_id, name=data.name, active=data.active, sort=data.sort)


@get("/api/tariffs", dependencies=DEPS, guards=REF_VIEW, tags=["reference"])
async def list_tariffs(ctx: Ctx, service_id: int | None = None,
                       tariff_group: Annotated[str | None, Parameter(max_length=32)] = None, q: Search = "",
                       on: date | None = None, limit: Limit = 100, offset: Offset = 0) -> dict:
    """The history of tariffs (each row valid until the next one of its service and group starts)."""
    items, total = await tariffs.list_tariffs(ctx.conn, service_id=service_id, tariff_group=tariff_group, q=q,
                                              on=on, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/tariffs", dependencies=DEPS, guards=REF_EDIT, tags=["reference"])
async def add_tariff(ctx: Ctx, data: TariffIn) -> dict:
    """A new tariff from a date with the act that set it; the same date again corrects that value and/or basis
    (earlier rows stay)."""
    return await tariffs.set_tariff(ctx.conn, service_id=data.service_id, tariff_group=data.tariff_group,
                                    price=data.price, valid_from=data.valid_from, basis=data.basis)


@get("/api/norms", dependencies=DEPS, guards=REF_VIEW, tags=["reference"])
async def list_norms(ctx: Ctx, service_id: int | None = None,
                     improvement: Annotated[str | None, Parameter(max_length=32)] = None, q: Search = "",
                     on: date | None = None, limit: Limit = 100, offset: Offset = 0) -> dict:
    items, total = await norms.list_norms(ctx.conn, service_id=service_id, improvement=improvement, q=q, on=on,
                                          limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/norms", dependencies=DEPS, guards=REF_EDIT, tags=["reference"])
async def add_norm(ctx: Ctx, data: NormIn) -> dict:
    return await norms.set_norm(ctx.conn, service_id=data.service_id, improvement=data.improvement,
                                volume=data.volume, valid_from=data.valid_from, basis=data.basis)


@get("/api/coefficients", dependencies=DEPS, guards=REF_VIEW, tags=["reference"])
async def list_coefficients(ctx: Ctx, service_kind: Annotated[str | None, Parameter(max_length=16)] = None,
                            on: date | None = None) -> dict:
    """Per service kind: federal and tenant rows, the resulting timeline and the value in force."""
    items = await coefficients.list_coefficients(ctx.conn, service_kind, on=on)
    return page(items, len(items), len(items), 0)


@post("/api/coefficients", dependencies=DEPS, guards=REF_EDIT, tags=["reference"])
async def add_coefficient(ctx: Ctx, data: CoefficientIn) -> dict:
    """The tenant's own coefficient from a date (overrides the federal one from that date on)."""
    return await coefficients.set_override(ctx.conn, service_kind=data.service_kind, value=data.value,
                                           valid_from=data.valid_from, basis=data.basis)


@get("/api/parameter-kinds", dependencies=DEPS, guards=REF_VIEW, tags=["reference"])
async def list_parameter_kinds(ctx: Ctx, q: Search = "", limit: Limit = 100, offset: Offset = 0) -> dict:
    items, total = await parameter_kinds.list_kinds(ctx.conn, q, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/parameter-kinds", dependencies=DEPS, guards=REF_EDIT, tags=["reference"])
async def create_parameter_kind(ctx: Ctx, data: ParameterKindIn) -> dict:
    return await parameter_kinds.create_kind(ctx.conn, code=data.code, name=data.name, value_type=data.value_type)


# ---- the account card --------------------------------------------------------------------------------


ROUTES = [
    list_services, create_service, update_service, list_tariffs, add_tariff, list_norms, add_norm, list_coefficients, add_coefficient, list_parameter_kinds, create_parameter_kind,
]
