"""Meters (install, replace, failure, update) and readings (enter, confirm, list) — the "accounts"
permission. Refusals come from billing_core as DomainError (422 / 404 / 409, `period_closed` for a change
dated inside a closed period).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import get, patch, post

from aquabill.billing_core.metering import meters as meter_repo
from aquabill.billing_core.metering import reading_entry
from aquabill.platform.web.billing.fields import (
    ACC_EDIT,
    ACC_VIEW,
    Short,
    Status,
)
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, Search, page


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
    list_meters, get_meter, install_meter, update_meter, replace_meter, mark_meter_failed, meter_readings, add_reading, list_readings, confirm_reading,
]
