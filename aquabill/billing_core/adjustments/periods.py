"""Which period an adjustment is posted into, and the checks that it may be."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.errors import ConflictError, NotFoundError
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import ensure_open

# the acting user of the tenant transaction (set by tenant_transaction), for `created_by`
ACTING_USER = "nullif(current_setting('aquabill.user_id', true), '')::int"


async def current_open_period(conn: AsyncConnection) -> Period:
    """The earliest open period (where corrections of closed periods go), locked against closing."""
    found = (await conn.execute(text(
        "SELECT period FROM periods WHERE status = 'open' ORDER BY period LIMIT 1 FOR SHARE"))).scalar()
    if found is None:
        raise ConflictError("Нет открытого расчётного периода: откройте период (выполните расчёт) и повторите")
    return Period.of(found)


async def open_for_posting(conn: AsyncConnection, period: Period, *, what: str, field: str = "period") -> None:
    """Refuse a closed period (409 period_closed); a period not started yet is opened (as the run would)."""
    await ensure_open(conn, period.first_day, what=what, field=field)
    await conn.execute(text("INSERT INTO periods(period) VALUES (:p) ON CONFLICT (period) DO NOTHING"),
                       {"p": period.first_day})


async def require_service(conn: AsyncConnection, service_id: int) -> None:
    found = (await conn.execute(text("SELECT 1 FROM services WHERE id = :id"), {"id": service_id})).first()
    if found is None:
        raise NotFoundError("Услуга не найдена", field="service_id")


async def require_house(conn: AsyncConnection, house_id: int) -> None:
    found = (await conn.execute(text("SELECT 1 FROM houses WHERE id = :id"), {"id": house_id})).first()
    if found is None:
        raise NotFoundError("Дом не найден", field="house_id")
