"""Billing reference data (services, tariffs, norms, coefficients, parameter kinds) and the account card
(parameters, residents, absences, meters, readings).

Permissions: reference data is the "registry" resource, everything on an account is "accounts".
Refusals come from billing_core as BillingError and are rendered by web/errors.py (422 / 404 / 409,
`period_closed` for a change dated inside a closed period).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import delete, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter

from aquabill.base.errors import NotFound
from aquabill.billing_core.metering import meters as meter_repo
from aquabill.billing_core.metering import reading_entry
from aquabill.billing_core.reference import coefficients, norms, parameter_kinds, services, tariffs
from aquabill.billing_core.registry import absences, account_parameters, card, residents
from aquabill.billing_core.registry.queries import require_account
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import Ctx, provide_tenant_scope
from aquabill.platform.web.paging import Limit, Offset, Search, page

DEPS = {"ctx": Provide(provide_tenant_scope)}
REF_VIEW, REF_EDIT = [requires("registry", "view")], [requires("registry", "edit")]
ACC_VIEW, ACC_EDIT = [requires("accounts", "view")], [requires("accounts", "edit")]

Text = Annotated[str, msgspec.Meta(max_length=300)]
Code = Annotated[str, msgspec.Meta(max_length=32)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
Status = Annotated[str | None, Parameter(max_length=16, description="accepted | flagged | rejected")]


# ---- bodies ------------------------------------------------------------------------------------------

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


class NormIn(msgspec.Struct):
    service_id: int
    improvement: Code
    volume: Decimal
    valid_from: date


class CoefficientIn(msgspec.Struct):
    service_kind: Annotated[str, msgspec.Meta(max_length=16)]
    value: Decimal
    valid_from: date
    basis: Text = ""


class ParameterKindIn(msgspec.Struct):
    code: Code
    name: Text
    value_type: Annotated[str, msgspec.Meta(max_length=8)] = "number"


class ParameterIn(msgspec.Struct):
    kind: Code
    value: Annotated[str, msgspec.Meta(max_length=500)] | int | float
    valid_from: date


class ResidentIn(msgspec.Struct):
    full_name: Text
    registered_from: date
    kind: Annotated[str, msgspec.Meta(max_length=12)] = "permanent"
    birth_date: date | None = None
    registered_to: date | None = None


class ResidentPatch(msgspec.Struct):
    """Only the fields sent change; `"registered_to": "2024-05-31"` deregisters, `null` undoes it."""

    full_name: Text | msgspec.UnsetType = msgspec.UNSET
    birth_date: date | None | msgspec.UnsetType = msgspec.UNSET
    kind: Annotated[str, msgspec.Meta(max_length=12)] | msgspec.UnsetType = msgspec.UNSET
    registered_from: date | msgspec.UnsetType = msgspec.UNSET
    registered_to: date | None | msgspec.UnsetType = msgspec.UNSET


class AbsenceIn(msgspec.Struct):
    date_from: date
    date_to: date
    persons: int = 1
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class MeterIn(msgspec.Struct):
    """A meter on an account (`account_id`) or a building meter on a house (`house_id`)."""

    service_id: int
    serial: Short
    installed_on: date
    account_id: int | None = None
    house_id: int | None = None
    kind: Annotated[str, msgspec.Meta(max_length=12)] | None = None  # default: building for a house
    digits: int = 5
    fraction_digits: int = 3
    initial_reading: Decimal = Decimal(0)
    verified_until: date | None = None
    seal_number: Short | None = None
    sealed_on: date | None = None
    reversible: bool = False


class ReplaceIn(msgspec.Struct):
    """The replacement act: the old meter's removal with its final reading, the new meter's data."""

    removed_on: date
    final_reading: Decimal
    serial: Short
    installed_on: date | None = None  # default: the removal day
    initial_reading: Decimal = Decimal(0)
    digits: int | None = None  # default: as the old meter
    fraction_digits: int | None = None
    verified_until: date | None = None
    seal_number: Short | None = None
    sealed_on: date | None = None
    reversible: bool | None = None


class FailureIn(msgspec.Struct):
    failed_on: date


class MeterPatch(msgspec.Struct):
    verified_until: date | None = None
    seal_number: Short | None = None
    sealed_on: date | None = None


class ReadingIn(msgspec.Struct):
    read_on: date
    value: Decimal
    source: Annotated[str, msgspec.Meta(max_length=16)] = "operator"


# ---- reference data ----------------------------------------------------------------------------------

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
    """A new tariff from a date; the same date again corrects that value (earlier rows stay)."""
    return await tariffs.set_tariff(ctx.conn, service_id=data.service_id, tariff_group=data.tariff_group,
                                    price=data.price, valid_from=data.valid_from)


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
                                volume=data.volume, valid_from=data.valid_from)


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

@get("/api/accounts/{account_id:int}/card", dependencies=DEPS, guards=ACC_VIEW, tags=["accounts"])
async def account_card(ctx: Ctx, account_id: int, readings: Annotated[int, Parameter(ge=1, le=200)] = 20,
                       months: Annotated[int, Parameter(ge=1, le=120)] = 12) -> dict:
    """Address, parameters (in force and history), residents, absences, meters with their latest accepted
    reading, the latest `readings` readings and charges of the latest `months` months."""
    found = await card.full_card(ctx.conn, account_id, readings=readings, charge_months=months)
    if found is None:
        raise NotFound("Лицевой счёт не найден")
    return found


@post("/api/accounts/{account_id:int}/parameters", dependencies=DEPS, guards=ACC_EDIT, tags=["accounts"])
async def set_parameter(ctx: Ctx, account_id: int, data: ParameterIn) -> dict:
    """A parameter value from a date; the history is kept (the previous value ends the day before)."""
    return await account_parameters.set_account_parameter(ctx.conn, account_id, kind=data.kind,
                                                          value=str(data.value), valid_from=data.valid_from)


@get("/api/accounts/{account_id:int}/residents", dependencies=DEPS, guards=ACC_VIEW, tags=["accounts"])
async def list_residents(ctx: Ctx, account_id: int) -> dict:
    await require_account(ctx.conn, account_id)
    items = await residents.list_residents(ctx.conn, account_id)
    return page(items, len(items), len(items), 0)


@post("/api/accounts/{account_id:int}/residents", dependencies=DEPS, guards=ACC_EDIT, tags=["accounts"])
async def add_resident(ctx: Ctx, account_id: int, data: ResidentIn) -> dict:
    return await residents.add_resident(ctx.conn, account_id, full_name=data.full_name, kind=data.kind,
                                        birth_date=data.birth_date, registered_from=data.registered_from,
                                        registered_to=data.registered_to)


@patch("/api/residents/{resident_id:int}", dependencies=DEPS, guards=ACC_EDIT, tags=["accounts"])
async def update_resident(ctx: Ctx, resident_id: int, data: ResidentPatch) -> dict:
    changes = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not msgspec.UNSET}
    return await residents.update_resident(ctx.conn, resident_id, changes)


@delete("/api/residents/{resident_id:int}", dependencies=DEPS, guards=ACC_EDIT, tags=["accounts"])
async def delete_resident(ctx: Ctx, resident_id: int) -> None:
    """Remove an entry made by mistake; a departure is `PATCH {"registered_to": …}`."""
    await residents.delete_resident(ctx.conn, resident_id)


@get("/api/accounts/{account_id:int}/absences", dependencies=DEPS, guards=ACC_VIEW, tags=["accounts"])
async def list_absences(ctx: Ctx, account_id: int) -> dict:
    await require_account(ctx.conn, account_id)
    items = await absences.list_absences(ctx.conn, account_id)
    return page(items, len(items), len(items), 0)


@post("/api/accounts/{account_id:int}/absences", dependencies=DEPS, guards=ACC_EDIT, tags=["accounts"])
async def add_absence(ctx: Ctx, account_id: int, data: AbsenceIn) -> dict:
    return await absences.add_absence(ctx.conn, account_id, date_from=data.date_from, date_to=data.date_to,
                                      persons=data.persons, reason=data.reason)


@delete("/api/absences/{absence_id:int}", dependencies=DEPS, guards=ACC_EDIT, tags=["accounts"])
async def delete_absence(ctx: Ctx, absence_id: int) -> None:
    await absences.delete_absence(ctx.conn, absence_id)


# ---- meters and readings -----------------------------------------------------------------------------

@get("/api/meters", dependencies=DEPS, guards=ACC_VIEW, tags=["meters"])
async def list_meters(ctx: Ctx, q: Search = "", account_id: int | None = None, house_id: int | None = None,
                      installed: bool | None = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    """Search by serial number (any part) or account number (prefix)."""
    items, total = await meter_repo.list_meters(ctx.conn, q, account_id=account_id, house_id=house_id,
                                                installed=installed, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/meters/{meter_id:int}", dependencies=DEPS, guards=ACC_VIEW, tags=["meters"])
async def get_meter(ctx: Ctx, meter_id: int) -> dict:
    return await meter_repo.get_meter(ctx.conn, meter_id)


@post("/api/meters", dependencies=DEPS, guards=ACC_EDIT, tags=["meters"])
async def install_meter(ctx: Ctx, data: MeterIn) -> dict:
    kind = data.kind or ("building" if data.house_id is not None and data.account_id is None else "individual")
    spec = meter_repo.MeterInstall(
        serial=data.serial, installed_on=data.installed_on, digits=data.digits, fraction_digits=data.fraction_digits,
        initial_reading=data.initial_reading, verified_until=data.verified_until, seal_number=data.seal_number,
        sealed_on=data.sealed_on, reversible=data.reversible)
    return await meter_repo.install_meter(ctx.conn, spec, service_id=data.service_id, kind=kind,
                                          account_id=data.account_id, house_id=data.house_id)


@patch("/api/meters/{meter_id:int}", dependencies=DEPS, guards=ACC_EDIT, tags=["meters"])
async def update_meter(ctx: Ctx, meter_id: int, data: MeterPatch) -> dict:
    """A new verification date and/or seal (number and date together)."""
    return await meter_repo.update_verification(ctx.conn, meter_id, verified_until=data.verified_until,
                                                seal_number=data.seal_number, sealed_on=data.sealed_on)


@post("/api/meters/{meter_id:int}/replace", dependencies=DEPS, guards=ACC_EDIT, tags=["meters"])
async def replace_meter(ctx: Ctx, meter_id: int, data: ReplaceIn) -> dict:
    """The meter replacement act. Returns the old meter (removed), the new one and the final reading."""
    old = await meter_repo.get_meter(ctx.conn, meter_id)
    spec = meter_repo.MeterInstall(
        serial=data.serial, installed_on=data.installed_on or data.removed_on,
        digits=data.digits if data.digits is not None else old["digits"],
        fraction_digits=data.fraction_digits if data.fraction_digits is not None else old["fraction_digits"],
        initial_reading=data.initial_reading, verified_until=data.verified_until, seal_number=data.seal_number,
        sealed_on=data.sealed_on, reversible=data.reversible if data.reversible is not None else old["reversible"])
    return await meter_repo.replace_meter(ctx.conn, meter_id, removed_on=data.removed_on,
                                          final_reading=data.final_reading, new=spec,
                                          user_id=ctx.principal.user_id)


@post("/api/meters/{meter_id:int}/failure", dependencies=DEPS, guards=ACC_EDIT, tags=["meters"], status_code=200)
async def mark_meter_failed(ctx: Ctx, meter_id: int, data: FailureIn) -> dict:
    return await meter_repo.mark_failed(ctx.conn, meter_id, data.failed_on)


@get("/api/meters/{meter_id:int}/readings", dependencies=DEPS, guards=ACC_VIEW, tags=["meters"])
async def meter_readings(ctx: Ctx, meter_id: int, status: Status = None, limit: Limit = 50,
                         offset: Offset = 0) -> dict:
    await meter_repo.get_meter(ctx.conn, meter_id)
    items, total = await reading_entry.list_readings(ctx.conn, meter_id=meter_id, status=status, limit=limit,
                                                     offset=offset)
    return page(items, total, limit, offset)


@post("/api/meters/{meter_id:int}/readings", dependencies=DEPS, guards=ACC_EDIT, tags=["meters"])
async def add_reading(ctx: Ctx, meter_id: int, data: ReadingIn) -> dict:
    """The reading is stored with its status: accepted, flagged (held until confirmed) or rejected, with the
    reason; sending the same reading again answers with the stored one (`duplicate: true`)."""
    return await reading_entry.add_reading(ctx.conn, meter_id, read_on=data.read_on, value=data.value,
                                           source=data.source, user_id=ctx.principal.user_id)


@get("/api/readings", dependencies=DEPS, guards=ACC_VIEW, tags=["meters"])
async def list_readings(ctx: Ctx, status: Status = None, q: Search = "", account_id: int | None = None,
                        meter_id: int | None = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    """Readings, newest first; `?status=flagged` is the queue awaiting confirmation."""
    items, total = await reading_entry.list_readings(ctx.conn, meter_id=meter_id, account_id=account_id,
                                                     status=status, q=q, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/readings/{reading_id:int}/confirm", dependencies=DEPS, guards=ACC_EDIT, tags=["meters"],
      status_code=200)
async def confirm_reading(ctx: Ctx, reading_id: int) -> dict:
    """Accept a flagged reading after checking it (validated again; recorded in the audit log)."""
    return await reading_entry.confirm_reading(ctx.conn, reading_id)


ROUTES = [
    list_services, create_service, update_service, list_tariffs, add_tariff, list_norms, add_norm,
    list_coefficients, add_coefficient, list_parameter_kinds, create_parameter_kind,
    account_card, set_parameter, list_residents, add_resident, update_resident, delete_resident,
    list_absences, add_absence, delete_absence,
    list_meters, get_meter, install_meter, update_meter, replace_meter, mark_meter_failed, meter_readings,
    add_reading, list_readings, confirm_reading,
]
