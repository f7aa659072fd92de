"""Tariffs: price per unit of a service for a tariff group (population, …), dated, with the act that set it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.reference.dated import DatedKind, list_dated, set_dated

TARIFFS = DatedKind(table="tariffs", key="tariff_group", value="price", key_field="tariff_group",
                    key_label="Тарифная группа", value_label="Тариф", what="тариф", scale=4,
                    maximum=Decimal(10) ** 8)


async def list_tariffs(conn: AsyncConnection, *, service_id: int | None = None, tariff_group: str | None = None,
                       q: str = "", on: date | None = None, limit: int = 100,
                       offset: int = 0) -> tuple[list[dict], int]:
    return await list_dated(conn, TARIFFS, service_id=service_id, key=tariff_group, q=q, on=on, limit=limit,
                            offset=offset)


async def set_tariff(conn: AsyncConnection, *, service_id: int, tariff_group: str, price: Decimal,
                     valid_from: date, basis: str = "") -> dict[str, Any]:
    return await set_dated(conn, TARIFFS, service_id=service_id, key=tariff_group, value=price,
                           valid_from=valid_from, basis=basis)


async def tariff_groups(conn: AsyncConnection) -> dict[str, str]:
    """Tariff group code → its name (`tariff_groups`, t0033), then the codes tariffs use without a named group
    (named by their code)."""
    rows = await conn.execute(text("""
        SELECT code, name FROM (
          SELECT g.code, g.name, 0 AS unnamed, g.id FROM tariff_groups g
          UNION ALL
          SELECT DISTINCT t.tariff_group, t.tariff_group, 1, 0 FROM tariffs t
          WHERE NOT EXISTS (SELECT 1 FROM tariff_groups g WHERE g.code = t.tariff_group)) x
        ORDER BY unnamed, id, code"""))
    return {r.code: r.name for r in rows}
