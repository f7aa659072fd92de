"""Divisions (участки, филиалы) of a utility: each house belongs to at most one, and a month can be closed
division by division."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.errors import BillingError, ConflictError, NotFoundError

_CODE = re.compile(r"^[a-z0-9_-]{1,32}$")


async def list_divisions(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(text(
        "SELECT d.id, d.code, d.name, d.active, coalesce(array_agg(h.id ORDER BY h.id) "
        "FILTER (WHERE h.id IS NOT NULL), '{}') AS house_ids "
        "FROM divisions d LEFT JOIN houses h ON h.division_id = d.id GROUP BY d.id ORDER BY d.code, d.id"))
    return [dict(r._mapping) for r in rows]


async def get_division(conn: AsyncConnection, division_id: int) -> dict[str, Any]:
    found = next((d for d in await list_divisions(conn) if d["id"] == division_id), None)
    if found is None:
        raise NotFoundError("Подразделение не найдено", field="division_id")
    return found


async def _assign(conn: AsyncConnection, division_id: int, house_ids: Sequence[int]) -> None:
    ids = sorted(set(house_ids))
    known = (await conn.execute(text("SELECT count(*) FROM houses WHERE id = ANY(:ids)"), {"ids": ids})).scalar_one()
    if known != len(ids):
        raise NotFoundError("Дом не найден", field="house_ids")
    await conn.execute(text("UPDATE houses SET division_id = NULL WHERE division_id = :d AND id <> ALL(:ids)"),
                       {"d": division_id, "ids": ids})
    await conn.execute(text("UPDATE houses SET division_id = :d WHERE id = ANY(:ids) "
                            "AND division_id IS DISTINCT FROM :d"), {"d": division_id, "ids": ids})


async def create_division(conn: AsyncConnection, *, code: str, name: str,
                          house_ids: Sequence[int] = ()) -> dict[str, Any]:
    code, name = code.strip().lower(), name.strip()
    if not _CODE.match(code):
        raise BillingError("Код подразделения: латинские буквы, цифры, «_» и «-», до 32 знаков", field="code")
    if not name or len(name) > 200:
        raise BillingError("Название подразделения: от 1 до 200 знаков", field="name")
    division_id = (await conn.execute(text(
        "INSERT INTO divisions(code, name) VALUES (:c, :n) ON CONFLICT (code) DO NOTHING RETURNING id"),
        {"c": code, "n": name})).scalar()
    if division_id is None:
        raise ConflictError(f"Подразделение с кодом «{code}» уже есть", field="code")
    await _assign(conn, division_id, house_ids)
    return await get_division(conn, division_id)


async def update_division(conn: AsyncConnection, division_id: int, *, name: str | None = None,
                          house_ids: Sequence[int] | None = None) -> dict[str, Any]:
    await get_division(conn, division_id)
    if name is not None:
        if not name.strip() or len(name.strip()) > 200:
            raise BillingError("Название подразделения: от 1 до 200 знаков", field="name")
        await conn.execute(text("UPDATE divisions SET name = :n WHERE id = :id"), {"n": name.strip(), "id": division_id})
    if house_ids is not None:
        await _assign(conn, division_id, house_ids)
    return await get_division(conn, division_id)
