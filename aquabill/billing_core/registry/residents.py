"""Residents registered on an account (permanently or temporarily), with registration dates.

Registration and deregistration are dated; a change that moves a date inside a closed period (or alters a
registration that spans one) is refused.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.periods_guard import ensure_open
from aquabill.billing_core.registry.queries import require_account

KINDS = {"permanent": "Постоянно", "temporary": "Временно"}
FIELDS = ("full_name", "birth_date", "kind", "registered_from", "registered_to")
COLUMNS = "id, account_id, full_name, birth_date, kind, registered_from, registered_to"
_OPEN_END = date(2199, 12, 31)  # stands for "no end date" when a span is checked against closed periods


def resident_row(r, today: date) -> dict[str, Any]:
    return {"id": r.id, "account_id": r.account_id, "full_name": r.full_name, "birth_date": r.birth_date,
            "kind": r.kind, "kind_name": KINDS.get(r.kind, r.kind), "registered_from": r.registered_from,
            "registered_to": r.registered_to,
            "registered": r.registered_from <= today and (r.registered_to is None or r.registered_to >= today)}


def check_resident(values: dict[str, Any]) -> dict[str, Any]:
    """Rules on one resident's values (pure); returns them cleaned."""
    name = (values.get("full_name") or "").strip()
    if not name or len(name) > 300:
        raise Invalid("Укажите ФИО (до 300 знаков)", field="full_name")
    if values.get("kind") not in KINDS:
        raise Invalid("Вид регистрации: permanent (постоянно) или temporary (временно)", field="kind")
    start, end, born = values.get("registered_from"), values.get("registered_to"), values.get("birth_date")
    if start is None:
        raise Invalid("Укажите дату регистрации", field="registered_from")
    if end is not None and end < start:
        raise Invalid("Дата снятия с регистрации раньше даты регистрации", field="registered_to")
    if born is not None and born > start:
        raise Invalid("Дата регистрации раньше даты рождения", field="birth_date")
    return {**values, "full_name": name}


async def list_residents(conn: AsyncConnection, account_id: int) -> list[dict[str, Any]]:
    today = date.today()
    rows = await conn.execute(text(f"SELECT {COLUMNS} FROM residents WHERE account_id = :a "
                                   "ORDER BY registered_from, id"), {"a": account_id})
    return [resident_row(r, today) for r in rows]


async def _get(conn: AsyncConnection, resident_id: int):
    row = (await conn.execute(text(f"SELECT {COLUMNS} FROM residents WHERE id = :id FOR UPDATE"),
                              {"id": resident_id})).first()
    if row is None:
        raise NotFound("Проживающий не найден", field="resident_id")
    return row


async def add_resident(conn: AsyncConnection, account_id: int, *, full_name: str, registered_from: date,
                       kind: str = "permanent", birth_date: date | None = None,
                       registered_to: date | None = None) -> dict[str, Any]:
    await require_account(conn, account_id)
    v = check_resident({"full_name": full_name, "birth_date": birth_date, "kind": kind,
                        "registered_from": registered_from, "registered_to": registered_to})
    await ensure_open(conn, registered_from, until=registered_to or _OPEN_END,
                      what=f"регистрация с {registered_from:%d.%m.%Y}", field="registered_from",
                      account_id=account_id)
    row = (await conn.execute(text(
        f"INSERT INTO residents(account_id, full_name, birth_date, kind, registered_from, registered_to) "
        f"VALUES (:a, :full_name, :birth_date, :kind, :registered_from, :registered_to) RETURNING {COLUMNS}"),
        {"a": account_id, **v})).one()
    return resident_row(row, date.today())


def _moved(old: date | None, new: date | None) -> tuple[date, date]:
    """Days whose billing changes when a boundary moves from `old` to `new` (None: open end)."""
    a, b = old or _OPEN_END, new or _OPEN_END
    return min(a, b), max(a, b)


async def update_resident(conn: AsyncConnection, resident_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change some of FIELDS (deregistration: `registered_to`; `None` there registers again)."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise Invalid("Неизвестные поля: " + ", ".join(sorted(unknown)))
    old = await _get(conn, resident_id)
    current = {f: getattr(old, f) for f in FIELDS}
    v = check_resident({**current, **changes})
    if v["kind"] != old.kind:  # the whole registration is billed differently
        await ensure_open(conn, old.registered_from, until=old.registered_to or _OPEN_END,
                          what="изменение вида регистрации", field="kind", account_id=old.account_id)
    if v["registered_from"] != old.registered_from:
        start, end = _moved(old.registered_from, v["registered_from"])
        await ensure_open(conn, start, until=end, what=f"регистрация с {v['registered_from']:%d.%m.%Y}",
                          field="registered_from", account_id=old.account_id)
    if v["registered_to"] != old.registered_to:
        start, end = _moved(old.registered_to, v["registered_to"])
        what = (f"снятие с регистрации {v['registered_to']:%d.%m.%Y}" if v["registered_to"]
                else "отмена снятия с регистрации")
        await ensure_open(conn, start, until=end, what=what, field="registered_to", account_id=old.account_id)
    row = (await conn.execute(text(
        "UPDATE residents SET full_name = :full_name, birth_date = :birth_date, kind = :kind, "
        f"registered_from = :registered_from, registered_to = :registered_to WHERE id = :id RETURNING {COLUMNS}"),
        {**v, "id": resident_id})).one()
    return resident_row(row, date.today())


async def delete_resident(conn: AsyncConnection, resident_id: int) -> None:
    """Remove an entry made by mistake (a real departure is a deregistration date)."""
    old = await _get(conn, resident_id)
    await ensure_open(conn, old.registered_from, until=old.registered_to or _OPEN_END,
                      what="удаление записи о проживающем", field="resident_id", account_id=old.account_id)
    await conn.execute(text("DELETE FROM residents WHERE id = :id"), {"id": resident_id})
