"""Counterparties in the tenant's database: create (a second one with the same INN and KPP is refused, naming the
first), change (a new penalty category with the day it holds from: category_store.py), search by name or INN with
paging, the card (requisites, the category's history, bank accounts, contacts, contracts), bank accounts and
contacts. The checks are `counterparties.py`'s; nothing here commits."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.legal_entities.catalogue import (
    CONTRACT_KINDS,
    CONTRACT_STATUSES,
    COUNTERPARTY_KINDS,
    PENALTY_CATEGORIES,
)
from aquabill.legal_entities.category_store import category_changes, record_change
from aquabill.legal_entities.counterparties import (
    BankAccountIn,
    ContactIn,
    CounterpartyIn,
    check_bank_account,
    check_contact,
    check_counterparty,
)

COLUMNS = ("kind", "name", "short_name", "inn", "kpp", "ogrn", "last_name", "first_name", "middle_name",
           "legal_address", "postal_address", "email", "phone", "edo_id", "penalty_category", "note", "active")
_SELECT = ("SELECT c.id, " + ", ".join(f"c.{col}" for col in COLUMNS)
           + ", c.created_at, c.updated_at, c.created_by FROM counterparties c")


def _named(row: dict[str, Any]) -> dict[str, Any]:
    row["kind_name"] = COUNTERPARTY_KINDS[row["kind"]]
    row["penalty_category_name"] = PENALTY_CATEGORIES[row["penalty_category"]]
    row["display_name"] = row["short_name"] or row["name"]
    return row


async def _duplicate(conn: AsyncConnection, inn: str, kpp: str, exclude: int | None = None) -> None:
    same = (await conn.execute(text(
        "SELECT id, name FROM counterparties WHERE inn = :inn AND kpp = :kpp AND id IS DISTINCT FROM :x"),
        {"inn": inn, "kpp": kpp, "x": exclude})).first()
    if same is not None:
        who = f"ИНН {inn}" + (f" и КПП {kpp}" if kpp else "")
        raise Conflict(f"Контрагент с {who} уже есть: «{same.name}» (№ {same.id})", field="inn")


async def create_counterparty(conn: AsyncConnection, data: CounterpartyIn, *,
                              user_id: int | None = None) -> dict[str, Any]:
    row = check_counterparty(data)
    await _duplicate(conn, row["inn"], row["kpp"])
    names = ", ".join(COLUMNS)
    new_id = (await conn.execute(text(
        f"INSERT INTO counterparties({names}, created_by) VALUES ({', '.join(':' + c for c in COLUMNS)}, :user) "
        "ON CONFLICT DO NOTHING RETURNING id"), {**row, "user": user_id})).scalar()
    if new_id is None:  # written by a concurrent request after the check above
        await _duplicate(conn, row["inn"], row["kpp"])
    return await get_counterparty(conn, new_id)


async def update_counterparty(conn: AsyncConnection, counterparty_id: int, changes: dict[str, Any], *,
                              category_from: date | None = None, category_note: str = "",
                              user_id: int | None = None) -> dict[str, Any]:
    """Change some of the stated values (the others are kept); the whole is checked again. A new penalty category
    holds from `category_from` (default: today): its change is written beside (category_store.record_change)."""
    current = await _row(conn, counterparty_id, lock=True)
    unknown = set(changes) - set(COLUMNS)
    if unknown:
        raise Invalid("Неизвестные поля: " + ", ".join(sorted(unknown)), field=sorted(unknown)[0])
    merged = CounterpartyIn(**{f.name: changes.get(f.name, current[f.name]) for f in fields(CounterpartyIn)})
    row = check_counterparty(merged)
    await _duplicate(conn, row["inn"], row["kpp"], exclude=counterparty_id)
    await record_change(conn, counterparty_id, current["penalty_category"], row["penalty_category"], category_from,
                        today=date.today(), note=category_note, user_id=user_id)
    sets = ", ".join(f"{c} = :{c}" for c in COLUMNS)
    try:
        async with conn.begin_nested():
            await conn.execute(text(f"UPDATE counterparties SET {sets}, updated_at = now() WHERE id = :id"),
                               {**row, "id": counterparty_id})
    except IntegrityError:  # the same INN and KPP written by a concurrent request after the check above
        await _duplicate(conn, row["inn"], row["kpp"], exclude=counterparty_id)
        raise
    return await get_counterparty(conn, counterparty_id)


async def _row(conn: AsyncConnection, counterparty_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (await conn.execute(text(f"{_SELECT} WHERE c.id = :id" + (" FOR UPDATE" if lock else "")),
                              {"id": counterparty_id})).mappings().first()
    if row is None:
        raise NotFound("Контрагент не найден", field="counterparty_id")
    return dict(row)


async def require_counterparty(conn: AsyncConnection, counterparty_id: int) -> dict[str, Any]:
    return _named(await _row(conn, counterparty_id))


async def get_counterparty(conn: AsyncConnection, counterparty_id: int) -> dict[str, Any]:
    """The card: requisites, the changes of the penalty category (the newest first), bank accounts (main first),
    contacts and contracts."""
    card = _named(await _row(conn, counterparty_id))
    card["category_changes"] = await category_changes(conn, counterparty_id)
    card["bank_accounts"] = [dict(r) for r in (await conn.execute(text(
        "SELECT id, bic, account, bank_name, corr_account, main, active, created_at FROM counterparty_bank_accounts "
        "WHERE counterparty_id = :id ORDER BY main DESC, active DESC, id"), {"id": counterparty_id})).mappings()]
    card["contacts"] = [dict(r) for r in (await conn.execute(text(
        "SELECT id, person, position, phone, email, note FROM counterparty_contacts WHERE counterparty_id = :id "
        "ORDER BY id"), {"id": counterparty_id})).mappings()]
    card["contracts"] = [{**dict(r), "kind_name": CONTRACT_KINDS[r["kind"]],
                          "status_name": CONTRACT_STATUSES[r["status"]]} for r in (await conn.execute(text(
        "SELECT id, number, signed_on, kind, status, valid_from, valid_to FROM contracts WHERE counterparty_id = :id "
        "ORDER BY signed_on DESC, id DESC"), {"id": counterparty_id})).mappings()]
    return card


async def list_counterparties(conn: AsyncConnection, q: str = "", *, kind: str | None = None,
                              active: bool | None = None, limit: int = 50,
                              offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Search: any part of the name or short name (case-insensitive), or the start of the INN; by name."""
    where, params = ["true"], {"limit": limit, "offset": offset}
    q = q.strip()
    if q:
        where.append("(lower(c.name) LIKE :like OR lower(c.short_name) LIKE :like OR c.inn LIKE :prefix)")
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.update(like=f"%{escaped}%", prefix=escaped + "%")
    if kind is not None:
        where.append("c.kind = :kind")
        params["kind"] = kind
    if active is not None:
        where.append("c.active = :active")
        params["active"] = active
    cond = " AND ".join(where)
    rows = (await conn.execute(text(
        f"{_SELECT} WHERE {cond} ORDER BY lower(coalesce(nullif(c.short_name, ''), c.name)), c.id "
        "LIMIT :limit OFFSET :offset"), params)).mappings().all()
    items = [_named(dict(r)) for r in rows]
    if items:
        counts = dict((await conn.execute(text(
            "SELECT counterparty_id, count(*) FILTER (WHERE status = 'active') FROM contracts "
            "WHERE counterparty_id = ANY(:ids) GROUP BY counterparty_id"), {"ids": [i["id"] for i in items]})).all())
        for item in items:
            item["active_contracts"] = counts.get(item["id"], 0)
    total = (await conn.execute(text(f"SELECT count(*) FROM counterparties c WHERE {cond}"), params)).scalar_one()
    return items, total


