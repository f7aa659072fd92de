"""Kinds of account parameters: the built-in ones (residents, area, …) and kinds a tenant defines."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid

VALUE_TYPES = {"number": "число", "text": "текст"}
CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_COLS = "id, code, name, value_type, builtin"


def _row(r) -> dict[str, Any]:
    return {"id": r.id, "code": r.code, "name": r.name, "value_type": r.value_type, "builtin": r.builtin}


async def list_kinds(conn: AsyncConnection, q: str = "", *, limit: int = 100,
                     offset: int = 0) -> tuple[list[dict], int]:
    cond, params = "true", {"limit": limit, "offset": offset}
    if q.strip():
        cond = "(lower(code) LIKE :like OR lower(name) LIKE :like)"
        params["like"] = f"%{q.strip().lower()}%"
    rows = await conn.execute(text(f"SELECT {_COLS} FROM parameter_kinds WHERE {cond} "
                                   "ORDER BY NOT builtin, id LIMIT :limit OFFSET :offset"), params)
    total = (await conn.execute(text(f"SELECT count(*) FROM parameter_kinds WHERE {cond}"), params)).scalar_one()
    return [_row(r) for r in rows], total


async def get_kind(conn: AsyncConnection, code: str) -> dict[str, Any] | None:
    row = (await conn.execute(text(f"SELECT {_COLS} FROM parameter_kinds WHERE code = :c"), {"c": code})).first()
    return _row(row) if row else None


async def create_kind(conn: AsyncConnection, *, code: str, name: str, value_type: str) -> dict[str, Any]:
    code, name = (code or "").strip(), (name or "").strip()
    if not CODE.match(code):
        raise Invalid("Код параметра: латинские строчные буквы, цифры и «_», от 2 до 32 знаков, "
                           "начинается с буквы", field="code")
    if not name:
        raise Invalid("Укажите наименование параметра", field="name")
    if value_type not in VALUE_TYPES:
        raise Invalid("Тип значения: number (число) или text (текст)", field="value_type")
    row = (await conn.execute(text(
        f"INSERT INTO parameter_kinds(code, name, value_type, builtin) VALUES (:c, :n, :t, false) "
        f"ON CONFLICT (code) DO NOTHING RETURNING {_COLS}"), {"c": code, "n": name, "t": value_type})).first()
    if row is None:
        raise Conflict(f"Параметр с кодом «{code}» уже есть", field="code")
    return _row(row)
