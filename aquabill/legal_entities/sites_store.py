"""A contract's sites in the tenant's database: objects, their connection points, sub-subscribers of a point, and
the sites of a contract as the card shows them. Checks are `sites.py`'s; nothing here commits."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.legal_entities.catalogue import POINT_KINDS
from aquabill.legal_entities.contract_store import require_contract
from aquabill.legal_entities.counterparty_store import require_counterparty
from aquabill.legal_entities.point_meters import meters_of
from aquabill.legal_entities.sites import (
    ObjectIn,
    PointIn,
    SubIn,
    check_object,
    check_point,
    check_sub,
    overlaps,
)

HOUSE_ADDRESS = ("concat_ws(', ', concat_ws(' ', se.kind, se.name), concat_ws(' ', st.kind, st.name), "
                 "'д. ' || h.number)")
_POINT = """
    SELECT p.id, p.object_id, o.contract_id, o.name AS object_name, p.kind, p.name, p.diameter_mm, p.tariff_group,
           p.vat_included, p.metered, p.valid_from, p.valid_to, p.note
    FROM contract_points p JOIN contract_objects o ON o.id = p.object_id
"""


def _point(row: dict[str, Any]) -> dict[str, Any]:
    row["kind_name"] = POINT_KINDS[row["kind"]]
    return row


async def add_object(conn: AsyncConnection, contract_id: int, data: ObjectIn, *,
                     user_id: int | None = None) -> dict[str, Any]:
    """A site of the contract; linked to a house of the registry, its address defaults to the house's."""
    await require_contract(conn, contract_id, lock=True)
    row = check_object(data)
    if row["house_id"] is not None:
        house = (await conn.execute(text(
            f"SELECT {HOUSE_ADDRESS} AS address FROM houses h JOIN streets st ON st.id = h.street_id "
            "JOIN settlements se ON se.id = st.settlement_id WHERE h.id = :id"), {"id": row["house_id"]})).first()
        if house is None:
            raise NotFound("Дом не найден в адресном реестре", field="house_id")
        row["address"] = row["address"] or house.address
    return dict((await conn.execute(text(
        "INSERT INTO contract_objects(contract_id, name, address, house_id, note, created_by) "
        "VALUES (:c, :name, :address, :house_id, :note, :user) "
        "RETURNING id, contract_id, name, address, house_id, note"), {**row, "c": contract_id, "user": user_id})
    ).mappings().one())


async def add_point(conn: AsyncConnection, contract_id: int, data: PointIn, *,
                    user_id: int | None = None) -> dict[str, Any]:
    """A connection point of one of the contract's sites."""
    contract = await require_contract(conn, contract_id, lock=True)
    owner = (await conn.execute(text("SELECT contract_id FROM contract_objects WHERE id = :id"),
                                {"id": data.object_id})).scalar()
    if owner != contract_id:
        raise NotFound("Объект не найден в этом договоре", field="object_id")
    row = check_point(data, contract)
    new_id = (await conn.execute(text(
        "INSERT INTO contract_points(object_id, kind, name, diameter_mm, tariff_group, vat_included, metered, "
        "valid_from, valid_to, note, created_by) VALUES (:object_id, :kind, :name, :diameter_mm, :tariff_group, "
        ":vat_included, :metered, :valid_from, :valid_to, :note, :user) RETURNING id"), {**row, "user": user_id})
    ).scalar_one()
    return await get_point(conn, new_id)


async def get_point(conn: AsyncConnection, point_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"{_POINT} WHERE p.id = :id"), {"id": point_id})).mappings().first()
    if row is None:
        raise NotFound("Точка подключения не найдена", field="point_id")
    return _point(dict(row))


