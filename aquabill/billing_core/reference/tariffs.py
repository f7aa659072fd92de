"""Tariffs: price per unit of a service for a tariff group (population, …), dated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

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
                     valid_from: date) -> dict[str, Any]:
    return await set_dated(conn, TARIFFS, service_id=service_id, key=tariff_group, value=price,
                           valid_from=valid_from)
