"""Divisions (участки, службы) of a utility: one table of the organisation's structure, shared by the month
close (each house belongs to at most one division, a month can be closed division by division) and by
requests (a division's head gets the escalations, `parent_id` is the next level up; contact_center uses
this module). Also the rules of a code, a name and a user that requests' other settings share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import column, insert, table, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound

CODE = re.compile(r"^[a-z0-9_\-]{1,32}$")

_DIVISIONS = table("divisions", column("id"), column("code"), column("name"), column("head_user_id"),
                   column("parent_id"), column("active"))
_EDITABLE = ("code", "name", "head_user_id", "parent_id", "active")

_DIV = """SELECT d.id, d.code, d.name, d.head_user_id, u.full_name AS head_name, d.parent_id, d.active,
          coalesce((SELECT array_agg(h.id ORDER BY h.id) FROM houses h WHERE h.division_id = d.id), '{}') AS house_ids
          FROM divisions d LEFT JOIN users u ON u.id = d.head_user_id"""


def check_code(code: str) -> str:
    code = (code or "").strip()
    if not CODE.match(code):
        raise Invalid("Код: латинские строчные буквы, цифры, «_» и «-», до 32 знаков", field="code")
    return code


def check_name(name: str, field: str = "name") -> str:
    name = (name or "").strip()
    if not name or len(name) > 300:
        raise Invalid("Укажите название (до 300 знаков)", field=field)
    return name


async def require_user(conn: AsyncConnection, user_id: int | None, field: str = "user_id") -> None:
    """An active user, when given."""
    if user_id is not None and not (await conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = :i AND is_active)"), {"i": user_id})).scalar_one():
        raise NotFound("Пользователь не найден или отключён", fields=[{"field": field, "message": "не найден"}])


async def require_division(conn: AsyncConnection, division_id: int | None, field: str = "division_id") -> None:
    """An existing division, when given."""
    if division_id is not None and not (await conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM divisions WHERE id = :i)"), {"i": division_id})).scalar_one():
        raise NotFound("Подразделение не найдено", fields=[{"field": field, "message": "не найдено"}])


async def list_divisions(conn: AsyncConnection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await conn.execute(text(_DIV + " ORDER BY d.name, d.id"))]


async def get_division(conn: AsyncConnection, division_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(_DIV + " WHERE d.id = :i"), {"i": division_id})).first()
    if row is None:
        raise NotFound("Подразделение не найдено")
    return dict(row._mapping)


async def _division_cycle(conn: AsyncConnection, division_id: int, parent_id: int | None) -> bool:
    seen, current = {division_id}, parent_id
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = (await conn.execute(text("SELECT parent_id FROM divisions WHERE id = :i"),
                                      {"i": current})).scalar()
    return False


async def _assign_houses(conn: AsyncConnection, division_id: int, house_ids: Sequence[int]) -> None:
    """The division's houses become exactly `house_ids` (a house moves over from its former division)."""
    ids = sorted(set(house_ids))
    known = (await conn.execute(text("SELECT count(*) FROM houses WHERE id = ANY(:ids)"), {"ids": ids})).scalar_one()
    if known != len(ids):
        raise NotFound("Дом не найден", field="house_ids")
    await conn.execute(text("UPDATE houses SET division_id = NULL WHERE division_id = :d AND id <> ALL(:ids)"),
                       {"d": division_id, "ids": ids})
    await conn.execute(text("UPDATE houses SET division_id = :d WHERE id = ANY(:ids) "
                            "AND division_id IS DISTINCT FROM :d"), {"d": division_id, "ids": ids})


async def save_division(conn: AsyncConnection, division_id: int | None, values: dict[str, Any]) -> dict[str, Any]:
    """Create (division_id None: code and name required) or change a division; only given keys change.
    `house_ids`, when given, become the division's houses."""
    values = dict(values)
    house_ids = values.pop("house_ids", None)
    if "code" in values or division_id is None:
        values["code"] = check_code(values.get("code", ""))
    if "name" in values or division_id is None:
        values["name"] = check_name(values.get("name", ""))
    await require_user(conn, values.get("head_user_id"), "head_user_id")
    await require_division(conn, values.get("parent_id"), "parent_id")
    if division_id is not None:
        await get_division(conn, division_id)
        if values.get("parent_id") is not None and await _division_cycle(conn, division_id, values["parent_id"]):
            raise Invalid("Вышестоящее подразделение не может быть подчинено этому", field="parent_id")
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM divisions WHERE code = :c AND id <> :i)"),
                           {"c": values.get("code", ""), "i": division_id or 0})).scalar_one():
        raise Conflict("Подразделение с таким кодом уже есть", fields=[{"field": "code", "message": "занят"}])
    row = {c: values[c] for c in _EDITABLE if c in values}
    if division_id is None:
        division_id = (await conn.execute(insert(_DIVISIONS).values(row).returning(_DIVISIONS.c.id))).scalar_one()
        house_ids = house_ids or None  # a new division has no houses to take away
    elif row:
        await conn.execute(update(_DIVISIONS).where(_DIVISIONS.c.id == division_id).values(row))
    if house_ids is not None:
        await _assign_houses(conn, division_id, house_ids)
    return await get_division(conn, division_id)
