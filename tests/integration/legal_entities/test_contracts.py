"""Contracts over the API: creation with version 1 of the terms (Decree 644's default payment day), numbers unique,
validation, addenda and the version in force on a day, status moves, filters."""

from __future__ import annotations

import pytest

from tests.integration.legal_entities.helpers import contract_number, make_contract, make_org


@pytest.fixture
async def org(api):
    return await make_org(api, "ООО «Договорная»")


async def test_a_contract_starts_with_its_first_terms(api, org):
    number = contract_number("ВК")
    made = await api.ok("post", "/api/legal/contracts", {"number": number, "signed_on": "2025-01-15",
                                                          "counterparty_id": org["id"], "kind": "combined"})
    assert (made["number"], made["status"], made["valid_from"], made["valid_to"], made["kind_name"],
            made["counterparty_inn"]) == (number, "draft", "2025-01-15", None, "Холодное водоснабжение и водоотведение",
                                          org["inn"])
    [v] = made["versions"]
    assert (v["version"], v["valid_from"], v["basis"], v["payment_terms"], v["vat_mode"], v["payment"]) == (
        1, "2025-01-15", f"Договор № {number} от 15.01.2025", {"due_day": 10, "intermediate": []}, "vat",
        "окончательный расчёт до 10-го числа следующего месяца")
    assert made["in_force"]["id"] == v["id"]
    card = await api.ok("get", f"/api/legal/contracts/{made['id']}")
    assert (card["objects"], card["readings"]) == ([], {"items": [], "total": 0})


