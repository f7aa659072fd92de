"""`/cash/book` — the cash book (КО-4) of a cash point for a day: the balance at the start, the day's ПКО / РКО, the
totals and the balance at the end, the point's cash limit; printable (the print CSS of static/cash.css). A cash
order is written by hand from it (РКО «Сдача выручки в банк», «Инкассация», …; ПКО). Resource "cash": view to
read, edit to write an order.

API: `GET /api/cash/book?point_id=N&day=ГГГГ-ММ-ДД`, `GET /api/cash/orders?point_id=N&day_from=…&day_to=…`,
`POST /api/cash/orders {"kind": "out", "point_id", "day", "amount", "basis", "person"}`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid
from aquabill.cash import orders, shifts
from aquabill.cash.book import book_days, cash_book, check_day
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.cash.desk_common import point_or_default, remembered_point, today
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt, or_none, parse_amount, parse_date, parse_id, parse_text
from aquabill.platform.web.paging import INT4_MAX

VIEW, EDIT = [requires("cash", "view")], [requires("cash", "edit")]
TAGS = ["cash"]
OptId = Annotated[int, Parameter(ge=0, le=INT4_MAX)]
DayText = Annotated[str, Parameter(max_length=10)]
RowId = Annotated[int, msgspec.Meta(ge=1, le=INT4_MAX)]
PointQuery = Annotated[int | None, Parameter(ge=1, le=INT4_MAX, description="Касса")]
MAX_RANGE_DAYS = 366


class OrderForm(msgspec.Struct):
    point_id: str = ""
    day: str = ""
    kind: str = "out"
    amount: str = ""
    basis: str = ""
    person: str = ""


class OrderIn(msgspec.Struct):
    kind: Annotated[str, msgspec.Meta(pattern=r"^(in|out)$")]
    point_id: RowId
    day: date
    amount: Decimal
    basis: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    person: Annotated[str, msgspec.Meta(max_length=200)] = ""


async def _book(ctx: Ctx, request: Request, point: int, day_raw: str, *, message: str = "", notice: str = "",
                form: OrderForm | None = None) -> Template:
    points = await shifts.list_points(ctx.conn)
    chosen = remembered_point(request, points, point)
    try:
        day = check_day(parse_date(day_raw, "day") or today(ctx))
    except Invalid as exc:
        day, message = today(ctx), message or exc.message
    sheet = await cash_book(ctx.conn, chosen["id"], day) if chosen else None
    context = {"principal": ctx.principal, "tenant": ctx.tenant, "can_edit": ctx.principal.can("cash", "edit"),
               "points": points, "point": chosen, "day": day, "sheet": sheet, "message": message, "notice": notice,
               "kinds": orders.KINDS, "forms": orders.FORMS, "out_bases": orders.OUT_BASES,
               "in_bases": orders.IN_BASES, "form": form or OrderForm(day=day.isoformat()),
               "days": await book_days(ctx.conn, chosen["id"]) if chosen else [],
               "prev_day": day - timedelta(days=1), "next_day": day + timedelta(days=1)}
    return Template("cash/book.html", context=context)


@get("/cash/book", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def book_page(ctx: Ctx, request: Request, point: OptId = 0, day: DayText = "",
                    notice: Annotated[str, Parameter(max_length=200)] = "") -> Template:
    return await _book(ctx, request, point, day, notice=notice)


@post("/cash/book/orders", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def order_submit(ctx: Ctx, request: Request, data: Annotated[OrderForm, FORM]) -> Template | Redirect:
    point_id = or_none(parse_id, data.point_id, "point_id") or 0
    async with attempt(ctx) as tried:
        if not point_id:
            raise Invalid("Выберите кассу", field="point_id")
        day = parse_date(data.day, "day", required=True)
        assert day is not None
        made = await orders.create_order(ctx.conn, kind=data.kind, point_id=point_id, on=day,
                                         amount=parse_amount(data.amount), basis=parse_text(data.basis, 200),
                                         person=parse_text(data.person, 200), user_id=ctx.principal.user_id)
    if tried.refused:
        return await _book(ctx, request, point_id, data.day[:10], message=tried.message, form=data)
    notice = f"{orders.KINDS[made['kind']]} № {made['number']} на {made['amount']} ₽ записан"
    return Redirect(path="/cash/book", query_params={"point": str(point_id), "day": made["ordered_on"].isoformat(),
                                                     "notice": notice}, status_code=303)


@get("/api/cash/book", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def book_api(ctx: Ctx, request: Request, point_id: PointQuery = None,
                   day: date | None = None) -> dict[str, Any]:
    """The cash book's sheet of a point and day: opening balance, orders, totals, closing balance. Without
    `point_id`: the point the desk remembers, else the only active one (desk_common.point_or_default)."""
    return await cash_book(ctx.conn, await point_or_default(ctx, request, point_id), day or today(ctx))


@get("/api/cash/orders", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def orders_api(ctx: Ctx, request: Request, point_id: PointQuery = None, day_from: date | None = None,
                     day_to: date | None = None) -> dict[str, Any]:
    """The point's cash orders of a range of days (a year at most; default: today); the point as for the book."""
    last = day_to or today(ctx)
    first = day_from or last
    if first > last or (last - first).days > MAX_RANGE_DAYS:
        raise Invalid("Диапазон дат: начало не позже конца, не больше года", field="day_from")
    point_id = await point_or_default(ctx, request, point_id)
    await shifts.get_point(ctx.conn, point_id)
    return {"items": await orders.list_orders(ctx.conn, point_id=point_id, day_from=first, day_to=last)}


@post("/api/cash/orders", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def order_api(ctx: Ctx, data: OrderIn) -> dict[str, Any]:
    """A cash order by hand (201): its number is the next of its kind in the year."""
    return await orders.create_order(ctx.conn, kind=data.kind, point_id=data.point_id, on=data.day,
                                     amount=data.amount, basis=data.basis, person=data.person,
                                     user_id=ctx.principal.user_id)


ROUTES = [book_page, order_submit, book_api, orders_api, order_api]
