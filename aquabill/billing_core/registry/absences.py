"""Temporary absences of residents (the basis for recalculation by Decree 354, section VIII)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.periods_guard import ensure_open
from aquabill.billing_core.registry.queries import require_account

COLUMNS = "id, account_id, persons, date_from, date_to, reason"
MAX_PERSONS = 99


def absence_row(r) -> dict[str, Any]:
    return {"id": r.id, "account_id": r.account_id, "persons": r.persons, "date_from": r.date_from,
            "date_to": r.date_to, "days": (r.date_to - r.date_from).days + 1, "reason": r.reason}


def check_absence(persons: int, date_from: date, date_to: date, reason: str) -> None:
    """At least one full day away (both dates are full days away, inclusive); pure."""
    if date_to < date_from:
        raise Invalid(f"Период отсутствия должен быть не короче одного полного дня: дата окончания "
                           f"{date_to:%d.%m.%Y} раньше даты начала {date_from:%d.%m.%Y}", field="date_to")
    if not 1 <= persons <= MAX_PERSONS:
        raise Invalid(f"Число отсутствующих: от 1 до {MAX_PERSONS}", field="persons")
    if len(reason) > 500:
        raise Invalid("Основание: не более 500 знаков", field="reason")


async def list_absences(conn: AsyncConnection, account_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(text(f"SELECT {COLUMNS} FROM absences WHERE account_id = :a "
                                   "ORDER BY date_from DESC, id DESC"), {"a": account_id})
    return [absence_row(r) for r in rows]


async def add_absence(conn: AsyncConnection, account_id: int, *, date_from: date, date_to: date,
                      persons: int = 1, reason: str = "") -> dict[str, Any]:
    await require_account(conn, account_id)
    reason = (reason or "").strip()
    check_absence(persons, date_from, date_to, reason)
    await ensure_open(conn, date_from, until=date_to,
                      what=f"отсутствие {date_from:%d.%m.%Y}–{date_to:%d.%m.%Y}", field="date_from",
                      account_id=account_id)
    row = (await conn.execute(text(
        f"INSERT INTO absences(account_id, persons, date_from, date_to, reason) VALUES (:a, :p, :f, :t, :r) "
        f"RETURNING {COLUMNS}"), {"a": account_id, "p": persons, "f": date_from, "t": date_to, "r": reason})).one()
    return absence_row(row)


async def delete_absence(conn: AsyncConnection, absence_id: int) -> None:
    row = (await conn.execute(text(f"SELECT {COLUMNS} FROM absences WHERE id = :id FOR UPDATE"),
                              {"id": absence_id})).first()
    if row is None:
        raise NotFound("Запись об отсутствии не найдена", field="absence_id")
    await ensure_open(conn, row.date_from, until=row.date_to,
                      what=f"удаление отсутствия {row.date_from:%d.%m.%Y}–{row.date_to:%d.%m.%Y}",
                      field="absence_id", account_id=row.account_id)
    await conn.execute(text("DELETE FROM absences WHERE id = :id"), {"id": absence_id})
