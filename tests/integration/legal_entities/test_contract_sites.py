"""A contract's objects and connection points, the commercial meters of points in the existing meter model (their
readings validated as any reading), and sub-subscribers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.billing_core.metering.reading_entry import list_readings
from tests.integration.legal_entities.helpers import make_contract, make_org


@pytest.fixture
async def contract(api):
    org = await make_org(api, "ООО «Объекты»")
    return await make_contract(api, org["id"], signed_on="2025-01-15")


async def _object(api, contract_id: int, **kw) -> dict:
    return await api.ok("post", f"/api/legal/contracts/{contract_id}/objects", {"name": "Магазин", **kw})


async def _point(api, contract_id: int, object_id: int, **kw) -> dict:
    body = {"object_id": object_id, "kind": "supply", "name": "Ввод № 1", "diameter_mm": 32,
            "tariff_group": "other", "valid_from": "2025-01-15", **kw}
    return await api.ok("post", f"/api/legal/contracts/{contract_id}/points", body)


async def test_objects_and_points_show_on_the_card(api, contract, tx):
    async with tx() as conn:
        house = (await conn.execute(text("SELECT min(id) FROM houses"))).scalar_one()
    shop = await _object(api, contract["id"], house_id=house)
    assert shop["address"] == "г. Тестовск, ул. Речная, д. 1"
    supply = await _point(api, contract["id"], shop["id"], vat_included=True)
    outlet = await _point(api, contract["id"], shop["id"], kind="discharge", name="Выпуск № 1", diameter_mm=None)
    card = await api.ok("get", f"/api/legal/contracts/{contract['id']}")
    [o] = card["objects"]
    assert [(p["id"], p["kind"], p["diameter_mm"], p["tariff_group"], p["vat_included"], p["metered"], p["meter"])
            for p in o["points"]] == [(supply["id"], "supply", 32, "other", True, False, None),
                                      (outlet["id"], "discharge", None, "other", False, False, None)]
    listed = await api.ok("get", f"/api/legal/contracts?q={contract['number']}")
    assert (listed["items"][0]["objects"], listed["items"][0]["points"]) == (1, 2)


@pytest.mark.parametrize("body, field", [
    ({"diameter_mm": None}, "diameter_mm"),
    ({"diameter_mm": 0}, "diameter_mm"),
    ({"diameter_mm": 5000}, "diameter_mm"),
    ({"tariff_group": "два слова"}, "tariff_group"),
    ({"tariff_group": ""}, "tariff_group"),
    ({"valid_from": "2025-01-14"}, "valid_from"),
    ({"valid_to": "2025-01-01"}, "valid_to"),
    ({"kind": "intake"}, "kind"),
    ({"name": ""}, "name"),
])
async def test_bad_point_values_are_refused(api, contract, body, field):
    shop = await _object(api, contract["id"])
    r = await api.post(f"/api/legal/contracts/{contract['id']}/points",
                       {"object_id": shop["id"], "kind": "supply", "name": "Ввод", "diameter_mm": 25,
                        "tariff_group": "other", "valid_from": "2025-02-01", **body})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"][0]["field"] == field


async def test_a_point_kind_follows_the_contract_kind_and_objects_belong_to_their_contract(api):
    org = await make_org(api, "ООО «Канализация»")
    sewage = await make_contract(api, org["id"], "sewage")
    other = await make_contract(api, org["id"], "cold_water")
    site = await _object(api, sewage["id"])
    r = await api.post(f"/api/legal/contracts/{sewage['id']}/points", {
        "object_id": site["id"], "kind": "supply", "name": "Ввод", "diameter_mm": 25, "tariff_group": "other",
        "valid_from": "2025-02-01"})
    assert r.status_code == 422 and r.json()["error"]["message"] == (
        "В договоре этого вида точки подключения — только «Канализационный выпуск»")
    r = await api.post(f"/api/legal/contracts/{other['id']}/points", {
        "object_id": site["id"], "kind": "supply", "name": "Ввод", "diameter_mm": 25, "tariff_group": "other",
        "valid_from": "2025-02-01"})
    assert r.status_code == 404
    assert (await api.post(f"/api/legal/contracts/{sewage['id']}/objects",
                           {"name": "Склад", "house_id": 2147483647})).status_code == 404


async def test_a_point_meter_lives_in_the_meter_model_and_its_readings_are_validated(api, contract, tx):
    shop = await _object(api, contract["id"])
    point = await _point(api, contract["id"], shop["id"])
    meter = await api.ok("post", f"/api/legal/points/{point['id']}/meters", {
        "serial": " КУ-0001 ", "installed_on": "2025-02-01", "digits": 6, "initial_reading": "100",
        "verified_until": "2031-02-01", "seal_number": "П-1", "sealed_on": "2025-02-01"})
    assert (meter["serial"], meter["point_id"], meter["service_code"], meter["state"]) == (
        "КУ-0001", point["id"], "cold_water", "active")
    async with tx() as conn:
        row = (await conn.execute(text(
            "SELECT kind, account_id, house_id, contract_point_id FROM meters WHERE id = :id"), {"id": meter["id"]})).one()
        assert tuple(row) == ("commercial", None, None, point["id"])
    r = await api.post(f"/api/legal/points/{point['id']}/meters", {"serial": "КУ-0002", "installed_on": "2025-03-01"})
    assert r.status_code == 409 and "КУ-0001" in r.json()["error"]["message"]
    url = f"/api/legal/meters/{meter['id']}/readings"
    first = await api.ok("post", url, {"read_on": "2025-02-28", "value": "130,5"})
    assert (first["status"], first["consumption"], first["duplicate"]) == ("accepted", "30.500", False)
    lower = await api.ok("post", url, {"read_on": "2025-03-31", "value": "120"})
    assert lower["status"] == "rejected"
    again = await api.ok("post", url, {"read_on": "2025-02-28", "value": "130.5"})
    assert again["duplicate"] is True
    assert (await api.post(url, {"read_on": "2025-03-31", "value": "много"})).status_code == 422
    card = await api.ok("get", f"/api/legal/contracts/{contract['id']}")
    p = card["objects"][0]["points"][0]
    assert (p["metered"], p["meter"]["serial"], p["meter"]["last_reading"]["value"]) == (True, "КУ-0001", "130.500")
    assert [(r["read_on"], r["status"]) for r in card["readings"]["items"]] == [
        ("2025-03-31", "rejected"), ("2025-02-28", "accepted")]
    async with tx() as conn:  # the individuals' readings list reads them by meter id as well
        items, total = await list_readings(conn, meter_id=meter["id"])
        assert (total, items[-1]["value"], items[-1]["status"]) == (2, Decimal("130.500"), "accepted")


async def test_an_individual_meter_is_not_a_point_meter(api, tx):
    async with tx() as conn:
        meter = (await conn.execute(text(
            "INSERT INTO meters(kind, house_id, service_id, serial, digits, installed_on) "
            "SELECT 'building', h.id, s.id, 'ОДПУ-1', 6, DATE '2024-01-01' FROM houses h, services s "
            "WHERE s.code = 'cold_water' ORDER BY h.id LIMIT 1 RETURNING id"))).scalar_one()
    r = await api.post(f"/api/legal/meters/{meter}/readings", {"read_on": "2025-02-28", "value": "10"})
    assert r.status_code == 404


async def test_sub_subscribers(api, contract):
    host_site = await _object(api, contract["id"], name="МКД")
    host = await _point(api, contract["id"], host_site["id"])
    host_outlet = await _point(api, contract["id"], host_site["id"], kind="discharge", name="Выпуск")
    shop_org = await make_org(api, "ООО «Магазин на первом этаже»")
    shop_contract = await make_contract(api, shop_org["id"], signed_on="2025-01-20")
    shop_site = await _object(api, shop_contract["id"])
    shop_point = await _point(api, shop_contract["id"], shop_site["id"], valid_from="2025-01-20")
    made = await api.ok("post", f"/api/legal/points/{host['id']}/subs", {"sub_point_id": shop_point["id"],
                                                                        "valid_from": "2025-02-01"})
    assert (made["sub_counterparty_id"], made["counterparty"], made["sub_contract_id"]) == (
        shop_org["id"], "ООО «Магазин на первом этаже»", shop_contract["id"])
    cases = [
        ({"sub_point_id": shop_point["id"], "valid_from": "2025-06-01"}, host["id"], 409),
        ({"sub_point_id": shop_point["id"], "valid_from": "2025-06-01"}, host_outlet["id"], 422),
        ({"sub_point_id": host_outlet["id"], "valid_from": "2025-06-01"}, host["id"], 422),
        ({"sub_point_id": host["id"], "valid_from": "2025-06-01"}, shop_point["id"], 422),
        ({"sub_point_id": host["id"], "valid_from": "2025-06-01"}, host["id"], 422),
        ({"valid_from": "2025-06-01"}, host["id"], 422),
        ({"sub_counterparty_id": 2147483647, "valid_from": "2025-06-01"}, host["id"], 404),
    ]
    for body, point, status in cases:
        r = await api.post(f"/api/legal/points/{point}/subs", body)
        assert r.status_code == status, (body, point, r.text)
    later = await api.ok("post", f"/api/legal/points/{host['id']}/subs",
                         {"sub_counterparty_id": shop_org["id"], "valid_from": "2025-03-01", "valid_to": "2025-05-31"})
    assert later["sub_point_id"] is None
    card = await api.ok("get", f"/api/legal/contracts/{contract['id']}")
    point = next(p for p in card["objects"][0]["points"] if p["id"] == host["id"])
    assert [s["id"] for s in point["subs"]] == [made["id"], later["id"]]
