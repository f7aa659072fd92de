"""The tenant's working calendar (table `working_calendar`): public holidays and transferred days off
('holiday') and transferred working weekend days ('working'), for SLA deadlines in working time."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.contact_center.requests.sla import WORKING_HOURS, WorkingHours

DAY_KINDS = {"holiday": "Нерабочий день", "working": "Рабочий день (перенос)"}


async def list_days(conn: AsyncConnection, year: int | None = None) -> list[dict[str, Any]]:
    rows = await conn.execute(text(
        "SELECT id, day, kind, note FROM working_calendar "
        "WHERE CAST(:y AS int) IS NULL OR extract(year FROM day) = :y ORDER BY day"), {"y": year})
    return [dict(r._mapping) for r in rows]


async def add_day(conn: AsyncConnection, day: date, kind: str, note: str = "", *, by: int | None) -> dict[str, Any]:
    """Mark a date non-working ('holiday') or working ('working'); a date is in the calendar at most once."""
    if kind not in DAY_KINDS:
        raise Invalid("Вид дня: holiday (нерабочий) или working (рабочий)",
                      fields=[{"field": "kind", "message": "holiday | working"}])
    if kind == "working" and day.weekday() < 5:
        raise Invalid(f"{day:%d.%m.%Y} — будний день: рабочим можно отметить только субботу или воскресенье",
                      fields=[{"field": "day", "message": "будний день"}])
    note = (note or "").strip()
    if len(note) > 300:
        raise Invalid("Примечание — до 300 знаков", fields=[{"field": "note", "message": "длинное"}])
    row = (await conn.execute(text(
        "INSERT INTO working_calendar(day, kind, note, created_by) VALUES (:d, :k, :n, :by) "
        "ON CONFLICT (day) DO NOTHING RETURNING id, day, kind, note"),
        {"d": day, "k": kind, "n": note, "by": by})).first()
    if row is None:
        raise Conflict(f"{day:%d.%m.%Y} уже есть в календаре: удалите его, чтобы изменить")
    return dict(row._mapping)


async def remove_day(conn: AsyncConnection, day_id: int) -> None:
    if (await conn.execute(text("DELETE FROM working_calendar WHERE id = :i"), {"i": day_id})).rowcount == 0:
        raise NotFound("Дата календаря не найдена")


async def working_hours(conn: AsyncConnection, since: date, base: WorkingHours = WORKING_HOURS) -> WorkingHours:
    """The working hours with the calendar's dates from `since` on (the SLA only looks forward)."""
    rows = (await conn.execute(text("SELECT day, kind FROM working_calendar WHERE day >= :s"), {"s": since})).all()
    return WorkingHours(start=base.start, end=base.end, weekdays=base.weekdays, zone=base.zone,
                        holidays=frozenset(r.day for r in rows if r.kind == "holiday"),
                        working_days=frozenset(r.day for r in rows if r.kind == "working"))
