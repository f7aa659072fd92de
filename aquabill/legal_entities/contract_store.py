"""Contracts in the tenant's database: create (with version 1 of its terms), change status and end, add a version
(an addendum from a day), the terms in force on a day, the list with filters and paging, and the contract with its
terms (in force and their history). The sites are `sites_store.py`'s, the whole card `contract_card.py`'s. Checks are
`contracts.py`'s; nothing here commits."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.legal_entities.catalogue import CONTRACT_KINDS, CONTRACT_STATUSES, VAT_MODES, clean
from aquabill.legal_entities.contracts import (
    ContractIn,
    PaymentTerms,
    VersionIn,
    check_contract,
    check_day,
    check_status_move,
    check_version,
    contract_basis,
    version_on,
)
from aquabill.legal_entities.counterparty_store import require_counterparty

_SELECT = """
    SELECT k.id, k.number, k.signed_on, k.counterparty_id, k.kind, k.status, k.valid_from, k.valid_to, k.note,
           k.created_at, c.name AS counterparty_name, coalesce(nullif(c.short_name, ''), c.name) AS counterparty,
           c.inn AS counterparty_inn, c.kpp AS counterparty_kpp
    FROM contracts k JOIN counterparties c ON c.id = k.counterparty_id
"""

# the list adds the counts of sites, points and metered points
_LIST = _SELECT.replace("c.kpp AS counterparty_kpp", "c.kpp AS counterparty_kpp, s.objects, s.points, s.metered") + """
    LEFT JOIN LATERAL (SELECT count(DISTINCT o.id) AS objects, count(p.id) AS points,
                              count(p.id) FILTER (WHERE p.metered) AS metered
                       FROM contract_objects o LEFT JOIN contract_points p ON p.object_id = o.id
                       WHERE o.contract_id = k.id) s ON true
