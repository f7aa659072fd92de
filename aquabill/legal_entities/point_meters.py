"""Commercial meters of contract points, kept in the existing meter model.

A point's meter is a `meters` row of kind 'commercial' with `contract_point_id` set and neither an account nor a
house (migration t0032): the individuals' machinery that works by meter id applies unchanged — readings are
validated and stored by `billing_core.metering` (`add_reading`: the closed-period guard, the checks against the
meter's digits and neighbouring readings, flagged readings confirmed by an operator), the verification date and
the seal are the meter's columns. The service the meter measures follows the point: a supply point's meter
measures cold water, a discharge point's sewage. Installing a meter marks the point metered. Nothing commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.metering.meters import STATES, MeterInstall, check_install, meter_state
from aquabill.billing_core.metering.reading_entry import add_reading, parse_reading_value, reading_row
from aquabill.billing_core.periods_guard import ensure_open
from aquabill.legal_entities.catalogue import METER_SERVICE_OF, clean

_METER = """
    SELECT m.id, m.contract_point_id AS point_id, m.serial, m.digits, m.fraction_digits, m.reversible,
           m.installed_on, m.initial_reading, m.verified_until, m.failed_on, m.removed_on, m.seal_number, m.sealed_on,
           s.code AS service_code, s.name AS service_name,
           lr.id AS last_reading_id, lr.read_on AS last_read_on, lr.value AS last_value
    FROM meters m JOIN services s ON s.id = m.service_id
    LEFT JOIN LATERAL (
      SELECT r.id, r.read_on, r.value FROM readings r
      WHERE r.meter_id = m.id AND r.status = 'accepted' ORDER BY r.read_on DESC, r.id DESC LIMIT 1
    ) lr ON true
    WHERE m.kind = 'commercial'
