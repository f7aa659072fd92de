"""Dated reference values (tariffs, norms): one row per service × key × start date.

A new value from a date adds a row; earlier rows are never overwritten, so the history stays whole
(each row is valid until the day before the next one of its series starts). Sending another value or
basis for an existing start date corrects that row (the audit log keeps the old one); the same value and
basis again change nothing. The basis is the act that set the value (decree, order and its number, t0036).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods_guard import ensure_open
from aquabill.billing_core.reference.services import get_service


@dataclass(frozen=True, slots=True)
class DatedKind:
    table: str  # fixed identifiers below, never user input
    key: str  # column naming the series inside a service (tariff_group, improvement)
    value: str  # value column (price, volume)
    key_field: str  # field name in the API
    key_label: str  # Russian, for messages
    value_label: str
    what: str  # Russian noun for "a <what> from <date>" messages
    scale: int  # decimal places stored
    maximum: Decimal  # exclusive


BASIS_LIMIT = 500


def check_number(value: Decimal, *, field: str, label: str, scale: int, maximum: Decimal,
                 minimum: Decimal = Decimal(0)) -> Decimal:
    """A finite decimal in [minimum, maximum) with at most `scale` decimal places."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise Invalid(f"{label}: ожидается число", field=field)
    if value < minimum:
        raise Invalid(f"{label}: значение не может быть меньше {minimum}", field=field)
    if value >= maximum:
        raise Invalid(f"{label}: значение должно быть меньше {maximum}", field=field)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > scale:
        raise Invalid(f"{label}: не более {scale} знаков после запятой", field=field)
    return value


def check_key(kind: DatedKind, key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 32:
        raise Invalid(f"{kind.key_label}: от 1 до 32 знаков", field=kind.key_field)
    return key


def check_basis(basis: str | None) -> str:
    """The act that set a value («Приказ … от 28.11.2025 № 123-вк»), trimmed; may be empty."""
    basis = (basis or "").strip()
    if len(basis) > BASIS_LIMIT:
        raise Invalid(f"Основание: не более {BASIS_LIMIT} знаков", field="basis")
    return basis


def _row(kind: DatedKind, r) -> dict[str, Any]:
    return {"id": r.id, "service_id": r.service_id, "service_code": r.service_code,
            "service_name": r.service_name, kind.key_field: r.key, kind.value: r.value,
            "valid_from": r.valid_from, "valid_to": r.valid_to, "current": r.current, "basis": r.basis}


async def list_dated(conn: AsyncConnection, kind: DatedKind, *, service_id: int | None = None,
                     key: str | None = None, q: str = "", on: date | None = None,
                     limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    """The history of every series (filtered), each row with its `valid_to` and whether it is the value
    in force on `on` (today by default); ordered by service, series, start date."""
    where, params = ["true"], {"limit": limit, "offset": offset, "on": on or date.today()}
    if service_id is not None:
        where.append("h.service_id = :service_id")
        params["service_id"] = service_id
    if key:
        where.append("h.key = :key")
        params["key"] = key
    if q.strip():
        where.append("(lower(h.key) LIKE :like OR lower(s.name) LIKE :like OR lower(s.code) LIKE :like "
                     "OR lower(h.basis) LIKE :like)")
        params["like"] = f"%{q.strip().lower()}%"
    cond = " AND ".join(where)
    history = f"""
        SELECT t.id, t.service_id, t.{kind.key} AS key, t.{kind.value} AS value, t.valid_from, t.basis,
               lead(t.valid_from) OVER w - 1 AS valid_to
        FROM {kind.table} t WINDOW w AS (PARTITION BY t.service_id, t.{kind.key} ORDER BY t.valid_from)"""
    body = f"FROM ({history}) h JOIN services s ON s.id = h.service_id WHERE {cond}"
    rows = await conn.execute(text(
        f"SELECT h.*, s.code AS service_code, s.name AS service_name, "
        f"  (h.valid_from <= :on AND (h.valid_to IS NULL OR h.valid_to >= :on)) AS current "
        f"{body} ORDER BY s.sort, s.id, h.key, h.valid_from LIMIT :limit OFFSET :offset"), params)
    total = (await conn.execute(text(f"SELECT count(*) {body}"), params)).scalar_one()
    return [_row(kind, r) for r in rows], total


async def set_dated(conn: AsyncConnection, kind: DatedKind, *, service_id: int, key: str, value: Decimal,
                    valid_from: date, basis: str = "") -> dict[str, Any]:
    """Add a value from `valid_from` (or correct the value and/or basis of that same start date).

    Returns {"status": "inserted" | "corrected" | "unchanged", "item": the row with its validity}.
    """
    await get_service(conn, service_id)
    key = check_key(kind, key)
    value = check_number(value, field=kind.value, label=kind.value_label, scale=kind.scale,
                         maximum=kind.maximum)
    basis = check_basis(basis)
    await ensure_open(conn, valid_from, what=f"{kind.what} с {valid_from:%d.%m.%Y}", field="valid_from")
    row = (await conn.execute(text(f"""
        INSERT INTO {kind.table} AS t (service_id, {kind.key}, {kind.value}, valid_from, basis)
        VALUES (:service_id, :key, :value, :valid_from, :basis)
        ON CONFLICT (service_id, {kind.key}, valid_from)
          DO UPDATE SET {kind.value} = EXCLUDED.{kind.value}, basis = EXCLUDED.basis
          WHERE (t.{kind.value}, t.basis) IS DISTINCT FROM (EXCLUDED.{kind.value}, EXCLUDED.basis)
        RETURNING id, (xmax = 0) AS inserted"""),
        {"service_id": service_id, "key": key, "value": value, "valid_from": valid_from, "basis": basis})).first()
    status = "unchanged" if row is None else "inserted" if row.inserted else "corrected"
    items, _ = await list_dated(conn, kind, service_id=service_id, key=key, on=valid_from, limit=500)
    item = next(i for i in items if i["valid_from"] == valid_from)
    return {"status": status, "item": item}
