"""Reference data over the API with real PostgreSQL: services, tariffs and norms with history,
coefficients (federal + tenant overrides), parameter kinds, permissions, closed periods."""

import pytest

from tests.integration.billing_core.api_helpers import Api, as_role, close_period, service_id


@pytest.fixture
def api(client, billing_tenant) -> Api:
    return Api(client, billing_tenant.headers)


async def test_services_list_create_update_search_and_paging(api):
    listed = await api.ok("get", "/api/services")
    # stormwater (t0033) is the legal entities' service: connected to no individual
    assert [s["code"] for s in listed["items"]] == ["cold_water", "hot_water", "sewage", "common_cold", "stormwater"]
    assert listed["total"] == 5

    made = await api.ok("post", "/api/services", {"code": "water_delivery", "name": "Подвоз воды", "kind": "other"})
    assert made["active"] is True and made["unit"] == "м³"
    r = await api.post("/api/services", {"code": "water_delivery", "name": "Ещё раз", "kind": "other"})
    assert r.status_code == 409 and "уже есть" in r.json()["error"]["message"]
    r = await api.post("/api/services", {"code": "Bad Code", "name": "Х", "kind": "other"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "code"
    r = await api.post("/api/services", {"code": "gas", "name": "Газ", "kind": "gas"})
    assert r.status_code == 422 and "Неизвестный вид услуги" in r.json()["error"]["message"]

    patched = await api.ok("patch", f"/api/services/{made['id']}", {"name": "Подвоз питьевой воды", "active": False})
    assert (patched["name"], patched["active"]) == ("Подвоз питьевой воды", False)
    r = await api.patch(f"/api/services/{made['id']}", {"name": "  "})
    assert r.status_code == 422
    assert (await api.patch("/api/services/999999", {"name": "Нет"})).status_code == 404

    found = await api.ok("get", "/api/services?q=ПИТЬЕВОЙ")
    assert [s["id"] for s in found["items"]] == [made["id"]]
    inactive = await api.ok("get", "/api/services?active=false")
    assert [s["code"] for s in inactive["items"]] == ["water_delivery"]
    second = await api.ok("get", "/api/services?limit=2&offset=2")
    assert [s["code"] for s in second["items"]] == ["sewage", "common_cold"] and second["total"] == 6


async def test_tariff_history_keeps_every_value_and_corrects_the_same_date(api):
    cold = await service_id(api, "cold_water")
    first = await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "40.50", "valid_from": "2024-01-01"})
    assert first["status"] == "inserted" and first["item"]["valid_to"] is None
    second = await api.ok("post", "/api/tariffs", {"service_id": cold, "price": 45.1, "valid_from": "2024-07-01"})
    assert second["status"] == "inserted"

    history = (await api.ok("get", f"/api/tariffs?service_id={cold}&on=2024-08-01"))["items"]
    assert [(h["price"], h["valid_from"], h["valid_to"], h["current"]) for h in history] == [
        ("40.5000", "2024-01-01", "2024-06-30", False), ("45.1000", "2024-07-01", None, True)]
    assert history[0]["tariff_group"] == "population" and history[0]["service_code"] == "cold_water"

    # a value for the same date corrects that row; the earlier row is untouched; the same value is a no-op
    fixed = await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "45.15", "valid_from": "2024-07-01"})
    assert fixed["status"] == "corrected" and fixed["item"]["price"] == "45.1500"
    again = await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "45.15", "valid_from": "2024-07-01"})
    assert again["status"] == "unchanged"
    history = (await api.ok("get", f"/api/tariffs?service_id={cold}"))["items"]
    assert [h["price"] for h in history] == ["40.5000", "45.1500"]

    # a value between the two splits the history
    await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "42", "valid_from": "2024-04-01"})
    history = (await api.ok("get", f"/api/tariffs?service_id={cold}&tariff_group=population"))["items"]
    assert [(h["valid_from"], h["valid_to"]) for h in history] == [
        ("2024-01-01", "2024-03-31"), ("2024-04-01", "2024-06-30"), ("2024-07-01", None)]

    # another group is its own series; search and paging
    await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "50", "valid_from": "2024-01-01",
                                          "tariff_group": "business"})
    found = await api.ok("get", "/api/tariffs?q=busi")
    assert [(h["tariff_group"], h["valid_to"]) for h in found["items"]] == [("business", None)]
    paged = await api.ok("get", "/api/tariffs?limit=2&offset=1")
    assert paged["total"] == 4 and len(paged["items"]) == 2

    for body, field in (({"service_id": cold, "price": "-1", "valid_from": "2024-01-01"}, "price"),
                        ({"service_id": cold, "price": "1.23456", "valid_from": "2024-01-01"}, "price"),
                        ({"service_id": cold, "price": "1", "valid_from": "2024-01-01", "tariff_group": ""},
                         "tariff_group")):
        r = await api.post("/api/tariffs", body)
        assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == field, r.text
    r = await api.post("/api/tariffs", {"service_id": 999999, "price": "1", "valid_from": "2024-01-01"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Услуга не найдена"
    r = await api.post("/api/tariffs", {"service_id": cold, "price": "1", "valid_from": "2024-13-01"})
    assert r.status_code == 400


async def test_tariffs_and_norms_cite_their_basis(api):
    cold = await service_id(api, "cold_water")
    order = "Приказ Комитета по тарифам Энской области от 28.11.2025 № 123-вк"
    made = await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "57.37", "valid_from": "2026-01-01",
                                                 "basis": f"  {order} "})
    assert made["status"] == "inserted" and made["item"]["basis"] == order  # trimmed
    listed = (await api.ok("get", f"/api/tariffs?service_id={cold}"))["items"]
    assert [(t["price"], t["basis"]) for t in listed] == [("57.3700", order)]
    assert [t["basis"] for t in (await api.ok("get", "/api/tariffs?q=123-вк"))["items"]] == [order]  # searchable

    # the same date: the same value and basis change nothing, a new basis alone corrects the row
    same = await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "57.37", "valid_from": "2026-01-01",
                                                 "basis": order})
    assert same["status"] == "unchanged"
    fixed = await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "57.37", "valid_from": "2026-01-01",
                                                  "basis": order.replace("123", "124")})
    assert fixed["status"] == "corrected" and fixed["item"]["basis"].endswith("№ 124-вк")
    assert fixed["item"]["price"] == "57.3700"
    # without a basis the row keeps none (an older client's request)
    bare = await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "60", "valid_from": "2026-07-01"})
    assert bare["item"]["basis"] == ""

    decree = "Постановление Правительства Энской области от 15.12.2016 № 512-п"
    norm = await api.ok("post", "/api/norms", {"service_id": cold, "improvement": "full", "volume": "4.85",
                                               "valid_from": "2017-01-01", "basis": decree})
    assert norm["item"]["basis"] == decree
    again = await api.ok("post", "/api/norms", {"service_id": cold, "improvement": "full", "volume": "4.9",
                                                "valid_from": "2017-01-01", "basis": decree})
    assert again["status"] == "corrected" and (again["item"]["volume"], again["item"]["basis"]) == ("4.9000", decree)
    assert (await api.ok("get", "/api/norms?improvement=full"))["items"][0]["basis"] == decree

    for url, body in (("/api/tariffs", {"service_id": cold, "price": "1", "valid_from": "2026-02-01"}),
                      ("/api/norms", {"service_id": cold, "improvement": "full", "volume": "1",
                                      "valid_from": "2026-02-01"}),
                      ("/api/coefficients", {"service_kind": "cold_water", "value": "2", "valid_from": "2026-02-01"})):
        r = await api.post(url, {**body, "basis": "П" * 501})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["fields"] == [{"field": "basis", "message": "Основание: не более 500 знаков"}], url
    assert (await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "1", "valid_from": "2026-02-01",
                                                  "basis": "П" * 500}))["status"] == "inserted"


