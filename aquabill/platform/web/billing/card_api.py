"""The account card and what hangs on an account: dated parameters, residents, absences (the "accounts"
permission). Refusals come from billing_core as DomainError (422 / 404 / 409, `period_closed` for a change
dated inside a closed period).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import delete, get, patch, post
from litestar.params import Parameter

from aquabill.base.errors import found
from aquabill.billing_core.registry import absences, account_parameters, card, residents
from aquabill.billing_core.registry.queries import require_account
from aquabill.platform.web.billing.fields import (
    ACC_EDIT,
    ACC_VIEW,
    Code,
    Text,
)
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import page


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


@get("/api/accounts/{account_id:int}/card", dependencies=DEPS, guards=ACC_VIEW, tags=["accounts"])
async def account_card(ctx: Ctx, account_id: int, readings: Annotated[int, Parameter(ge=1, le=200)] = 20,
                       months: Annotated[int, Parameter(ge=1, le=120)] = 12) -> dict:
    """Address, parameters (in force and history), residents, absences, meters with their latest accepted
    reading, the latest `readings` readings and charges of the latest `months` months."""
    return found(await card.full_card(ctx.conn, account_id, readings=readings, charge_months=months), "Лицевой счёт не найден")


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


ROUTES = [
    account_card, set_parameter, list_residents, add_resident, update_resident, delete_resident, list_absences, add_absence, delete_absence,
]