async def add_sub(conn: AsyncConnection, point_id: int, data: SubIn, *, user_id: int | None = None) -> dict[str, Any]:
    """A sub-subscriber of the point: its volume is deducted from the point's from `valid_from`. The sub-subscriber
    is a point of another contract (its counterparty follows) or a counterparty without a point here; its point is
    of the same kind (supply from supply, discharge from discharge); one link per pair at a time; no cycles."""
    point = await get_point(conn, point_id)
    row = check_sub(data, point_id)
    if row["sub_point_id"] is not None:
        sub = await _sub_point(conn, row["sub_point_id"])
        if sub["kind"] != point["kind"]:
            raise Invalid(f"Точка субабонента — «{POINT_KINDS[sub['kind']]}», а основная точка — "
                          f"«{POINT_KINDS[point['kind']]}»: вычитается объём того же вида", field="sub_point_id")
        if sub["contract_id"] == point["contract_id"]:
            raise Invalid("Точка субабонента относится к тому же договору: её объём и так учтён отдельно",
                          field="sub_point_id")
        if row["sub_counterparty_id"] not in (None, sub["counterparty_id"]):
            raise Invalid("Указанный контрагент не владеет точкой субабонента", field="sub_counterparty_id")
        row["sub_counterparty_id"] = sub["counterparty_id"]
        if await _reaches(conn, row["sub_point_id"], point_id):
            raise Invalid("Основная точка сама числится субабонентом этой точки: вычет по кругу невозможен",
                          field="sub_point_id")
    else:
        await require_counterparty(conn, row["sub_counterparty_id"])
    for other in (await conn.execute(text(
            "SELECT valid_from, valid_to FROM contract_point_subs WHERE point_id = :p AND "
            "sub_point_id IS NOT DISTINCT FROM :sp AND sub_counterparty_id IS NOT DISTINCT FROM :sc"),
            {"p": point_id, "sp": row["sub_point_id"], "sc": row["sub_counterparty_id"]})).all():
        if overlaps(row["valid_from"], row["valid_to"], other.valid_from, other.valid_to):
            raise Conflict(f"Этот субабонент уже вычитается из точки с {other.valid_from:%d.%m.%Y}",
                           field="valid_from")
    new_id = (await conn.execute(text(
        "INSERT INTO contract_point_subs(point_id, sub_point_id, sub_counterparty_id, valid_from, valid_to, note, "
        "created_by) VALUES (:point_id, :sub_point_id, :sub_counterparty_id, :valid_from, :valid_to, :note, :user) "
        "RETURNING id"), {**row, "user": user_id})).scalar_one()
    return (await subs_of(conn, [point_id], only=new_id))[point_id][0]


async def _sub_point(conn: AsyncConnection, sub_point_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(
        "SELECT p.id, p.kind, o.contract_id, k.counterparty_id FROM contract_points p "
        "JOIN contract_objects o ON o.id = p.object_id JOIN contracts k ON k.id = o.contract_id WHERE p.id = :id"),
        {"id": sub_point_id})).mappings().first()
    if row is None:
        raise NotFound("Точка подключения субабонента не найдена", field="sub_point_id")
    return dict(row)


async def _reaches(conn: AsyncConnection, start: int, target: int) -> bool:
    """Whether `target` is among the sub-subscribers of `start`, directly or further down."""
    return bool((await conn.execute(text("""
        WITH RECURSIVE down(point_id) AS (
          SELECT sub_point_id FROM contract_point_subs WHERE point_id = :start AND sub_point_id IS NOT NULL
          UNION
          SELECT s.sub_point_id FROM contract_point_subs s JOIN down d ON s.point_id = d.point_id
          WHERE s.sub_point_id IS NOT NULL)
        SELECT EXISTS (SELECT 1 FROM down WHERE point_id = :target)"""), {"start": start, "target": target})
    ).scalar_one())


async def subs_of(conn: AsyncConnection, point_ids: list[int], *,
                  only: int | None = None) -> dict[int, list[dict[str, Any]]]:
    rows = (await conn.execute(text("""
        SELECT s.id, s.point_id, s.sub_point_id, s.sub_counterparty_id, s.valid_from, s.valid_to, s.note,
               coalesce(nullif(c.short_name, ''), c.name) AS counterparty, sp.name AS sub_point_name,
               k.id AS sub_contract_id, k.number AS sub_contract_number
        FROM contract_point_subs s
        LEFT JOIN counterparties c ON c.id = s.sub_counterparty_id
        LEFT JOIN contract_points sp ON sp.id = s.sub_point_id
        LEFT JOIN contract_objects so ON so.id = sp.object_id
        LEFT JOIN contracts k ON k.id = so.contract_id
        WHERE s.point_id = ANY(:ids) AND (CAST(:only AS int) IS NULL OR s.id = :only)
        ORDER BY s.point_id, s.valid_from, s.id"""), {"ids": point_ids, "only": only})).mappings().all()
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        found[r["point_id"]].append(dict(r))
    return found


async def sites_of(conn: AsyncConnection, contract_id: int, *, today: date) -> list[dict[str, Any]]:
    """The contract's objects, each with its points; a point with its meters and sub-subscribers."""
    objects = [dict(r) for r in (await conn.execute(text(
        "SELECT id, name, address, house_id, note FROM contract_objects WHERE contract_id = :c ORDER BY id"),
        {"c": contract_id})).mappings()]
    points = [_point(dict(r)) for r in (await conn.execute(text(
        f"{_POINT} WHERE o.contract_id = :c ORDER BY p.object_id, p.kind DESC, p.id"), {"c": contract_id})
    ).mappings()]
    ids = [p["id"] for p in points]
    meters = await meters_of(conn, ids, today=today)
    subs = await subs_of(conn, ids)
    by_object: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in points:
        p["meters"] = meters.get(p["id"], [])
        p["meter"] = next((m for m in p["meters"] if m["state"] != "removed"), None)
        p["subs"] = subs.get(p["id"], [])
        by_object[p["object_id"]].append(p)
    for o in objects:
        o["points"] = by_object.get(o["id"], [])
    return objects
