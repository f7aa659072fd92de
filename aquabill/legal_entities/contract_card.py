"""The contract's card as the pages and the API show it: the contract with its terms in force on a day and their
history (`contract_store`), its sites with points, meters and sub-subscribers (`sites_store`), the latest readings
of its meters (`point_meters`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.legal_entities.contract_store import get_contract
from aquabill.legal_entities.point_meters import readings_of_contract
from aquabill.legal_entities.sites_store import sites_of

RECENT_READINGS = 20


async def contract_card(conn: AsyncConnection, contract_id: int, on: date | None = None) -> dict[str, Any]:
    card = await get_contract(conn, contract_id, on)
    card["objects"] = await sites_of(conn, contract_id, today=card["on"])
    items, total = await readings_of_contract(conn, contract_id, limit=RECENT_READINGS)
    card["readings"] = {"items": items, "total": total}
    return card
