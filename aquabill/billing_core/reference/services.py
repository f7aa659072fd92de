"""Services billed by the utility (cold water, sewage, …): a short reference list."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound

SERVICE_KINDS = {
    "cold_water": "Холодное водоснабжение",
    "hot_water": "Горячее водоснабжение",
    "sewage": "Водоотведение",
    "common_cold": "Холодная вода на содержание общего имущества",
    "other": "Прочее",
}
CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_COLS = "id, code, name, kind, unit, sort, active"


def _row(r) -> dict[str, Any]:
    return {"id": r.id, "code": r.code, "name": r.name, "kind": r.kind, "unit": r.unit, "sort": r.sort,
            "active": r.active}


async def list_services(conn: AsyncConnection, q: str = "", *, active: bool | None = None,
                        limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    where, params = ["true"], {"limit": limit, "offset": offset}
    if q.strip():
        where.append("(lower(name) LIKE :like OR lower(code) LIKE :like)")
        params["like"] = f"%{q.strip().lower()}%"
    if active is not None:
        where.append("active = :active")
        params["active"] = active
    cond = " AND ".join(where)
    rows = await conn.execute(text(f"SELECT {_COLS} FROM services WHERE {cond} ORDER BY sort, id "
                                   "LIMIT :limit OFFSET :offset"), params)
    total = (await conn.execute(text(f"SELECT count(*) FROM services WHERE {cond}"), params)).scalar_one()
    return [_row(r) for r in rows], total


async def get_service(conn: AsyncConnection, service_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"SELECT {_COLS} FROM services WHERE id = :id"), {"id": service_id})).first()
    if row is None:
        raise NotFound("Услуга не найдена", field="service_id")
    return _row(row)


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("Укажите наименование услуги", field="name")
    return name


async def create_service(conn: AsyncConnection, *, code: str, name: str, kind: str, unit: str = "м³",
                         sort: int = 100) -> dict[str, Any]:
    code = (code or "").strip()
    if not CODE.match(code):
        raise Invalid("Код услуги: латинские строчные буквы, цифры и «_», от 2 до 32 знаков, "
                           "начинается с буквы", field="code")
    if kind not in SERVICE_KINDS:
        raise Invalid("Неизвестный вид услуги; допустимые: " + ", ".join(SERVICE_KINDS), field="kind")
    unit = (unit or "").strip()
    if not unit or len(unit) > 8:
        raise Invalid("Единица измерения: от 1 до 8 знаков", field="unit")
    row = (await conn.execute(text(
        f"INSERT INTO services(code, name, kind, unit, sort) VALUES (:c, :n, :k, :u, :s) "
        f"ON CONFLICT (code) DO NOTHING RETURNING {_COLS}"),
        {"c": code, "n": _name(name), "k": kind, "u": unit, "s": sort})).first()
    if row is None:
        raise Conflict(f"Услуга с кодом «{code}» уже есть", field="code")
    return _row(row)


async def update_service(conn: AsyncConnection, service_id: int, *, name: str | None = None,
                         active: bool | None = None, sort: int | None = None) -> dict[str, Any]:
    await get_service(conn, service_id)
    row = (await conn.execute(text(
        f"UPDATE services SET name = coalesce(:n, name), active = coalesce(:a, active), sort = coalesce(:s, sort) "
        f"WHERE id = :id RETURNING {_COLS}"),
        {"id": service_id, "n": None if name is None else _name(name), "a": active, "s": sort})).one()
    return _row(row)


async def service_names(conn: AsyncConnection) -> dict[str, str]:
    """Service code → name, for labelling figures."""
    return {r.code: r.name for r in await conn.execute(text("SELECT code, name FROM services"))}
