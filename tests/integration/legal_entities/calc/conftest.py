"""The calculation's tests: a tenant with the tariffs of 2026 and quick SQL makers of contracts, points, meters and
readings (the contract API is tested elsewhere; here the data is written as the stores would)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from tests.integration.legal_entities.conftest import town
from tests.integration.legal_entities.helpers import org_requisites

_serials = itertools.count(1)
# service code, tariff group, valid_from, price
TARIFFS = [
    ("cold_water", "other", date(2026, 1, 1), "50.00"), ("cold_water", "other", date(2026, 7, 1), "55.50"),
    ("sewage", "other", date(2026, 1, 1), "40.00"),
    ("stormwater", "other", date(2026, 1, 1), "30.00"),
    ("cold_water", "budget", date(2026, 1, 1), "40.00"), ("cold_water", "budget", date(2026, 7, 10), "44.00"),
]


async def tariffs(conn, tenant=None) -> None:
    await town(conn, tenant)
    for code, group, valid_from, price in TARIFFS:
        await conn.execute(text(
            "INSERT INTO tariffs(service_id, tariff_group, price, valid_from) "
            "SELECT id, :g, :p, :f FROM services WHERE code = :c"), {"c": code, "g": group, "p": Decimal(price),
                                                                     "f": valid_from})


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(seed=tariffs)


async def make_contract(conn, *, kind: str = "combined", valid_from: date = date(2026, 1, 1),
                        vat_mode: str = "vat", area: str | None = None, coefficient: str | None = None,
                        status: str = "active") -> int:
    req = org_requisites()
    cp = await conn.scalar(text(
        "INSERT INTO counterparties(kind, name, inn, kpp, ogrn) VALUES ('org', :n, :inn, :kpp, :ogrn) RETURNING id"),
        {"n": f"ООО «Тест {req['inn']}»", **req})
    number = f"К-{next(_serials):04d}-{req['inn'][-4:]}"
    cid = await conn.scalar(text(
        "INSERT INTO contracts(number, signed_on, counterparty_id, kind, status, valid_from) "
        "VALUES (:n, :f, :cp, :k, :s, :f) RETURNING id"), {"n": number, "f": valid_from, "cp": cp, "k": kind,
                                                           "s": status})
    await conn.execute(text(
        "INSERT INTO contract_versions(contract_id, version, valid_from, payment_terms, vat_mode, stormwater_area_m2, "
        "runoff_coefficient) VALUES (:c, 1, :f, '{\"due_day\": 10}', :v, :a, :k)"),
        {"c": cid, "f": valid_from, "v": vat_mode, "a": Decimal(area) if area else None,
         "k": Decimal(coefficient) if coefficient else None})
    await conn.execute(text("INSERT INTO contract_objects(contract_id, name) VALUES (:c, 'Цех № 1')"), {"c": cid})
    return cid


async def add_point(conn, contract_id: int, kind: str = "supply", *, diameter: int | None = 25,
                    group: str = "other", metered: bool = False, share: str = "1", vat_included: bool = False,
                    valid_from: date = date(2026, 1, 1), name: str | None = None) -> int:
    return await conn.scalar(text(
        "INSERT INTO contract_points(object_id, kind, name, diameter_mm, tariff_group, vat_included, metered, "
        "discharge_share, valid_from) SELECT id, :k, :n, :d, :g, :vi, :m, :sh, :f FROM contract_objects "
        "WHERE contract_id = :c ORDER BY id LIMIT 1 RETURNING id"),
        {"c": contract_id, "k": kind, "n": name or ("Ввод" if kind == "supply" else "Выпуск"), "d": diameter,
         "g": group, "vi": vat_included, "m": metered, "sh": Decimal(share), "f": valid_from})


async def add_meter(conn, point_id: int, installed_on: date, *, initial: str = "0", verified_until: date | None = None,
                    failed_on: date | None = None, removed_on: date | None = None,
                    replaces_id: int | None = None) -> int:
    return await conn.scalar(text(
        "INSERT INTO meters(kind, contract_point_id, service_id, serial, digits, installed_on, initial_reading, "
        "verified_until, failed_on, removed_on, replaces_id) "
        "SELECT 'commercial', p.id, s.id, :serial, 8, :i, :v0, :vu, :fo, :ro, :rep FROM contract_points p "
        "JOIN services s ON s.code = CASE p.kind WHEN 'supply' THEN 'cold_water' ELSE 'sewage' END "
        "WHERE p.id = :p RETURNING id"),
        {"p": point_id, "serial": f"С{next(_serials):06d}", "i": installed_on, "v0": Decimal(initial),
         "vu": verified_until, "fo": failed_on, "ro": removed_on, "rep": replaces_id})


async def reading(conn, meter_id: int, read_on: date, value: str) -> None:
    await conn.execute(text(
        "INSERT INTO readings(meter_id, read_on, value, source, status) VALUES (:m, :d, :v, 'operator', 'accepted')"),
        {"m": meter_id, "d": read_on, "v": Decimal(value)})


async def lines(conn, contract_id: int, period: date | None = None) -> list[dict]:
    rows = await conn.execute(text(
        "SELECT c.kind, c.method, c.date_from, c.date_to, c.volume, c.price, c.amount, c.posted_period, c.period, "
        "c.point_id, s.code AS service, c.details FROM legal_charges c JOIN services s ON s.id = c.service_id "
        "WHERE c.contract_id = :c AND (CAST(:p AS date) IS NULL OR c.period = :p) "
        "ORDER BY c.kind, c.point_id NULLS LAST, s.code, c.date_from, c.method, c.price"),
        {"c": contract_id, "p": period})
    return [dict(r._mapping) for r in rows]
