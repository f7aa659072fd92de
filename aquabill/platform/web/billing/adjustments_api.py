"""Adjustments of charges over the API: one-off charges (with a preview of the spread), storno, and
installment agreements. Permission resource "billing" (view to read, edit to change).

Refusals come from billing_core as DomainError (422 / 404 / 409, `period_closed` for a closed period).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Response, get, post
from litestar.params import Parameter

from aquabill.base.errors import Invalid
from aquabill.billing_core import adjustments
from aquabill.billing_core.periods import Period
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, page

VIEW, EDIT = [requires("billing", "view")], [requires("billing", "edit")]
TAGS = ["billing"]

PeriodStr = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]
PeriodQuery = Annotated[str | None, Parameter(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]
Note = Annotated[str, msgspec.Meta(max_length=500)]


class OneOffIn(msgspec.Struct):
    """`basis`: `area` / `residents` — spread `total` (or charge `rate` ₽ per m² / per person) over the
    accounts of `house_id` (none: of the whole organisation); `account` — `total` to `account_id`.
    `dry_run`: only show the spread."""

    period: PeriodStr
    service_id: int
    basis: Annotated[str, msgspec.Meta(max_length=12)]
    house_id: int | None = None
    account_id: int | None = None
    total: Decimal | None = None
    rate: Decimal | None = None
    note: Note = ""
    dry_run: bool = False


class StornoIn(msgspec.Struct):
    """One of: `charge_id`; `account_id` + `period` (+ `service_id`); `one_off_id`."""

    charge_id: int | None = None
    account_id: int | None = None
    period: PeriodStr | None = None
    service_id: int | None = None
    one_off_id: int | None = None
    note: Note = ""


class AgreementIn(msgspec.Struct):
    account_id: int
    number: Annotated[str, msgspec.Meta(max_length=32)]
    signed_on: date
    debt: Decimal
    months: int
    first_period: PeriodStr
    service_id: int | None = None  # default: the first active service
    note: Note = ""


class CancelIn(msgspec.Struct):
    cancelled_on: date | None = None  # default: today
    note: Note = ""


def _period(raw: str, field: str = "period") -> Period:
    try:
        return Period.parse(raw)
    except ValueError as exc:
        raise Invalid(str(exc), fields=[{"field": field, "message": str(exc)}]) from exc


# ---- one-off charges ---------------------------------------------------------------------------------

@post("/api/billing/one-off-charges", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_one_off(ctx: Ctx, data: OneOffIn) -> Response[dict]:
    """Post a one-off charge document (201) or, with `dry_run`, show its spread without posting (200)."""
    doc = adjustments.OneOff(period=_period(data.period), service_id=data.service_id, basis=data.basis,
                             house_id=data.house_id, account_id=data.account_id, total=data.total, rate=data.rate,
                             note=data.note)
    result = await adjustments.create_one_off(ctx.conn, doc, dry_run=data.dry_run)
    return Response(result, status_code=200 if data.dry_run else 201)


@get("/api/billing/one-off-charges", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_one_offs(ctx: Ctx, period: PeriodQuery = None, house_id: int | None = None,
                        account_id: int | None = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await adjustments.list_one_offs(ctx.conn, period=_period(period) if period else None,
                                                   house_id=house_id, account_id=account_id, limit=limit,
                                                   offset=offset)
    return page(items, total, limit, offset)


@get("/api/billing/one-off-charges/{one_off_charge_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_one_off(ctx: Ctx, one_off_charge_id: int) -> dict:
    """The document with its rows (each with the storno row that reversed it, if any)."""
    return await adjustments.get_one_off(ctx.conn, one_off_charge_id)


# ---- storno ------------------------------------------------------------------------------------------

@post("/api/billing/storno", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def storno(ctx: Ctx, data: StornoIn) -> dict:
    """Reverse charge rows with new 'storno' rows (the originals are never changed)."""
    return await adjustments.storno(ctx.conn, charge_id=data.charge_id, account_id=data.account_id,
                                    period=_period(data.period) if data.period else None,
                                    service_id=data.service_id, one_off_id=data.one_off_id, note=data.note)


# ---- installment agreements --------------------------------------------------------------------------

@post("/api/billing/installments", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_agreement(ctx: Ctx, data: AgreementIn) -> dict:
    """Sign an agreement: the debt leaves the account in the signing month, instalments follow monthly."""
    return await adjustments.create_agreement(
        ctx.conn, account_id=data.account_id, number=data.number, signed_on=data.signed_on, debt=data.debt,
        months=data.months, first_period=_period(data.first_period, "first_period"), service_id=data.service_id,
        note=data.note)


@get("/api/billing/installments", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_agreements(ctx: Ctx, account_id: int | None = None,
                          status: Annotated[str | None, Parameter(max_length=12,
                                                                  description="active | cancelled")] = None,
                          limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await adjustments.list_agreements(ctx.conn, account_id=account_id, status=status,
                                                     limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/billing/installments/{installment_agreement_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_agreement(ctx: Ctx, installment_agreement_id: int) -> dict:
    return await adjustments.get_agreement(ctx.conn, installment_agreement_id)


@post("/api/billing/installments/{installment_agreement_id:int}/cancel", dependencies=DEPS, guards=EDIT,
      tags=TAGS, status_code=200)
async def cancel_agreement(ctx: Ctx, installment_agreement_id: int, data: CancelIn | None = None) -> dict:
    """Drop the instalments not posted yet; the rest of the debt returns in the current open period."""
    data = data or CancelIn()
    return await adjustments.cancel_agreement(ctx.conn, installment_agreement_id,
                                              cancelled_on=data.cancelled_on or date.today(), note=data.note)


ROUTES = [create_one_off, list_one_offs, get_one_off, storno, create_agreement, list_agreements, get_agreement,
          cancel_agreement]
