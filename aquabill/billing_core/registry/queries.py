"""Account search and the account card."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Integer, cast, column, func, or_, select, table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import NotFound
from aquabill.billing_core.registry.tables import accounts, houses, premises, settlements, streets

_ADDRESS = func.concat_ws(
    ", ",
    func.concat_ws(" ", settlements.c.kind, settlements.c.name),
    func.concat_ws(" ", streets.c.kind, streets.c.name),
    func.concat("д. ", houses.c.number),
    func.nullif(func.concat("кв. ", premises.c.number), "кв. "),
).label("address")

_METERS = table("meters", column("account_id"), column("serial"))

ACCOUNT_FROM = (
    accounts.join(premises, premises.c.id == accounts.c.premise_id)
    .join(houses, houses.c.id == premises.c.house_id)
    .join(streets, streets.c.id == houses.c.street_id)
    .join(settlements, settlements.c.id == streets.c.settlement_id)
)

ACCOUNT_COLUMNS = (accounts.c.id, accounts.c.number, accounts.c.holder, accounts.c.status, accounts.c.phone,
         accounts.c.email, accounts.c.opened_on, accounts.c.closed_on, premises.c.area_m2,
         premises.c.id.label("premise_id"), houses.c.id.label("house_id"), _ADDRESS)


def _natural(column) -> tuple:
    """House and flat numbers in human order: 2 < 10 < 10а (leading digits as a number, then text)."""
    return (cast(func.nullif(func.substring(column, r"^\d+"), ""), Integer).nulls_last(), column)


# «ул. Гагарина, д. 2, кв. 15», «Гагарина 2-15», «пр. Мира 10а кв 3»: a street, a house and maybe a flat
_ADDRESS_QUERY = re.compile(
    r"^(?:(?:ул|улица|пр|пр-т|проспект|пер|переулок|б-р|бульвар|ш|шоссе|пл|площадь)\.?\s+)?"
    r"(?P<street>[^\d,]*[^\d\s,.])[\s,.]*(?:д\.?|дом)?\s*(?P<house>\d+[^\s,\-]*)"
    r"(?:[\s,\-]*(?:кв\.?|квартира)?\s*(?P<flat>\d+\S*))?$", re.IGNORECASE)


def _address_condition(q: str):
    """A street-and-house(-and-flat) query as a condition, or None when `q` does not read as an address."""
    m = _ADDRESS_QUERY.match(q)
    if m is None:
        return None
    cond = (func.lower(streets.c.name).like(f"%{m['street'].strip().lower()}%")
            & (func.lower(houses.c.number) == m["house"].lower()))
    if m["flat"]:
        cond = cond & (func.lower(premises.c.number) == m["flat"].lower())
    return cond


def account_row(r) -> dict[str, Any]:
    return {"id": r.id, "number": r.number, "holder": r.holder, "status": r.status, "phone": r.phone,
            "email": r.email, "opened_on": r.opened_on, "closed_on": r.closed_on,
            "area_m2": r.area_m2, "premise_id": r.premise_id, "house_id": r.house_id, "address": r.address}


async def search_accounts(conn: AsyncConnection, q: str = "", *, limit: int = 50, offset: int = 0):
    """Search by account number (prefix), holder, street, address (street, house, flat), phone or meter serial
    (prefix); ordered by address."""
    query = select(*ACCOUNT_COLUMNS).select_from(ACCOUNT_FROM)
    count = select(func.count()).select_from(ACCOUNT_FROM)
    q = q.strip()
    if q:
        like = f"%{q.lower()}%"
        cond = or_(accounts.c.number.startswith(q), func.lower(accounts.c.holder).like(like),
                   func.lower(streets.c.name).like(like), accounts.c.phone.contains(q),
                   accounts.c.id.in_(select(_METERS.c.account_id).where(_METERS.c.serial.startswith(q))))
        address = _address_condition(q)
        if address is not None:
            cond = or_(cond, address)
        query, count = query.where(cond), count.where(cond)
    query = query.order_by(streets.c.name, *_natural(houses.c.number), *_natural(premises.c.number),
                           accounts.c.number)
    rows = (await conn.execute(query.limit(limit).offset(offset))).all()
    return [account_row(r) for r in rows], (await conn.execute(count)).scalar_one()


async def account_card(conn: AsyncConnection, account_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(select(*ACCOUNT_COLUMNS).select_from(ACCOUNT_FROM).where(accounts.c.id == account_id))).first()
    return account_row(row) if row else None


async def account_exists(conn: AsyncConnection, account_id: int) -> bool:
    return (await conn.execute(select(accounts.c.id).where(accounts.c.id == account_id))).first() is not None


async def house_exists(conn: AsyncConnection, house_id: int) -> bool:
    return (await conn.execute(select(houses.c.id).where(houses.c.id == house_id))).first() is not None


async def require_account(conn: AsyncConnection, account_id: int) -> None:
    """Raise NotFound unless the account exists (in the current tenant)."""
    if not await account_exists(conn, account_id):
        raise NotFound("Лицевой счёт не найден", field="account_id")


async def require_house(conn: AsyncConnection, house_id: int) -> None:
    """Raise NotFound unless the house exists (in the current tenant)."""
    if not await house_exists(conn, house_id):
        raise NotFound("Дом не найден", field="house_id")


HOUSE_ADDRESS = ("concat_ws(', ', concat_ws(' ', se.kind, se.name), concat_ws(' ', st.kind, st.name), "
                 "'д. ' || h.number)")


async def house_options(conn: AsyncConnection, q: str = "", *, limit: int = 200) -> list[dict[str, Any]]:
    """Houses for a run's scope: address (matched by street or house number) and number of accounts."""
    q = q.strip().lower()
    rows = await conn.execute(text(f"""
        SELECT h.id, {HOUSE_ADDRESS} AS address,
               (SELECT count(*) FROM premises p JOIN accounts a ON a.premise_id = p.id WHERE p.house_id = h.id)
                 AS accounts
        FROM houses h JOIN streets st ON st.id = h.street_id JOIN settlements se ON se.id = st.settlement_id
        WHERE :q = '' OR lower(st.name) LIKE :like OR lower(h.number) LIKE :prefix
              OR lower({HOUSE_ADDRESS}) LIKE :like
        ORDER BY st.name, CAST(nullif(substring(h.number FROM '^\\d+'), '') AS int) NULLS LAST, h.number, h.id
        LIMIT :limit"""), {"q": q, "like": f"%{q}%", "prefix": f"{q}%", "limit": limit})
    return [dict(r._mapping) for r in rows]


async def account_by_number(conn: AsyncConnection, number: str) -> int | None:
    return (await conn.execute(text("SELECT id FROM accounts WHERE number = :n"), {"n": number.strip()})).scalar()


async def registry_counts(conn: AsyncConnection) -> dict[str, int]:
    """How many accounts and houses the tenant has."""
    row = (await conn.execute(text(
        "SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM houses) AS houses"))).one()
    return row._asdict()


async def house_choices(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every house as «street, д. N», for a select."""
    return [dict(r._mapping) for r in await conn.execute(text(
        "SELECT h.id, concat_ws(' ', st.kind, st.name) || ', д. ' || h.number AS address FROM houses h "
        "JOIN streets st ON st.id = h.street_id ORDER BY st.name, h.number"))]


async def street_choices(conn: AsyncConnection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await conn.execute(text(
        "SELECT id, concat_ws(' ', kind, name) AS name FROM streets ORDER BY name"))]
