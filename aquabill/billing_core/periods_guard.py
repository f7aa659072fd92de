"""Closed billing periods are final: a change dated inside one is refused (corrections go through a
recalculation in an open period).

A month is closed when its `periods` row has status `closed` (the whole tenant), or — for a change that
names its account, house or meter — when the house's division has closed that month (`period_divisions`).
The `periods` rows of the months checked are locked FOR SHARE, so a period (or a division's month: closing
one locks the `periods` row FOR UPDATE) cannot be closed while a change dated inside it is being written.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, PeriodClosed
from aquabill.billing_core.periods import Period

# The house an account, house or meter belongs to (a building meter names its house directly).
_HOUSE_OF = {
    "account": "SELECT p.house_id FROM accounts a JOIN premises p ON p.id = a.premise_id WHERE a.id = :id",
    "house": "SELECT id FROM houses WHERE id = :id",
    "meter": "SELECT coalesce(m.house_id, p.house_id) FROM meters m LEFT JOIN accounts a ON a.id = m.account_id "
             "LEFT JOIN premises p ON p.id = a.premise_id WHERE m.id = :id",
}


async def _division_closed(conn: AsyncConnection, first: date, last: date, *, account_id: int | None,
                           house_id: int | None, meter_id: int | None) -> tuple[Period, str] | None:
    """The first month of [first, last] closed by the division of the named object's house, with its name."""
    kind, ref = next(((k, v) for k, v in (("meter", meter_id), ("account", account_id), ("house", house_id))
                      if v is not None), (None, None))
    if kind is None:
        return None
    row = (await conn.execute(text(f"""
        SELECT pd.period, d.name FROM period_divisions pd JOIN divisions d ON d.id = pd.division_id
        JOIN houses h ON h.division_id = pd.division_id
        WHERE h.id = ({_HOUSE_OF[kind]}) AND pd.status = 'closed' AND pd.period BETWEEN :a AND :b
        ORDER BY pd.period LIMIT 1"""), {"id": ref, "a": first, "b": last})).first()
    return (Period.of(row.period), row.name) if row is not None else None


async def closed_period(conn: AsyncConnection, start: date, end: date | None = None, *,
                        account_id: int | None = None, house_id: int | None = None,
                        meter_id: int | None = None) -> Period | None:
    """The first closed period among the months of [start, end] (end defaults to start), or None.

    With `account_id` / `house_id` / `meter_id` a month closed only for that object's division counts too.
    """
    found = await _closed(conn, start, end, account_id=account_id, house_id=house_id, meter_id=meter_id)
    return found[0] if found is not None else None


async def _closed(conn: AsyncConnection, start: date, end: date | None, *, account_id: int | None,
                  house_id: int | None, meter_id: int | None) -> tuple[Period, str | None] | None:
    first = Period.of(start).first_day
    last = Period.of(max(start, end or start)).first_day
    rows = (await conn.execute(text(
        "SELECT period, status FROM periods WHERE period BETWEEN :a AND :b ORDER BY period FOR SHARE"),
        {"a": first, "b": last})).all()
    whole = next((Period.of(r.period) for r in rows if r.status == "closed"), None)
    # a separate statement after the lock: it sees a division's close committed while we waited for it
    division = await _division_closed(conn, first, whole.first_day if whole else last, account_id=account_id,
                                      house_id=house_id, meter_id=meter_id)
    if division is not None and (whole is None or division[0] < whole):
        return division
    return (whole, None) if whole is not None else None


async def ensure_open(conn: AsyncConnection, day: date, *, until: date | None = None,
                      what: str = "изменение", field: str | None = None, account_id: int | None = None,
                      house_id: int | None = None, meter_id: int | None = None) -> None:
    """Refuse a change dated `day` (or spanning `day`..`until`) that falls into a closed period.

    `what` names the change for the message, e.g. "показание на 15.03.2024" → «Период 2024-03 закрыт:
    показание на 15.03.2024 не принимается …». Callers that know the account, house or meter of the
    change pass it, so that a month closed only for its division is refused as well.
    """
    found = await _closed(conn, day, until, account_id=account_id, house_id=house_id, meter_id=meter_id)
    if found is not None:
        period, division = found
        where = f" по подразделению «{division}»" if division else ""
        raise PeriodClosed(
            f"Период {period} закрыт{where}: {what} не принимается. Изменения в закрытом периоде вносятся "
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
        raise Conflict("Нет открытого расчётного периода: откройте период (выполните расчёт) и повторите")
    return found


async def default_period(conn: AsyncConnection, today: date | None = None) -> Period:
    """The open period; else the month after the latest closed one; else the current month."""
    row = (await conn.execute(text(
        "SELECT min(period) FILTER (WHERE status = 'open') AS open, max(period) AS latest FROM periods"))).one()
    if row.open is not None:
        return Period.of(row.open)
    if row.latest is not None:
        return Period.of(row.latest).next()
    return Period.of(today or date.today())


async def start_period(conn: AsyncConnection, period: Period) -> None:
    """A month not started yet gets its (open) `periods` row."""
    await conn.execute(text("INSERT INTO periods(period) VALUES (:p) ON CONFLICT (period) DO NOTHING"),
                       {"p": period.first_day})


async def open_for_posting(conn: AsyncConnection, period: Period, *, what: str, field: str = "period",
                           account_id: int | None = None, house_id: int | None = None) -> None:
    """Refuse a closed period (409 period_closed); a period not started yet is opened (as the run would)."""
    await ensure_open(conn, period.first_day, what=what, field=field, account_id=account_id, house_id=house_id)
    await start_period(conn, period)