async def test_norms_per_improvement_category(api):
    cold = await service_id(api, "cold_water")
    for improvement, volume, valid_from in (("full", "5.1", "2023-01-01"), ("full", "4.9", "2024-01-01"),
                                            ("no_sewage", "3.2", "2023-01-01")):
        await api.ok("post", "/api/norms", {"service_id": cold, "improvement": improvement, "volume": volume,
                                            "valid_from": valid_from})
    full = (await api.ok("get", "/api/norms?improvement=full&on=2023-06-01"))["items"]
    assert [(n["volume"], n["valid_to"], n["current"]) for n in full] == [
        ("5.1000", "2023-12-31", True), ("4.9000", None, False)]
    other = (await api.ok("get", f"/api/norms?service_id={cold}&improvement=no_sewage"))["items"]
    assert [(n["volume"], n["valid_to"]) for n in other] == [("3.2000", None)]
    r = await api.post("/api/norms", {"service_id": cold, "improvement": "full", "volume": "-0.5",
                                      "valid_from": "2025-01-01"})
    assert r.status_code == 422 and "Норматив" in r.json()["error"]["message"]


async def test_coefficient_tenant_override_takes_precedence_from_its_date(api):
    def in_force(listing):
        [kind] = listing["items"]
        return kind["current"]["value"], kind["current"]["source"]

    assert in_force(await api.ok("get", "/api/coefficients?service_kind=cold_water&on=2025-01-01")) == ("1.500",
                                                                                                       "federal")
    assert in_force(await api.ok("get", "/api/coefficients?service_kind=cold_water&on=2026-01-01")) == ("3.000",
                                                                                                       "federal")
    # the tenant keeps 1.5 from the federal change's own date: on that day the tenant's row wins
    made = await api.ok("post", "/api/coefficients", {"service_kind": "cold_water", "value": "1.5",
                                                      "valid_from": "2025-12-06", "basis": "Решение руководителя"})
    assert made["status"] == "inserted"
    listing = await api.ok("get", "/api/coefficients?service_kind=cold_water&on=2026-01-01")
    assert in_force(listing) == ("1.500", "tenant")
    rows = {(r["valid_from"], r["source"]): r["overridden"] for r in listing["items"][0]["rows"]}
    assert rows == {("2017-01-01", "federal"): False, ("2025-12-06", "federal"): True,
                    ("2025-12-06", "tenant"): False}
    assert [(t["valid_from"], t["valid_to"], t["source"]) for t in listing["items"][0]["timeline"]] == [
        ("2017-01-01", "2025-12-05", "federal"), ("2025-12-06", None, "tenant")]

    # an earlier override holds until the next dated value, federal or tenant
    await api.ok("post", "/api/coefficients", {"service_kind": "cold_water", "value": 2, "valid_from": "2024-01-01"})
    assert in_force(await api.ok("get", "/api/coefficients?service_kind=cold_water&on=2024-06-01")) == ("2.000",
                                                                                                       "tenant")
    assert in_force(await api.ok("get", "/api/coefficients?service_kind=cold_water&on=2023-06-01")) == ("1.500",
                                                                                                       "federal")
    # other kinds are untouched; all kinds are listed
    everything = await api.ok("get", "/api/coefficients?on=2026-01-01")
    assert {k["service_kind"]: k["current"]["value"] for k in everything["items"]} == {
        "cold_water": "1.500", "hot_water": "1.500"}

    r = await api.post("/api/coefficients", {"service_kind": "cold_water", "value": "0.9", "valid_from": "2026-01-01"})
    assert r.status_code == 422 and "меньше 1" in r.json()["error"]["message"]
    r = await api.post("/api/coefficients", {"service_kind": "gas", "value": "2", "valid_from": "2026-01-01"})
    assert r.status_code == 422


