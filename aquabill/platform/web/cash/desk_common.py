"""What the cash desk's pages and API share: the day of settlement (the organisation's local date), the cash
point the cashier works at (remembered in a cookie), waking the point's agent after commit, the key of a sale
(a UUID the page or the API client makes), and the desk's state for a point (shift, totals, receipts)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request

from aquabill.base.errors import Invalid, NotFound
from aquabill.cash import receipts, shifts
from aquabill.channels.edge.wake import wake
from aquabill.platform.web.context import TenantScope

POINT_COOKIE = "aquabill_cash_point"
VIEW_RESOURCE = "cash"
RECEIPTS_ON_DESK = 30


def rub(value: Decimal | str) -> str:
    """A sum for a Russian sentence: 1234.5 → «1 234,50»."""
    return f"{Decimal(value):,.2f}".replace(",", "\u202f").replace(".", ",")


def today(ctx: TenantScope) -> date:
    """The day of settlement: today in the organisation's time zone (the receipts' and payments' date)."""
    return datetime.now(ZoneInfo(ctx.core.settings.timezone)).date()


def wake_after_commit(ctx: TenantScope, agent_id: int | None) -> None:
    """The agent looks at its queue as soon as the request's transaction has committed."""
    if agent_id is None:
        return

    async def _wake() -> None:
        await wake(ctx.core, ctx.tenant, agent_id)

    ctx.after_commit(_wake)


def parse_key(raw: Any, field: str = "key") -> uuid.UUID:
    """The client's idempotency key of a sale or refund: a UUID."""
    try:
        return uuid.UUID(str(raw).strip())
    except (ValueError, AttributeError) as exc:
        raise Invalid("Ключ операции: ожидается UUID (его создаёт страница или программа-клиент)",
                      field=field) from exc


def remembered_point(request: Request, points: list[dict[str, Any]], asked: int = 0) -> dict[str, Any] | None:
    """The cash point asked for, else the one remembered in the cookie, else the only one there is."""
    by_id = {p["id"]: p for p in points}
    if asked in by_id:
        return by_id[asked]
    raw = request.cookies.get(POINT_COOKIE, "")
    if raw.isdigit() and int(raw) in by_id:
        return by_id[int(raw)]
    return points[0] if len(points) == 1 else None


async def point_or_default(ctx: TenantScope, request: Request, point_id: int | None) -> int:
    """The cash point an API call means: the one asked for, else the one the desk page remembers (its cookie),
    else the only active one; otherwise a clear refusal (several points: say which; none: nothing to show)."""
    if point_id is not None:
        return point_id
    points = await shifts.list_points(ctx.conn)
    chosen = remembered_point(request, points)
    if chosen is None:
        if points:
            raise Invalid("Касс несколько: укажите кассу (point_id)", field="point_id")
        raise NotFound("Нет ни одной действующей кассы", field="point_id")
    return chosen["id"]


async def desk_state(ctx: TenantScope, point_id: int) -> dict[str, Any]:
    """The point's shift (the current one, else the last), its totals and its latest receipts."""
    shift = await shifts.current_shift(ctx.conn, point_id) or await shifts.last_shift(ctx.conn, point_id)
    items: list[dict[str, Any]] = []
    totals = None
    if shift is not None:
        items, _ = await receipts.list_receipts(ctx.conn, shift_id=shift["id"], limit=RECEIPTS_ON_DESK)
        totals = (await shifts.shift_totals(ctx.conn, [shift["id"]]))[shift["id"]]
    return {"shift": shift, "totals": totals, "receipts": items}