async def test_the_number_is_unique_whatever_its_case(api, org):
    made = await make_contract(api, org["id"], number="дог-уникальный-1")
    r = await api.post("/api/legal/contracts", {"number": "ДОГ-УНИКАЛЬНЫЙ-1", "signed_on": "2025-02-01",
                                                 "counterparty_id": org["id"], "kind": "sewage"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["message"] == f"Договор № {made['number']} уже есть (контрагент «ООО «Договорная»»)"


async def test_no_contract_with_an_inactive_or_unknown_counterparty(api):
    sleeping = await make_org(api, "ООО «Спящее»", active=False)
    r = await api.post("/api/legal/contracts", {"number": contract_number(), "signed_on": "2025-02-01",
                                                 "counterparty_id": sleeping["id"], "kind": "sewage"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "counterparty_id"
    r = await api.post("/api/legal/contracts", {"number": contract_number(), "signed_on": "2025-02-01",
                                                 "counterparty_id": 2147483647, "kind": "sewage"})
    assert r.status_code == 404


@pytest.mark.parametrize("extra, field", [
    ({"signed_on": "1999-12-31"}, "signed_on"),
    ({"valid_from": "2025-03-01", "valid_to": "2025-02-01"}, "valid_to"),
    ({"kind": "hot_water"}, "kind"),
    ({"number": "  "}, "number"),
    ({"terms": {"due_day": 29}}, "due_day"),
    ({"terms": {"due_day": 10, "intermediate": [{"percent": "60", "day": 18}, {"percent": "40", "day": 31}]}},
     "intermediate"),
    ({"terms": {"intermediate": [{"percent": "35", "day": 25}, {"percent": "20", "day": 18}]}}, "intermediate"),
    ({"terms": {"intermediate": [{"percent": "0", "day": 18}]}}, "intermediate[0].percent"),
    ({"terms": {"intermediate": [{"percent": "NaN", "day": 18}]}}, "intermediate[0].percent"),
    ({"terms": {"intermediate": [{"percent": "35", "day": 32}]}}, "intermediate[0].day"),
    ({"vat_mode": "half"}, "vat_mode"),
    ({"stormwater_area_m2": "1200"}, "stormwater_area_m2"),
    ({"kind": "stormwater"}, "stormwater_area_m2"),
    ({"kind": "stormwater", "stormwater_area_m2": "1200", "runoff_coefficient": "1.5"}, "runoff_coefficient"),
])
async def test_bad_contract_values_are_refused_naming_the_field(api, org, extra, field):
    body = {"number": contract_number(), "signed_on": "2025-01-15", "counterparty_id": org["id"], "kind": "combined",
            **extra}
    r = await api.post("/api/legal/contracts", body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"][0]["field"] == field


async def test_a_stormwater_contract_states_its_area_and_coefficient(api, org):
    made = await make_contract(api, org["id"], "stormwater", stormwater_area_m2="12500.5", runoff_coefficient="0.85",
                               terms={"due_day": 10, "intermediate": [{"percent": "35", "day": 18},
                                                                      {"percent": "50", "day": 31}]})
    v = made["in_force"]
    assert (v["stormwater_area_m2"], v["runoff_coefficient"], v["payment"]) == (
        "12500.50", "0.850", "35% до 18-го числа расчётного месяца; 50% до последнего числа расчётного месяца; "
                             "окончательный расчёт до 10-го числа следующего месяца")


async def test_addenda_and_the_terms_in_force_on_a_day(api, org):
    k = await make_contract(api, org["id"], signed_on="2025-01-15")
    url = f"/api/legal/contracts/{k['id']}"
    june = await api.ok("post", f"{url}/versions", {"valid_from": "2025-06-01", "basis": "Доп. соглашение № 1",
                                                    "terms": {"due_day": 15}})
    march = await api.ok("post", f"{url}/versions", {"valid_from": "2025-03-01", "basis": "Доп. соглашение № 2",
                                                     "vat_mode": "no_vat"})
    assert (june["version"], march["version"]) == (2, 3)
    expected = {"2025-01-15": 1, "2025-02-28": 1, "2025-03-01": 3, "2025-05-31": 3, "2025-06-01": 2, "2030-01-01": 2}
    for day, version in expected.items():
        assert (await api.ok("get", f"{url}/terms?on={day}"))["version"] == version, day
    r = await api.get(f"{url}/terms?on=2025-01-14")
    assert r.status_code == 404 and r.json()["error"]["message"] == "На 14.01.2025 условия договора ещё не действовали"
    card = await api.ok("get", f"{url}?on=2025-04-10")
    assert (card["in_force"]["version"], [v["version"] for v in card["versions"]]) == (3, [2, 3, 1])
    r = await api.post(f"{url}/versions", {"valid_from": "2025-06-01"})
    assert r.status_code == 409 and "редакция 2" in r.json()["error"]["message"]
    r = await api.post(f"{url}/versions", {"valid_from": "2025-01-14"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "valid_from"
    assert (await api.get(f"{url}/terms?on=2025-13-01")).status_code == 422


async def test_status_moves_forward_and_termination_needs_the_last_day(api, org):
    k = await make_contract(api, org["id"], signed_on="2025-01-15")
    url = f"/api/legal/contracts/{k['id']}"
    await api.ok("post", f"{url}/versions", {"valid_from": "2025-06-01"})
    assert (await api.ok("patch", url, {"status": "active"}))["status"] == "active"
    r = await api.patch(url, {"status": "terminated"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "valid_to"
    r = await api.patch(url, {"status": "terminated", "valid_to": "2025-05-31"})
    assert r.status_code == 422 and "01.06.2025" in r.json()["error"]["message"]
    done = await api.ok("patch", url, {"status": "terminated", "valid_to": "2025-12-31"})
    assert (done["status"], done["valid_to"], done["status_name"]) == ("terminated", "2025-12-31", "Расторгнут")
    r = await api.patch(url, {"status": "active"})
    assert r.status_code == 422
    r = await api.post(f"{url}/versions", {"valid_from": "2026-01-01"})
    assert r.status_code == 422


async def test_the_list_filters_by_kind_status_and_text(api):
    org = await make_org(api, "ООО «Фильтр-Тест»")
    water = await make_contract(api, org["id"], "cold_water")
    sewage = await make_contract(api, org["id"], "sewage")
    await api.ok("patch", f"/api/legal/contracts/{sewage['id']}", {"status": "active"})
    mine = f"/api/legal/contracts?counterparty_id={org['id']}"
    assert [i["id"] for i in (await api.ok("get", mine))["items"]] == [sewage["id"], water["id"]]
    assert [i["id"] for i in (await api.ok("get", f"{mine}&kind=cold_water"))["items"]] == [water["id"]]
    assert [i["id"] for i in (await api.ok("get", f"{mine}&status=active"))["items"]] == [sewage["id"]]
    by_inn = await api.ok("get", f"/api/legal/contracts?q={org['inn']}")
    assert {i["id"] for i in by_inn["items"]} == {water["id"], sewage["id"]}
    by_number = await api.ok("get", f"/api/legal/contracts?q={water['number'].lower()}")
    assert [i["id"] for i in by_number["items"]] == [water["id"]]
    assert (await api.get("/api/legal/contracts?kind=hot")).status_code == 422
    assert (await api.get("/api/legal/contracts?status=closed")).status_code == 422
    assert (await api.get("/api/legal/contracts?counterparty_id=0")).status_code == 400
