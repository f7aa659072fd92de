"""The cash book (form КО-4, OKUD 0310004; Bank of Russia Directive 3210-U of 11.03.2014 p. 4.6): per cash point
and day, the balance at the start of the day, that day's cash orders (ПКО in, РКО out) in order, the day's
totals and the balance at its end; the book balances when opening + Σ in − Σ out = closing. The cash balance
limit of the point (cash_points.cash_limit, Directive 3210-U p. 2) is shown against the closing balance
(0: no limit set)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.cash.orders import cash_on_hand, list_orders
from aquabill.cash.shifts import get_point

ZERO = Decimal("0.00")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def check_day(day: date, field: str = "day") -> date:
    """A day the book can have (a typo such as year 0001 is refused, not computed with)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(f"Дата {day:%d.%m.%Y} вне допустимого диапазона (2000–2100 годы)", field=field)
    return day


async def cash_book(conn: AsyncConnection, point_id: int, day: date) -> dict[str, Any]:
    """The book's sheet of a point and day (see the module's docstring)."""
    check_day(day)
    point = await get_point(conn, point_id)
    opening = await cash_on_hand(conn, point_id, date.fromordinal(day.toordinal() - 1))
    orders = await list_orders(conn, point_id=point_id, day_from=day, day_to=day)
    received = sum((o["amount"] for o in orders if o["kind"] == "in"), ZERO)
    paid_out = sum((o["amount"] for o in orders if o["kind"] == "out"), ZERO)
    closing = opening + received - paid_out
    limit = Decimal(point["cash_limit"])
    return {"point": point, "day": day, "opening": opening, "orders": orders, "received": received,
            "paid_out": paid_out, "closing": closing, "limit": limit,
            "over_limit": limit > 0 and closing > limit, "count_in": sum(o["kind"] == "in" for o in orders),
            "count_out": sum(o["kind"] == "out" for o in orders)}


async def book_days(conn: AsyncConnection, point_id: int, *, limit: int = 31) -> list[date]:
    """The latest days of the point that have cash orders (the book's sheets), newest first."""
    return list((await conn.execute(text(
        "SELECT DISTINCT ordered_on FROM cash_orders WHERE cash_point_id = :p ORDER BY ordered_on DESC LIMIT :l"),
        {"p": point_id, "l": limit})).scalars())