async def test_parameter_kinds_builtin_and_tenant_defined(api):
    listed = await api.ok("get", "/api/parameter-kinds")
    assert listed["total"] == 6 and all(k["builtin"] for k in listed["items"])
    made = await api.ok("post", "/api/parameter-kinds", {"code": "pets", "name": "Домашние животные",
                                                         "value_type": "number"})
    assert made["builtin"] is False
    r = await api.post("/api/parameter-kinds", {"code": "pets", "name": "Ещё", "value_type": "number"})
    assert r.status_code == 409
    r = await api.post("/api/parameter-kinds", {"code": "x", "name": "Короткий", "value_type": "number"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "code"
    r = await api.post("/api/parameter-kinds", {"code": "colour", "name": "Цвет", "value_type": "date"})
    assert r.status_code == 422 and "Тип значения" in r.json()["error"]["message"]
    found = await api.ok("get", "/api/parameter-kinds?q=живот")
    assert [k["code"] for k in found["items"]] == ["pets"]
    # usable on an account at once
    done = await api.ok("post", "/api/accounts/1/parameters", {"kind": "pets", "value": 2, "valid_from": "2024-01-01"})
    assert done["status"] == "inserted" and done["history"][0]["value_num"] == "2.0000"


async def test_viewer_reads_but_cannot_change_reference_data(client, billing_tenant, api):
    viewer = await as_role(client, billing_tenant, "viewer")
    cold = await service_id(api, "cold_water")
    assert (await viewer.get("/api/tariffs")).status_code == 200
    for url, body in (("/api/tariffs", {"service_id": cold, "price": "1", "valid_from": "2024-01-01"}),
                      ("/api/norms", {"service_id": cold, "improvement": "full", "volume": "1", "valid_from": "2024-01-01"}),
                      ("/api/coefficients", {"service_kind": "cold_water", "value": "2", "valid_from": "2024-01-01"}),
                      ("/api/services", {"code": "xx", "name": "Х", "kind": "other"}),
                      ("/api/parameter-kinds", {"code": "xx", "name": "Х", "value_type": "text"})):
        r = await viewer.post(url, body)
        assert r.status_code == 403, url
        assert r.json()["error"]["message"] == "Недостаточно прав: требуется «edit» для раздела «Адресный реестр и справочники»"
    assert (await viewer.patch(f"/api/services/{cold}", {"name": "Х"})).status_code == 403
    assert (await api.ok("get", f"/api/tariffs?service_id={cold}"))["total"] == 0
    # the operator role may edit reference data
    operator = await as_role(client, billing_tenant, "operator")
    await operator.ok("post", "/api/tariffs", {"service_id": cold, "price": "1", "valid_from": "2024-01-01"})


async def test_reference_values_dated_in_a_closed_period_are_refused(api, tx):
    cold = await service_id(api, "cold_water")
    await close_period(tx, "2024-03")
    r = await api.post("/api/tariffs", {"service_id": cold, "price": "40", "valid_from": "2024-03-01"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "period_closed"
    assert r.json()["error"]["message"].startswith("Период 2024-03 закрыт: тариф с 01.03.2024 не принимается")
    r = await api.post("/api/coefficients", {"service_kind": "cold_water", "value": "2", "valid_from": "2024-03-15"})
    assert r.status_code == 409 and r.json()["error"]["fields"] == [
        {"field": "valid_from", "message": r.json()["error"]["message"]}]
    await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "40", "valid_from": "2024-04-01"})
