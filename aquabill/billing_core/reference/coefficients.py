"""Increasing coefficients for consumption by norm (Decree 354, para. 42): federal values shipped with the
schema plus the tenant's own overrides, both dated.

Which value is in force on a day: the row with the latest start date on or before that day; when a
federal and a tenant row start on the same day, the tenant's row wins. So an override replaces the
federal value from its date on, and a later federal change applies again unless the tenant overrides it
from that date too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods_guard import ensure_open
from aquabill.billing_core.reference.dated import check_basis, check_number
from aquabill.billing_core.reference.services import SERVICE_KINDS


@dataclass(frozen=True, slots=True)
class Coefficient:
    id: int
    service_kind: str
    value: Decimal
    valid_from: date
    source: str  # federal | tenant
    basis: str = ""


@dataclass(frozen=True, slots=True)
class Effective:
    coefficient: Coefficient
    valid_from: date
    valid_to: date | None  # inclusive; None = open


def _precedence(c: Coefficient) -> tuple[date, int]:
    return c.valid_from, 1 if c.source == "tenant" else 0


def timeline(rows: Iterable[Coefficient]) -> list[Effective]:
    """The values in force over time for one service kind, in date order (pure)."""
    by_day: dict[date, Coefficient] = {}
    for c in sorted(rows, key=_precedence):
        by_day[c.valid_from] = c  # same day: the tenant row comes last and wins
    days = sorted(by_day)
    return [Effective(by_day[d], d, days[i + 1] - timedelta(days=1) if i + 1 < len(days) else None)
            for i, d in enumerate(days)]


def coefficient_on(rows: Iterable[Coefficient], day: date) -> Coefficient | None:
    """The coefficient in force on `day` (None before the first one)."""
    return next((e.coefficient for e in reversed(timeline(rows)) if e.valid_from <= day), None)


def _dict(c: Coefficient) -> dict[str, Any]:
    return {"id": c.id, "service_kind": c.service_kind, "value": c.value, "valid_from": c.valid_from,
            "source": c.source, "basis": c.basis}


async def load(conn: AsyncConnection, service_kind: str | None = None) -> list[Coefficient]:
    rows = await conn.execute(text(
        "SELECT id, service_kind, value, valid_from, source, basis FROM coefficients "
        "WHERE CAST(:k AS text) IS NULL OR service_kind = :k ORDER BY service_kind, valid_from, source"),
        {"k": service_kind})
    return [Coefficient(r.id, r.service_kind, r.value, r.valid_from, r.source, r.basis) for r in rows]


async def list_coefficients(conn: AsyncConnection, service_kind: str | None = None,
                            on: date | None = None) -> list[dict[str, Any]]:
    """Per service kind: every row (federal and tenant) marked with whether it is ever in force, the
    resulting timeline and the value in force on `on` (today by default)."""
    on = on or date.today()
    kinds: dict[str, list[Coefficient]] = {}
    for c in await load(conn, service_kind):
        kinds.setdefault(c.service_kind, []).append(c)
    result = []
    for kind, rows in sorted(kinds.items(), key=lambda kv: list(SERVICE_KINDS).index(kv[0])
                             if kv[0] in SERVICE_KINDS else len(SERVICE_KINDS)):
        line = timeline(rows)
        used = {e.coefficient.id for e in line}
        current = coefficient_on(rows, on)
        result.append({
            "service_kind": kind, "service_kind_name": SERVICE_KINDS.get(kind, kind),
            "rows": [{**_dict(c), "overridden": c.id not in used} for c in rows],
            "timeline": [{**_dict(e.coefficient), "valid_from": e.valid_from, "valid_to": e.valid_to}
                         for e in line],
            "current": _dict(current) if current else None,
        })
    return result


async def set_override(conn: AsyncConnection, *, service_kind: str, value: Decimal, valid_from: date,
                       basis: str = "") -> dict[str, Any]:
    """Add (or correct, for the same start date) the tenant's own coefficient for a service kind."""
    if service_kind not in SERVICE_KINDS:
        raise Invalid("Неизвестный вид услуги; допустимые: " + ", ".join(SERVICE_KINDS), field="service_kind")
    value = check_number(value, field="value", label="Коэффициент", scale=3, maximum=Decimal(1000),
                         minimum=Decimal(1))
    basis = check_basis(basis)
    await ensure_open(conn, valid_from, what=f"коэффициент с {valid_from:%d.%m.%Y}", field="valid_from")
    row = (await conn.execute(text("""
        INSERT INTO coefficients AS c (service_kind, value, valid_from, source, basis)
        VALUES (:k, :v, :d, 'tenant', :b)
        ON CONFLICT (service_kind, valid_from, source) DO UPDATE SET value = EXCLUDED.value, basis = EXCLUDED.basis
          WHERE (c.value, c.basis) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.basis)
        RETURNING id, (xmax = 0) AS inserted"""),
        {"k": service_kind, "v": value, "d": valid_from, "b": basis})).first()
    status = "unchanged" if row is None else "inserted" if row.inserted else "corrected"
    return {"status": status, "item": (await list_coefficients(conn, service_kind, on=valid_from))[0]}