async def add_bank_account(conn: AsyncConnection, counterparty_id: int, data: BankAccountIn, *,
                           user_id: int | None = None) -> dict[str, Any]:
    """A settlement account; the first one (or one stated main) becomes the main account."""
    await _row(conn, counterparty_id, lock=True)
    row = check_bank_account(data)
    has_main = (await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM counterparty_bank_accounts WHERE counterparty_id = :id AND main)"),
        {"id": counterparty_id})).scalar_one()
    main = row["main"] or not has_main
    if main and has_main:
        await conn.execute(text("UPDATE counterparty_bank_accounts SET main = false WHERE counterparty_id = :id "
                                "AND main"), {"id": counterparty_id})
    new_id = (await conn.execute(text(
        "INSERT INTO counterparty_bank_accounts(counterparty_id, bic, account, bank_name, corr_account, main, "
        "created_by) VALUES (:cp, :bic, :account, :bank_name, :corr_account, :main, :user) "
        "ON CONFLICT DO NOTHING RETURNING id"), {**row, "main": main, "cp": counterparty_id, "user": user_id})).scalar()
    if new_id is None:
        raise Conflict(f"Счёт {row['account']} в банке с БИК {row['bic']} у контрагента уже есть", field="account")
    return dict((await conn.execute(text(
        "SELECT id, counterparty_id, bic, account, bank_name, corr_account, main, active FROM "
        "counterparty_bank_accounts WHERE id = :id"), {"id": new_id})).mappings().one())


async def add_contact(conn: AsyncConnection, counterparty_id: int, data: ContactIn, *,
                      user_id: int | None = None) -> dict[str, Any]:
    await _row(conn, counterparty_id)
    row = check_contact(data)
    return dict((await conn.execute(text(
        "INSERT INTO counterparty_contacts(counterparty_id, person, position, phone, email, note, created_by) "
        "VALUES (:cp, :person, :position, :phone, :email, :note, :user) "
        "RETURNING id, counterparty_id, person, position, phone, email, note"),
        {**row, "cp": counterparty_id, "user": user_id})).mappings().one())


def counterparty_in(raw: dict[str, Any]) -> CounterpartyIn:
    """A `CounterpartyIn` from a mapping (the API's body, a form): absent fields take their defaults."""
    defaults = asdict(CounterpartyIn(kind="", name="", inn=""))
    return CounterpartyIn(**{k: raw.get(k, v) for k, v in defaults.items()})
