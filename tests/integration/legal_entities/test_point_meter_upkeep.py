"""A contract point's commercial meter (no account, no house) through the meters API that the individuals' meters
use: it is fetched, marked failed, re-verified and replaced (the new meter stays on the point); the individuals'
meter list does not show it, and the address of an ordinary meter reads as before."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.legal_entities.helpers import make_contract, make_org


async def _point_meter(api, serial: str) -> tuple[dict, dict, dict]:
    """A contract with an object, a supply point and its commercial meter installed on 01.02.2025."""
    org = await make_org(api, "ООО «Счётчик на вводе»")
    contract = await make_contract(api, org["id"], signed_on="2025-01-15")
    site = await api.ok("post", f"/api/legal/contracts/{contract['id']}/objects", {"name": "Склад"})
    point = await api.ok("post", f"/api/legal/contracts/{contract['id']}/points", {
        "object_id": site["id"], "kind": "supply", "name": "Ввод № 1", "diameter_mm": 25, "tariff_group": "other",
        "valid_from": "2025-01-15"})
    meter = await api.ok("post", f"/api/legal/points/{point['id']}/meters", {
        "serial": serial, "installed_on": "2025-02-01", "digits": 6, "initial_reading": "100",
        "verified_until": "2031-02-01"})
    return contract, point, meter


async def test_a_commercial_meter_is_fetched_failed_reverified_and_replaced_on_its_point(api, tx):
    contract, point, meter = await _point_meter(api, "КУ-7001")
    got = await api.ok("get", f"/api/meters/{meter['id']}")
    assert (got["kind"], got["kind_name"], got["contract_point_id"], got["account_id"], got["house_id"],
            got["address"], got["service_code"], got["state"]) == (
        "commercial", "Коммерческий (точка подключения)", point["id"], None, None, None, "cold_water", "active")

    checked = await api.ok("patch", f"/api/meters/{meter['id']}", {
        "verified_until": "2033-02-01", "seal_number": "П-70", "sealed_on": "2025-03-01"})
    assert (checked["verified_until"], checked["seal_number"], checked["sealed_on"]) == (
        "2033-02-01", "П-70", "2025-03-01")

    failed = await api.ok("post", f"/api/meters/{meter['id']}/failure", {"failed_on": "2025-04-10"}, status=200)
    assert (failed["failed_on"], failed["state"]) == ("2025-04-10", "failed")

    act = await api.ok("post", f"/api/meters/{meter['id']}/replace", {
        "removed_on": "2025-04-15", "final_reading": "150", "serial": "КУ-7002", "verified_until": "2031-04-15"})
    assert (act["final_reading"]["status"], act["final_reading"]["consumption"]) == ("accepted", "50.000")
    assert (act["old"]["removed_on"], act["old"]["replaced_by_id"]) == ("2025-04-15", act["new"]["id"])
    new = act["new"]
    assert (new["kind"], new["contract_point_id"], new["account_id"], new["house_id"], new["serial"],
            new["replaces_id"], new["digits"], new["state"]) == (
        "commercial", point["id"], None, None, "КУ-7002", meter["id"], 6, "active")
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT serial, removed_on IS NOT NULL FROM meters WHERE contract_point_id = :p ORDER BY id"),
            {"p": point["id"]})).all()
    assert [tuple(r) for r in rows] == [("КУ-7001", True), ("КУ-7002", False)]
    card = await api.ok("get", f"/api/legal/contracts/{contract['id']}")
    assert card["objects"][0]["points"][0]["meter"]["serial"] == "КУ-7002"


async def test_the_individuals_meter_list_leaves_commercial_meters_out(api, tx):
    await _point_meter(api, "КУ-7101")
    async with tx() as conn:
        house = (await conn.execute(text("SELECT id FROM houses ORDER BY id LIMIT 1"))).scalar_one()
        premise = (await conn.execute(text(
            "INSERT INTO premises(house_id, number, area_m2) VALUES (:h, '5', 40) RETURNING id"),
            {"h": house})).scalar_one()
        account = (await conn.execute(text(
            "INSERT INTO accounts(number, premise_id, holder, opened_on) "
            "VALUES ('ЛС-КУ-1', :p, 'Абонент', DATE '2020-01-01') RETURNING id"), {"p": premise})).scalar_one()
        cold = (await conn.execute(text("SELECT id FROM services WHERE code = 'cold_water'"))).scalar_one()
    ordinary = await api.ok("post", "/api/meters", {"service_id": cold, "serial": "КУ-7102", "account_id": account,
                                                    "installed_on": "2025-02-01"})
    building = await api.ok("post", "/api/meters", {"service_id": cold, "serial": "КУ-7103", "house_id": house,
                                                    "installed_on": "2025-02-01"})
    listed = await api.ok("get", "/api/meters?q=ку-71")
    assert ([(m["serial"], m["address"]) for m in listed["items"]], listed["total"]) == (
        [("КУ-7102", "г. Тестовск, ул. Речная, д. 1, кв. 5"), ("КУ-7103", "г. Тестовск, ул. Речная, д. 1")], 2)
    assert (ordinary["address"], building["address"]) == (
        "г. Тестовск, ул. Речная, д. 1, кв. 5", "г. Тестовск, ул. Речная, д. 1")
    assert (await api.ok("get", f"/api/meters?house_id={house}&q=ку-71"))["total"] == 2
