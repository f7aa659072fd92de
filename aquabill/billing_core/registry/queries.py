"""Account search and the account card."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, cast, column, func, or_, select, table
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.errors import NotFoundError
from aquabill.billing_core.registry.tables import accounts, houses, premises, settlements, streets

_ADDRESS = func.concat_ws(
    ", ",
    func.concat_ws(" ", settlements.c.kind, settlements.c.name),
    func.concat_ws(" ", streets.c.kind, streets.c.name),
    func.concat("д. ", houses.c.number),
    func.nullif(func.concat("кв. ", premises.c.number), "кв. "),
).label("address")

_METERS = table("meters", column("account_id"), column("serial"))

_FROM = (
    accounts.join(premises, premises.c.id == accounts.c.premise_id)
    .join(houses, houses.c.id == premises.c.house_id)
    .join(streets, streets.c.id == houses.c.street_id)
    .join(settlements, settlements.c.id == streets.c.settlement_id)
)

_COLS = (accounts.c.id, accounts.c.number, accounts.c.holder, accounts.c.status, accounts.c.phone,
         accounts.c.email, accounts.c.opened_on, accounts.c.closed_on, premises.c.area_m2,
         premises.c.id.label("premise_id"), houses.c.id.label("house_id"), _ADDRESS)


def _natural(column) -> tuple:
    """House and flat numbers in human order: 2 < 10 < 10а (leading digits as a number, then text)."""
    return (cast(func.nullif(func.substring(column, r"^\d+"), ""), Integer).nulls_last(), column)


def _row(r) -> dict[str, Any]:
    return {"id": r.id, "number": r.number, "holder": r.holder, "status": r.status, "phone": r.phone,
            "email": r.email, "opened_on": r.opened_on, "closed_on": r.closed_on,
            "area_m2": r.area_m2, "premise_id": r.premise_id, "house_id": r.house_id, "address": r.address}


async def search_accounts(conn: AsyncConnection, q: str = "", *, limit: int = 50, offset: int = 0):
    """Search by account number (prefix), holder, street, phone or meter serial (prefix); ordered by address."""
    query = select(*_COLS).select_from(_FROM)
    count = select(func.count()).select_from(_FROM)
    q = q.strip()
    if q:
        like = f"%{q.lower()}%"
        cond = or_(accounts.c.number.startswith(q), func.lower(accounts.c.holder).like(like),
                   func.lower(streets.c.name).like(like), accounts.c.phone.contains(q),
                   accounts.c.id.in_(select(_METERS.c.account_id).where(_METERS.c.serial.startswith(q))))
        query, count = query.where(cond), count.where(cond)
    query = query.order_by(streets.c.name, *_natural(houses.c.number), *_natural(premises.c.number),
                           accounts.c.number)
    rows = (await conn.execute(query.limit(limit).offset(offset))).all()
    return [_row(r) for r in rows], (await conn.execute(count)).scalar_one()


async def account_card(conn: AsyncConnection, account_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(select(*_COLS).select_from(_FROM).where(accounts.c.id == account_id))).first()
    return _row(row) if row else None


async def require_account(conn: AsyncConnection, account_id: int) -> None:
    """Raise NotFoundError unless the account exists (in the current tenant)."""
    found = (await conn.execute(select(accounts.c.id).where(accounts.c.id == account_id))).first()
    if found is None:
        raise NotFoundError("Лицевой счёт не найден", field="account_id")


async def require_house(conn: AsyncConnection, house_id: int) -> None:
    """Raise NotFoundError unless the house exists (in the current tenant)."""
    found = (await conn.execute(select(houses.c.id).where(houses.c.id == house_id))).first()
    if found is None:
        raise NotFoundError("Дом не найден", field="house_id")