"""


def _meter(row: dict[str, Any], today: date) -> dict[str, Any]:
    last = ({"id": row.pop("last_reading_id"), "read_on": row.pop("last_read_on"), "value": row.pop("last_value")})
    row["last_reading"] = last if last["id"] is not None else None
    row["state"] = meter_state(row, today)
    row["state_name"] = STATES[row["state"]]
    return row


async def meters_of(conn: AsyncConnection, point_ids: list[int], *, today: date) -> dict[int, list[dict[str, Any]]]:
    """The meters of the points (current first, then the removed ones), by point id."""
    rows = (await conn.execute(text(
        f"{_METER} AND m.contract_point_id = ANY(:ids) ORDER BY m.contract_point_id, m.removed_on IS NOT NULL, "
        "m.installed_on DESC, m.id DESC"), {"ids": point_ids})).mappings().all()
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        found[r["point_id"]].append(_meter(dict(r), today))
    return found


async def get_point_meter(conn: AsyncConnection, meter_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"{_METER} AND m.id = :id"), {"id": meter_id})).mappings().first()
    if row is None:
        raise NotFound("Счётчик точки подключения не найден", field="meter_id")
    return _meter(dict(row), date.today())


async def install_point_meter(conn: AsyncConnection, point_id: int, m: MeterInstall) -> dict[str, Any]:
    """A commercial meter on the point, installed on `m.installed_on` (refused inside a closed period, or while
    another meter of the point is installed, or while the serial number of that service is in use)."""
    point = (await conn.execute(text(
        "SELECT p.id, p.kind, p.valid_from, p.valid_to FROM contract_points p WHERE p.id = :id FOR UPDATE"),
        {"id": point_id})).first()
    if point is None:
        raise NotFound("Точка подключения не найдена", field="point_id")
    m = replace(m, serial=clean(m.serial, field="serial", what="заводской номер счётчика", limit=64, required=True),
                seal_number=clean(m.seal_number, field="seal_number", what="номер пломбы", limit=64) or None)
    check_install(m)
    if m.installed_on < point.valid_from or (point.valid_to is not None and m.installed_on > point.valid_to):
        raise Invalid(f"Счётчик устанавливается, пока точка в договоре (с {point.valid_from:%d.%m.%Y}"
                      + (f" по {point.valid_to:%d.%m.%Y}" if point.valid_to else "") + ")", field="installed_on")
    current = (await conn.execute(text(
        "SELECT serial, installed_on FROM meters WHERE contract_point_id = :p AND "
        "(removed_on IS NULL OR removed_on > :on) ORDER BY id LIMIT 1"), {"p": point_id, "on": m.installed_on})).first()
    if current is not None:
        raise Conflict(f"На точке уже установлен счётчик № {current.serial} (с {current.installed_on:%d.%m.%Y}): "
                       "сначала его снимают", field="serial")
    service_id = (await conn.execute(text("SELECT id FROM services WHERE code = :c"),
                                     {"c": METER_SERVICE_OF[point.kind]})).scalar()
    if service_id is None:
        raise Invalid(f"В справочнике услуг нет услуги «{METER_SERVICE_OF[point.kind]}»", field="point_id")
    serial = m.serial.strip()
    busy = (await conn.execute(text(
        "SELECT installed_on FROM meters WHERE lower(serial) = lower(:s) AND service_id = :svc "
        "AND (removed_on IS NULL OR removed_on > :on) ORDER BY id LIMIT 1"),
        {"s": serial, "svc": service_id, "on": m.installed_on})).first()
    if busy is not None:
        raise Conflict(f"Счётчик № {serial} этой услуги уже установлен с {busy.installed_on:%d.%m.%Y}",
                       field="serial")
    await ensure_open(conn, m.installed_on, what=f"установка счётчика {m.installed_on:%d.%m.%Y}",
                      field="installed_on")
    meter_id = (await conn.execute(text("""
        INSERT INTO meters(kind, contract_point_id, service_id, serial, digits, fraction_digits, reversible,
                           installed_on, initial_reading, verified_until, seal_number, sealed_on)
        VALUES ('commercial', :p, :svc, :serial, :digits, :fraction_digits, :reversible, :installed_on,
                :initial_reading, :verified_until, :seal_number, :sealed_on)
        ON CONFLICT DO NOTHING RETURNING id"""), {
        "p": point_id, "svc": service_id, "serial": serial, "digits": m.digits, "fraction_digits": m.fraction_digits,
        "reversible": m.reversible, "installed_on": m.installed_on, "initial_reading": m.initial_reading,
        "verified_until": m.verified_until, "seal_number": (m.seal_number or "").strip() or None,
        "sealed_on": m.sealed_on})).scalar()
    if meter_id is None:  # the same serial, service and day (meters' unique key), e.g. a removed meter's
        raise Conflict(f"Счётчик № {serial} с датой установки {m.installed_on:%d.%m.%Y} уже есть", field="serial")
    await conn.execute(text("UPDATE contract_points SET metered = true WHERE id = :p AND NOT metered"),
                       {"p": point_id})
    return await get_point_meter(conn, meter_id)


async def add_point_reading(conn: AsyncConnection, meter_id: int, *, read_on: date, value: str | Decimal,
                            user_id: int | None = None) -> dict[str, Any]:
    """A reading of a point's meter, through the individuals' path (validation, closed periods, duplicates)."""
    await get_point_meter(conn, meter_id)
    return await add_reading(conn, meter_id, read_on=read_on, value=parse_reading_value(value), source="operator",
                             user_id=user_id)


async def readings_of_contract(conn: AsyncConnection, contract_id: int, *,
                               limit: int = 20) -> tuple[list[dict[str, Any]], int]:
    """The latest readings of the contract's meters, newest first."""
    where = ("FROM readings r JOIN meters m ON m.id = r.meter_id JOIN contract_points p ON p.id = m.contract_point_id "
             "JOIN contract_objects o ON o.id = p.object_id WHERE o.contract_id = :c")
    rows = (await conn.execute(text(
        "SELECT r.id, r.meter_id, m.serial, s.name AS service_name, m.account_id, r.read_on, r.value, r.source, "
        "r.status, r.consumption, r.rollover, r.reason, r.created_at, r.created_by, p.name AS point_name "
        f"{where.replace('WHERE', 'JOIN services s ON s.id = m.service_id WHERE')} "
        "ORDER BY r.read_on DESC, r.id DESC LIMIT :limit"), {"c": contract_id, "limit": limit})).all()
    total = (await conn.execute(text(f"SELECT count(*) {where}"), {"c": contract_id})).scalar_one()
    return [{**reading_row(r), "point_name": r.point_name} for r in rows], total
