"""Closed billing periods are final: a change dated inside one is refused (corrections go through a
recalculation in an open period).

A month is closed when its `periods` row has status `closed`. The rows of the months checked are locked
FOR SHARE, so a period cannot be closed while a change dated inside it is being written.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.errors import ConflictError, PeriodClosedError
from aquabill.billing_core.periods import Period


async def closed_period(conn: AsyncConnection, start: date, end: date | None = None) -> Period | None:
    """The first closed period among the months of [start, end] (end defaults to start), or None."""
    first = Period.of(start).first_day
    last = Period.of(max(start, end or start)).first_day
    rows = (await conn.execute(text(
        "SELECT period, status FROM periods WHERE period BETWEEN :a AND :b ORDER BY period FOR SHARE"),
        {"a": first, "b": last})).all()
    return next((Period.of(r.period) for r in rows if r.status == "closed"), None)


async def ensure_open(conn: AsyncConnection, day: date, *, until: date | None = None,
                      what: str = "изменение", field: str | None = None) -> None:
    """Refuse a change dated `day` (or spanning `day`..`until`) that falls into a closed period.

    `what` names the change for the message, e.g. "показание на 15.03.2024" → «Период 2024-03 закрыт:
    показание на 15.03.2024 не принимается …».
    """
    period = await closed_period(conn, day, until)
    if period is not None:
        raise PeriodClosedError(
            f"Период {period} закрыт: {what} не принимается. Изменения в закрытом периоде вносятся "
            "перерасчётом в текущем периоде.", field=field)


async def open_period(conn: AsyncConnection) -> Period | None:
    """The earliest open period (where corrections of closed periods go), locked against closing; None if none."""
    found = (await conn.execute(text(
        "SELECT period FROM periods WHERE status = 'open' ORDER BY period LIMIT 1 FOR SHARE"))).scalar()
    return Period.of(found) if found is not None else None


async def current_open_period(conn: AsyncConnection) -> Period:
    """`open_period`, refused with a clear error when there is none."""
    found = await open_period(conn)
    if found is None:
        raise ConflictError("Нет открытого расчётного периода: откройте период (выполните расчёт) и повторите")
    return found


async def start_period(conn: AsyncConnection, period: Period) -> None:
    """A month not started yet gets its (open) `periods` row."""
    await conn.execute(text("INSERT INTO periods(period) VALUES (:p) ON CONFLICT (period) DO NOTHING"),
                       {"p": period.first_day})


async def open_for_posting(conn: AsyncConnection, period: Period, *, what: str, field: str = "period") -> None:
    """Refuse a closed period (409 period_closed); a period not started yet is opened (as the run would)."""
    await ensure_open(conn, period.first_day, what=what, field=field)
    await start_period(conn, period)
