"""`/cash/shifts` — the shifts with their totals (cash, card, refunds, third parties, commission, receipts), paged
and by cash point; `/cash/shifts/{id}` — one shift, its documents and all its receipts (paged). Resource "cash",
view."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import get
from litestar.params import Parameter
from litestar.response import Template

from aquabill.cash import receipts, shifts
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import INT4_MAX, Offset

VIEW = [requires("cash", "view")]
PAGE = 30
OptId = Annotated[int, Parameter(ge=0, le=INT4_MAX)]


def _context(ctx: Ctx, **kw):
    return {"principal": ctx.principal, "tenant": ctx.tenant, "can_edit": ctx.principal.can("cash", "edit"),
            "shift_statuses": shifts.STATUSES, "receipt_statuses": receipts.STATUSES, "tenders": receipts.TENDERS,
            "operations": receipts.OPERATIONS, "new_key": lambda: str(uuid.uuid4()), **kw}


@get("/cash/shifts", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def shifts_page(ctx: Ctx, point: OptId = 0, offset: Offset = 0) -> Template:
    items, total = await shifts.list_shifts(ctx.conn, point_id=point or None, limit=PAGE, offset=offset)
    return Template("cash/desk_shifts.html", context=_context(
        ctx, items=items, total=total, offset=offset, limit=PAGE, point=point,
        points=await shifts.list_points(ctx.conn)))


@get("/cash/shifts/{cash_shift_id:int}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def shift_page(ctx: Ctx, cash_shift_id: int, offset: Offset = 0) -> Template:
    shift = await shifts.get_shift(ctx.conn, cash_shift_id)
    items, total = await receipts.list_receipts(ctx.conn, shift_id=cash_shift_id, limit=PAGE, offset=offset)
    return Template("cash/desk_shift.html", context=_context(
        ctx, shift=shift, totals=(await shifts.shift_totals(ctx.conn, [cash_shift_id]))[cash_shift_id], items=items,
        total=total, offset=offset, limit=PAGE))


ROUTES = [shifts_page, shift_page]
