"""Consumption norms: m³ per person per month (per m² for common property) by improvement category, dated, with
the act that set them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.reference.dated import DatedKind, list_dated, set_dated

NORMS = DatedKind(table="norms", key="improvement", value="volume", key_field="improvement",
                  key_label="Степень благоустройства", value_label="Норматив", what="норматив", scale=4,
                  maximum=Decimal(10) ** 6)


async def list_norms(conn: AsyncConnection, *, service_id: int | None = None, improvement: str | None = None,
                     q: str = "", on: date | None = None, limit: int = 100,
                     offset: int = 0) -> tuple[list[dict], int]:
    return await list_dated(conn, NORMS, service_id=service_id, key=improvement, q=q, on=on, limit=limit,
                            offset=offset)


async def set_norm(conn: AsyncConnection, *, service_id: int, improvement: str, volume: Decimal,
                   valid_from: date, basis: str = "") -> dict[str, Any]:
    return await set_dated(conn, NORMS, service_id=service_id, key=improvement, value=volume,
                           valid_from=valid_from, basis=basis)


async def improvements(conn: AsyncConnection) -> list[str]:
    """The improvement categories norms are set for (codes, e.g. full, no_sewage)."""
    return list((await conn.execute(text("SELECT DISTINCT improvement FROM norms ORDER BY 1"))).scalars())