"""


def _named(row: dict[str, Any]) -> dict[str, Any]:
    row["kind_name"] = CONTRACT_KINDS[row["kind"]]
    row["status_name"] = CONTRACT_STATUSES[row["status"]]
    return row


def _version(row: dict[str, Any]) -> dict[str, Any]:
    terms = PaymentTerms.from_json(row["payment_terms"])
    row["payment"] = terms.describe()
    row["vat_mode_name"] = VAT_MODES[row["vat_mode"]]
    return row


async def _contract(conn: AsyncConnection, contract_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (await conn.execute(text(f"{_SELECT} WHERE k.id = :id" + (" FOR UPDATE OF k" if lock else "")),
                              {"id": contract_id})).mappings().first()
    if row is None:
        raise NotFound("Договор не найден", field="contract_id")
    return _named(dict(row))


async def require_contract(conn: AsyncConnection, contract_id: int, *, lock: bool = False) -> dict[str, Any]:
    return await _contract(conn, contract_id, lock=lock)


async def _number_taken(conn: AsyncConnection, number: str) -> None:
    same = (await conn.execute(text(
        "SELECT k.number, coalesce(nullif(c.short_name, ''), c.name) AS who FROM contracts k "
        "JOIN counterparties c ON c.id = k.counterparty_id WHERE upper(k.number) = upper(:n)"), {"n": number})).first()
    if same is not None:
        raise Conflict(f"Договор № {same.number} уже есть (контрагент «{same.who}»)", field="number")


async def create_contract(conn: AsyncConnection, data: ContractIn, first: VersionIn, *,
                          user_id: int | None = None) -> dict[str, Any]:
    """The contract and version 1 of its terms (from the contract's first day; the basis is the contract)."""
    counterparty = await require_counterparty(conn, data.counterparty_id)
    row = check_contract(data)
    if not counterparty["active"]:
        raise Invalid(f"Контрагент «{counterparty['display_name']}» отмечен неактивным: договор с ним не "
                      "заключается", field="counterparty_id")
    basis = first.basis or contract_basis(row["number"], row["signed_on"])
    version = check_version(VersionIn(row["valid_from"], basis, first.terms, first.vat_mode, first.stormwater_area_m2,
                                      first.runoff_coefficient, first.note), row)
    await _number_taken(conn, row["number"])
    contract_id = (await conn.execute(text(
        "INSERT INTO contracts(number, signed_on, counterparty_id, kind, valid_from, valid_to, note, created_by) "
        "VALUES (:number, :signed_on, :counterparty_id, :kind, :valid_from, :valid_to, :note, :user) "
        "ON CONFLICT DO NOTHING RETURNING id"), {**row, "user": user_id})).scalar()
    if contract_id is None:  # the same number written by a concurrent request after the check above
        await _number_taken(conn, row["number"])
    await _insert_version(conn, contract_id, 1, version, user_id)
    return await get_contract(conn, contract_id)


async def _insert_version(conn: AsyncConnection, contract_id: int, number: int, v: dict[str, Any],
                          user_id: int | None) -> int:
    return (await conn.execute(text(
        "INSERT INTO contract_versions(contract_id, version, valid_from, basis, payment_terms, vat_mode, "
        "stormwater_area_m2, runoff_coefficient, note, created_by) VALUES (:c, :n, :valid_from, :basis, "
        "CAST(:terms AS jsonb), :vat_mode, :stormwater_area_m2, :runoff_coefficient, :note, :user) RETURNING id"),
        {**v, "terms": json.dumps(v["payment_terms"]), "c": contract_id, "n": number, "user": user_id})).scalar_one()


async def add_version(conn: AsyncConnection, contract_id: int, data: VersionIn, *,
                      user_id: int | None = None) -> dict[str, Any]:
    """An addendum: the next version number, in force from its day until a later version starts."""
    contract = await _contract(conn, contract_id, lock=True)
    v = check_version(data, contract)
    same = (await conn.execute(text(
        "SELECT version FROM contract_versions WHERE contract_id = :c AND valid_from = :d"),
        {"c": contract_id, "d": v["valid_from"]})).scalar()
    if same is not None:
        raise Conflict(f"Условия с {v['valid_from']:%d.%m.%Y} уже есть (редакция {same}): укажите другую дату",
                       field="valid_from")
    number = (await conn.execute(text(
        "SELECT coalesce(max(version), 0) + 1 FROM contract_versions WHERE contract_id = :c"),
        {"c": contract_id})).scalar_one()
    version_id = await _insert_version(conn, contract_id, number, v, user_id)
    return await _version_row(conn, version_id)


async def _version_row(conn: AsyncConnection, version_id: int) -> dict[str, Any]:
    return _version(dict((await conn.execute(text(
        "SELECT id, contract_id, version, valid_from, basis, payment_terms, vat_mode, stormwater_area_m2, "
        "runoff_coefficient, note, created_at FROM contract_versions WHERE id = :id"), {"id": version_id})
    ).mappings().one()))


async def versions(conn: AsyncConnection, contract_id: int) -> list[dict[str, Any]]:
    """Every version of the terms, latest start first."""
    rows = (await conn.execute(text(
        "SELECT id, contract_id, version, valid_from, basis, payment_terms, vat_mode, stormwater_area_m2, "
        "runoff_coefficient, note, created_at FROM contract_versions WHERE contract_id = :c "
        "ORDER BY valid_from DESC, version DESC"), {"c": contract_id})).mappings().all()
    return [_version(dict(r)) for r in rows]


async def terms_on(conn: AsyncConnection, contract_id: int, on: date) -> dict[str, Any]:
    """The version in force on `on`; refused before the contract's first day."""
    await _contract(conn, contract_id)
    found = version_on(await versions(conn, contract_id), on)
    if found is None:
        raise NotFound(f"На {on:%d.%m.%Y} условия договора ещё не действовали", field="on")
    return found


async def update_contract(conn: AsyncConnection, contract_id: int, *, status: str | None = None,
                          valid_to: date | None = None, clear_valid_to: bool = False,
                          note: str | None = None) -> dict[str, Any]:
    """Status (draft → active → terminated), the last day in force, the note."""
    contract = await _contract(conn, contract_id, lock=True)
    end = None if clear_valid_to else (valid_to if valid_to is not None else contract["valid_to"])
    end = check_day(end, field="valid_to", what="дату окончания действия", required=False)
    if end is not None:
        if end < contract["valid_from"]:
            raise Invalid("Дата окончания действия договора раньше даты начала", field="valid_to")
        later = (await conn.execute(text(
            "SELECT max(valid_from) FROM contract_versions WHERE contract_id = :c"), {"c": contract_id})).scalar()
        if later is not None and end < later:
            raise Invalid(f"Есть условия, действующие с {later:%d.%m.%Y}: договор не может закончиться раньше",
                          field="valid_to")
    new_status = check_status_move(contract["status"], status if status is not None else contract["status"], end)
    new_note = contract["note"] if note is None else clean(note, field="note", what="примечание", limit=4000,
                                                             multiline=True)
    await conn.execute(text("UPDATE contracts SET status = :s, valid_to = :e, note = :n WHERE id = :id"),
                       {"s": new_status, "e": end, "n": new_note, "id": contract_id})
    return await _contract(conn, contract_id)


async def list_contracts(conn: AsyncConnection, q: str = "", *, kind: str | None = None, status: str | None = None,
                         counterparty_id: int | None = None, limit: int = 50,
                         offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Search by the contract's number (any part), the counterparty's name (any part) or INN (its start)."""
    where, params = ["true"], {"limit": limit, "offset": offset}
    q = q.strip()
    if q:
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("(lower(k.number) LIKE :like OR lower(c.name) LIKE :like OR lower(c.short_name) LIKE :like "
                     "OR c.inn LIKE :prefix)")
        params.update(like=f"%{escaped}%", prefix=escaped + "%")
    for column, value in (("k.kind", kind), ("k.status", status), ("k.counterparty_id", counterparty_id)):
        if value is not None:
            key = column.split(".")[1]
            where.append(f"{column} = :{key}")
            params[key] = value
    cond = " AND ".join(where)
    rows = (await conn.execute(text(f"""
        {_LIST} WHERE {cond} ORDER BY k.signed_on DESC, k.id DESC LIMIT :limit OFFSET :offset"""), params)
    ).mappings().all()
    total = (await conn.execute(text(
        f"SELECT count(*) FROM contracts k JOIN counterparties c ON c.id = k.counterparty_id WHERE {cond}"), params)
    ).scalar_one()
    return [_named(dict(r)) for r in rows], total


async def get_contract(conn: AsyncConnection, contract_id: int, on: date | None = None) -> dict[str, Any]:
    """The contract with the terms in force on `on` (default today) and their history (`contract_card` adds the
    sites)."""
    card = await _contract(conn, contract_id)
    on = on or date.today()
    history = await versions(conn, contract_id)
    card.update(on=on, versions=history, in_force=version_on(history, on))
    return card
