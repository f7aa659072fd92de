"""The account card end to end through the API with real PostgreSQL: parameters with history,
residents, absences, meters (installation, replacement act, failure, verification), readings
(flagged → confirmed), closed periods, permissions, paging and search, and the card page."""

import pytest
from sqlalchemy import text

from tests.integration.billing_core.api_helpers import Api, as_role, close_period, login_cookie, service_id


@pytest.fixture
def api(client, billing_tenant) -> Api:
    return Api(client, billing_tenant.headers)


async def install(api: Api, serial: str, account_id: int = 1, installed_on: str = "2024-01-01", **kw) -> dict:
    cold = await service_id(api, "cold_water")
    return await api.ok("post", "/api/meters", {"service_id": cold, "serial": serial, "account_id": account_id,
                                                "installed_on": installed_on, **kw})


async def test_card_sections_and_unknown_account(api):
    card = await api.ok("get", "/api/accounts/2/card")
    assert card["account"]["number"] == "ЛС2" and card["account"]["address"] == "г. Тестовск, ул. Речная, д. 1, кв. 2"
    assert card["parameters"] == {"current": [], "history": []}
    assert card["residents"] == [] and card["absences"] == [] and card["meters"] == []
    assert card["readings"] == {"items": [], "total": 0} and card["charges"] == []
    for url in ("/api/accounts/999999/card", "/api/accounts/999999/residents", "/api/accounts/999999/absences"):
        r = await api.get(url)
        assert r.status_code == 404 and r.json()["error"]["message"] == "Лицевой счёт не найден", url
    r = await api.post("/api/accounts/999999/parameters", {"kind": "residents", "value": 1, "valid_from": "2024-01-01"})
    assert r.status_code == 404


async def test_parameter_change_shows_in_the_card_history(api):
    await api.ok("post", "/api/accounts/1/parameters", {"kind": "residents", "value": 2, "valid_from": "2024-01-01"})
    await api.ok("post", "/api/accounts/1/parameters", {"kind": "tariff_group", "value": "population",
                                                        "valid_from": "2024-01-01"})
    changed = await api.ok("post", "/api/accounts/1/parameters", {"kind": "residents", "value": "3",
                                                                  "valid_from": "2024-05-01"})
    assert changed["status"] == "inserted"
    assert [(h["value"], h["valid_from"], h["valid_to"]) for h in changed["history"]] == [
        ("2.0000", "2024-01-01", "2024-04-30"), ("3.0000", "2024-05-01", None)]
    card = await api.ok("get", "/api/accounts/1/card")
    history = [(h["kind"], h["value"], h["valid_to"]) for h in card["parameters"]["history"]]
    assert history == [("residents", "2.0000", "2024-04-30"), ("residents", "3.0000", None),
                       ("tariff_group", "population", None)]
    assert {p["kind"]: p["value"] for p in card["parameters"]["current"]} == {"residents": "3.0000",
                                                                              "tariff_group": "population"}
    assert card["parameters"]["history"][0]["name"].startswith("Проживающие")
    # the same value again changes nothing; a different one for the same date corrects it
    same = await api.ok("post", "/api/accounts/1/parameters", {"kind": "residents", "value": 3, "valid_from": "2024-05-01"})
    assert same["status"] == "unchanged"
    fixed = await api.ok("post", "/api/accounts/1/parameters", {"kind": "residents", "value": "4,0",
                                                                "valid_from": "2024-05-01"})
    assert fixed["status"] == "corrected" and fixed["history"][-1]["value"] == "4.0000"

    for body, message in (({"kind": "nonsense", "value": 1, "valid_from": "2024-01-01"}, "Неизвестный параметр"),
                          ({"kind": "residents", "value": "два", "valid_from": "2024-01-01"}, "ожидается число"),
                          ({"kind": "residents", "value": -1, "valid_from": "2024-01-01"}, "неотрицательное"),
                          ({"kind": "improvement", "value": " ", "valid_from": "2024-01-01"}, "пустое значение")):
        r = await api.post("/api/accounts/1/parameters", body)
        assert r.status_code == 422 and message in r.json()["error"]["message"], r.text


async def test_residents_register_deregister_correct_delete(api):
    made = await api.ok("post", "/api/accounts/1/residents", {"full_name": " Петров Пётр Петрович ",
                                                              "birth_date": "1980-05-05",
                                                              "registered_from": "2020-02-01"})
    assert made["full_name"] == "Петров Пётр Петрович" and made["kind"] == "permanent" and made["registered"]
    temp = await api.ok("post", "/api/accounts/1/residents", {"full_name": "Сидорова Анна", "kind": "temporary",
                                                              "registered_from": "2024-01-10",
                                                              "registered_to": "2024-06-30"})
    assert temp["kind_name"] == "Временно" and not temp["registered"]

    gone = await api.ok("patch", f"/api/residents/{made['id']}", {"registered_to": "2024-03-31"})
    assert gone["registered_to"] == "2024-03-31" and not gone["registered"]
    back = await api.ok("patch", f"/api/residents/{made['id']}", {"registered_to": None})
    assert back["registered_to"] is None and back["registered"] and back["full_name"] == "Петров Пётр Петрович"

    for url, body, field in (
            ("/api/accounts/1/residents", {"full_name": "Х", "registered_from": "2024-05-01",
                                           "registered_to": "2024-04-01"}, "registered_to"),
            ("/api/accounts/1/residents", {"full_name": "", "registered_from": "2024-05-01"}, "full_name"),
            ("/api/accounts/1/residents", {"full_name": "Х", "registered_from": "2024-05-01", "kind": "forever"}, "kind"),
            ("/api/accounts/1/residents", {"full_name": "Х", "registered_from": "2024-05-01",
                                           "birth_date": "2024-06-01"}, "birth_date"),
            (f"/api/residents/{made['id']}", {"registered_to": "2019-01-01"}, "registered_to")):
        r = await (api.post(url, body) if url.startswith("/api/accounts") else api.patch(url, body))
        assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == field, r.text
    assert "раньше даты регистрации" in r.json()["error"]["message"]

    listed = await api.ok("get", "/api/accounts/1/residents")
    assert [x["full_name"] for x in listed["items"]] == ["Петров Пётр Петрович", "Сидорова Анна"]
    await api.ok("delete", f"/api/residents/{temp['id']}")
    assert (await api.delete(f"/api/residents/{temp['id']}")).status_code == 404
    assert [x["id"] for x in (await api.ok("get", "/api/accounts/1/card"))["residents"]] == [made["id"]]


async def test_absences_at_least_one_full_day(api):
    one = await api.ok("post", "/api/accounts/1/absences", {"date_from": "2024-02-10", "date_to": "2024-02-10"})
    assert one["days"] == 1 and one["persons"] == 1
    long = await api.ok("post", "/api/accounts/1/absences", {"date_from": "2024-03-01", "date_to": "2024-03-20",
                                                             "persons": 2, "reason": "Справка из санатория"})
    assert long["days"] == 20
    r = await api.post("/api/accounts/1/absences", {"date_from": "2024-03-10", "date_to": "2024-03-09"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["message"].startswith("Период отсутствия должен быть не короче одного полного дня")
    assert error["fields"][0]["field"] == "date_to"
    r = await api.post("/api/accounts/1/absences", {"date_from": "2024-03-10", "date_to": "2024-03-12", "persons": 0})
    assert r.status_code == 422 and "Число отсутствующих" in r.json()["error"]["message"]
    card = await api.ok("get", "/api/accounts/1/card")
    assert [(a["date_from"], a["days"]) for a in card["absences"]] == [("2024-03-01", 20), ("2024-02-10", 1)]
    await api.ok("delete", f"/api/absences/{one['id']}")
    assert (await api.ok("get", "/api/accounts/1/absences"))["total"] == 1


async def test_meter_install_search_verification_seal_failure(api):
    m = await install(api, "ХВ-100200", verified_until="2030-01-01", initial_reading="12.5")
    assert (m["kind"], m["state"], m["account_number"], m["last_reading"]) == ("individual", "active", "ЛС1", None)
    await install(api, "ХВ-100300", account_id=2)
    building = await api.ok("post", "/api/meters", {"service_id": m["service_id"], "serial": "ОДПУ-7", "house_id": 1,
                                                    "installed_on": "2023-06-01", "digits": 8})
    assert building["kind"] == "building" and building["account_id"] is None
    assert building["address"] == "г. Тестовск, ул. Речная, д. 1"

    r = await api.post("/api/meters", {"service_id": m["service_id"], "serial": "хв-100200", "account_id": 3,
                                       "installed_on": "2024-02-01"})
    assert r.status_code == 409 and "уже установлен" in r.json()["error"]["message"]
    for body, field in (({"serial": "Z-1", "account_id": 1, "initial_reading": "100000"}, "initial_reading"),
                        ({"serial": "Z-2", "account_id": 1, "digits": 13}, "digits"),
                        ({"serial": "Z-3"}, "account_id"),
                        ({"serial": "Z-4", "account_id": 1, "house_id": 1}, "account_id"),
                        ({"serial": "Z-5", "account_id": 1, "seal_number": "П-1"}, "sealed_on")):
        r = await api.post("/api/meters", {"service_id": m["service_id"], "installed_on": "2024-01-01", **body})
        assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == field, r.text
    r = await api.post("/api/meters", {"service_id": m["service_id"], "serial": "Z-6", "account_id": 999999,
                                       "installed_on": "2024-01-01"})
    assert r.status_code == 404

    # search by any part of the serial (case-insensitive) or by account number; paging
    found = await api.ok("get", "/api/meters?q=хв-100")
    assert [x["serial"] for x in found["items"]] == ["ХВ-100200", "ХВ-100300"] and found["total"] == 2
    page2 = await api.ok("get", "/api/meters?q=хв-100&limit=1&offset=1")
    assert [x["serial"] for x in page2["items"]] == ["ХВ-100300"] and page2["total"] == 2
    assert [x["serial"] for x in (await api.ok("get", "/api/meters?q=ЛС2"))["items"]] == ["ХВ-100300"]
    assert [x["serial"] for x in (await api.ok("get", "/api/meters?house_id=1"))["items"]] == [
        "ОДПУ-7", "ХВ-100200", "ХВ-100300"]

    sealed = await api.ok("patch", f"/api/meters/{m['id']}", {"verified_until": "2032-01-01", "seal_number": "П-77",
                                                             "sealed_on": "2024-02-01"})
    assert (sealed["verified_until"], sealed["seal_number"], sealed["sealed_on"]) == ("2032-01-01", "П-77", "2024-02-01")
    r = await api.patch(f"/api/meters/{m['id']}", {"verified_until": "2023-01-01"})
    assert r.status_code == 422
    r = await api.patch(f"/api/meters/{m['id']}", {})
    assert r.status_code == 422

    failed = await api.ok("post", f"/api/meters/{m['id']}/failure", {"failed_on": "2024-05-01"}, status=200)
    assert (failed["failed_on"], failed["state"], failed["state_name"]) == ("2024-05-01", "failed", "Неисправен")
    r = await api.post(f"/api/meters/{m['id']}/failure", {"failed_on": "2024-06-01"})
    assert r.status_code == 409 and "уже отмечен неисправным" in r.json()["error"]["message"]
    assert (await api.get("/api/meters/999999")).status_code == 404


async def test_meter_replacement_act(api):
    old = await install(api, "ХВ-1", installed_on="2023-01-01", digits=5)
    await api.ok("post", f"/api/meters/{old['id']}/readings", {"read_on": "2024-01-25", "value": "40"})
    act = await api.ok("post", f"/api/meters/{old['id']}/replace", {
        "removed_on": "2024-03-15", "final_reading": "55.125", "serial": "ХВ-2", "initial_reading": "0.5",
        "verified_until": "2030-03-15", "seal_number": "П-2", "sealed_on": "2024-03-15"})
    assert act["final_reading"]["status"] == "accepted" and act["final_reading"]["consumption"] == "15.125"
    assert (act["old"]["removed_on"], act["old"]["state"], act["old"]["replaced_by_id"]) == (
        "2024-03-15", "removed", act["new"]["id"])
    new = act["new"]
    assert (new["replaces_id"], new["serial"], new["installed_on"], new["initial_reading"], new["account_id"],
            new["service_id"], new["digits"]) == (old["id"], "ХВ-2", "2024-03-15", "0.500", 1, old["service_id"], 5)
    assert old["last_reading"] is None and act["old"]["last_reading"]["value"] == "55.125"

    # the old meter takes no readings after its removal; the new one does
    late = await api.ok("post", f"/api/meters/{old['id']}/readings", {"read_on": "2024-03-25", "value": "56"})
    assert late["status"] == "rejected" and "позже снятия" in late["reason"]
    fresh = await api.ok("post", f"/api/meters/{new['id']}/readings", {"read_on": "2024-03-25", "value": "3.5"})
    assert fresh["status"] == "accepted" and fresh["consumption"] == "3.000"

    r = await api.post(f"/api/meters/{old['id']}/replace", {"removed_on": "2024-04-01", "final_reading": "56",
                                                            "serial": "ХВ-3"})
    assert r.status_code == 409 and "уже снят" in r.json()["error"]["message"]
    # a final reading the meter cannot show refuses the whole act: nothing is written
    other = await install(api, "ХВ-9", account_id=2, installed_on="2024-01-01")
    r = await api.post(f"/api/meters/{other['id']}/replace", {"removed_on": "2024-02-01", "final_reading": "999999",
                                                              "serial": "ХВ-10"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("Конечное показание не принято")
    still = await api.ok("get", f"/api/meters/{other['id']}")
    assert still["removed_on"] is None and still["replaced_by_id"] is None
    assert (await api.ok("get", f"/api/meters/{other['id']}/readings"))["total"] == 0
    r = await api.post(f"/api/meters/{other['id']}/replace", {"removed_on": "2024-02-01", "final_reading": "1",
                                                              "serial": "ХВ-10", "installed_on": "2024-01-20"})
    assert r.status_code == 422 and "раньше снятия" in r.json()["error"]["message"]

    card = await api.ok("get", "/api/accounts/1/card")
    assert [(m["serial"], m["state"]) for m in card["meters"]] == [("ХВ-1", "removed"), ("ХВ-2", "active")]
    assert [(r["serial"], r["read_on"], r["status"]) for r in card["readings"]["items"]] == [
        ("ХВ-2", "2024-03-25", "accepted"), ("ХВ-1", "2024-03-25", "rejected"), ("ХВ-1", "2024-03-15", "accepted"),
        ("ХВ-1", "2024-01-25", "accepted")]


async def test_reading_flagged_then_confirmed_and_audited(api, tx, billing_tenant):
    m = await install(api, "ХВ-555", installed_on="2024-01-01")
    flagged = await api.ok("post", f"/api/meters/{m['id']}/readings", {"read_on": "2024-02-01", "value": "500",
                                                                       "source": "portal"})
    assert (flagged["status"], flagged["status_name"], flagged["source_name"]) == ("flagged", "На проверке",
                                                                                   "Личный кабинет")
    assert flagged["reason"].startswith("Неправдоподобный расход 500")
    again = await api.ok("post", f"/api/meters/{m['id']}/readings", {"read_on": "2024-02-01", "value": 500})
    assert again["duplicate"] is True and again["id"] == flagged["id"]
    queue = await api.ok("get", "/api/readings?status=flagged")
    assert [x["id"] for x in queue["items"]] == [flagged["id"]]

    confirmed = await api.ok("post", f"/api/readings/{flagged['id']}/confirm", status=200)
    assert (confirmed["status"], confirmed["consumption"]) == ("accepted", "500.000")
    assert confirmed["reason"].startswith("Подтверждено оператором (было: Неправдоподобный расход")
    r = await api.post(f"/api/readings/{flagged['id']}/confirm")
    assert r.status_code == 409 and "только показание на проверке" in r.json()["error"]["message"]
    assert (await api.post("/api/readings/999999/confirm")).status_code == 404

    me = (await api.ok("get", "/api/auth/me"))["user_id"]
    audit = (await api.ok("get", f"/api/audit/readings/{flagged['id']}"))["items"]
    assert [(e["action"], e["user_id"]) for e in audit] == [("insert", me), ("update", me)]
    assert (audit[1]["old"]["status"], audit[1]["new"]["status"]) == ("flagged", "accepted")

    # the next reading is measured from the confirmed one
    nxt = await api.ok("post", f"/api/meters/{m['id']}/readings", {"read_on": "2024-03-01", "value": "510.5"})
    assert (nxt["status"], nxt["consumption"]) == ("accepted", "10.500")

    # a flagged reading that later readings make impossible is not accepted
    odd = await api.ok("post", f"/api/meters/{m['id']}/readings", {"read_on": "2024-04-01", "value": "900"})
    assert odd["status"] == "flagged"
    async with tx() as conn:  # a lower accepted reading after it (entered by other means)
        await conn.execute(text("INSERT INTO readings(meter_id, read_on, value, status) "
                                "VALUES (:m, DATE '2024-04-10', 520, 'accepted')"), {"m": m["id"]})
    r = await api.post(f"/api/readings/{odd['id']}/confirm")
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("Показание не может быть принято")

    rejected = await api.ok("post", f"/api/meters/{m['id']}/readings", {"read_on": "2024-05-01", "value": "-1"})
    assert rejected["status"] == "rejected" and rejected["reason"] == "Показание не может быть отрицательным"
    r = await api.post(f"/api/meters/{m['id']}/readings", {"read_on": "2024-05-01", "value": 1, "source": "pigeon"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "source"
    assert (await api.post("/api/meters/999999/readings", {"read_on": "2024-05-01", "value": 1})).status_code == 404

    listed = await api.ok("get", f"/api/meters/{m['id']}/readings?limit=2")
    assert listed["total"] == 5 and [x["read_on"] for x in listed["items"]] == ["2024-05-01", "2024-04-10"]
    assert (await api.ok("get", "/api/readings?q=хв-555&status=rejected"))["total"] == 1


async def test_changes_dated_in_a_closed_period_are_refused(api, tx):
    m = await install(api, "ХВ-777", installed_on="2024-01-01")
    await api.ok("post", "/api/accounts/1/residents", {"full_name": "Иванов Иван", "registered_from": "2024-01-01"})
    resident = (await api.ok("get", "/api/accounts/1/residents"))["items"][0]
    flagged = await api.ok("post", f"/api/meters/{m['id']}/readings", {"read_on": "2024-03-10", "value": "800"})
    assert flagged["status"] == "flagged"
    await close_period(tx, "2024-03")

    def closed(r, field):
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "period_closed" and error["message"].startswith("Период 2024-03 закрыт: ")
        assert error["fields"][0]["field"] == field
        return error["message"]

    message = closed(await api.post(f"/api/meters/{m['id']}/readings", {"read_on": "2024-03-15", "value": "10"}),
                     "read_on")
    assert message.startswith("Период 2024-03 закрыт: показание на 15.03.2024 не принимается")
    closed(await api.post("/api/accounts/1/parameters", {"kind": "residents", "value": 2, "valid_from": "2024-03-01"}),
           "valid_from")
    closed(await api.post("/api/accounts/1/absences", {"date_from": "2024-02-20", "date_to": "2024-03-05"}), "date_from")
    closed(await api.post("/api/accounts/1/residents", {"full_name": "Х", "registered_from": "2024-03-02"}),
           "registered_from")
    closed(await api.patch(f"/api/residents/{resident['id']}", {"registered_to": "2024-02-29"}), "registered_to")
    closed(await api.delete(f"/api/residents/{resident['id']}"), "resident_id")
    closed(await api.post(f"/api/readings/{flagged['id']}/confirm"), "read_on")
    closed(await api.post(f"/api/meters/{m['id']}/failure", {"failed_on": "2024-03-31"}), "failed_on")
    closed(await api.post(f"/api/meters/{m['id']}/replace", {"removed_on": "2024-03-20", "final_reading": "1",
                                                             "serial": "ХВ-778"}), "removed_on")

    # nothing of that was written; the open period next to it takes changes
    assert (await api.ok("get", f"/api/meters/{m['id']}/readings"))["total"] == 1
    ok = await api.ok("post", f"/api/meters/{m['id']}/readings", {"read_on": "2024-04-01", "value": "10"})
    assert ok["status"] == "accepted"
    await api.ok("post", "/api/accounts/1/parameters", {"kind": "residents", "value": 2, "valid_from": "2024-04-01"})
    await api.ok("post", "/api/accounts/1/absences", {"date_from": "2024-04-01", "date_to": "2024-04-10"})
    await api.ok("patch", f"/api/residents/{resident['id']}", {"registered_to": "2024-04-30"})


async def test_viewer_is_refused_on_every_change_but_sees_the_card(client, billing_tenant, api):
    m = await install(api, "ХВ-888")
    viewer = await as_role(client, billing_tenant, "viewer")
    assert (await viewer.get("/api/accounts/1/card")).status_code == 200
    for method, url, body in (
            ("post", f"/api/meters/{m['id']}/readings", {"read_on": "2024-02-01", "value": "1"}),
            ("post", "/api/accounts/1/parameters", {"kind": "residents", "value": 1, "valid_from": "2024-01-01"}),
            ("post", "/api/accounts/1/residents", {"full_name": "Х", "registered_from": "2024-01-01"}),
            ("post", "/api/accounts/1/absences", {"date_from": "2024-01-01", "date_to": "2024-01-09"}),
            ("post", "/api/meters", {"service_id": m["service_id"], "serial": "Q", "account_id": 1,
                                     "installed_on": "2024-01-01"}),
            ("post", f"/api/meters/{m['id']}/replace", {"removed_on": "2024-02-01", "final_reading": "1", "serial": "Q"}),
            ("post", f"/api/meters/{m['id']}/failure", {"failed_on": "2024-02-01"}),
            ("patch", f"/api/meters/{m['id']}", {"verified_until": "2031-01-01"})):
        r = await getattr(viewer, method)(url, body)
        assert r.status_code == 403, url
        assert r.json()["error"]["message"] == "Недостаточно прав: требуется «edit» для раздела «Лицевые счета»"
    assert (await viewer.delete("/api/absences/1")).status_code == 403
    r = await client.post("/accounts/1/readings", headers=viewer.headers,
                          data={"meter_id": str(m["id"]), "read_on": "2024-02-01", "value": "1"})
    assert r.status_code == 403
    assert (await api.ok("get", f"/api/meters/{m['id']}/readings"))["total"] == 0


async def test_charges_are_grouped_by_month(api, tx):
    async with tx() as conn:
        await conn.execute(text("""
            INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount, days, corrects_period)
            SELECT 1, s.id, p::date, m, v, 40, a, 31, c::date
            FROM services s, (VALUES ('2024-01-01', 'meter', 5, 200.00, NULL), ('2024-02-01', 'norm', 6, 240.10, NULL),
                                     ('2024-02-01', 'recalculation', -1, -40.00, '2024-01-01')) x(p, m, v, a, c)
            WHERE s.code = 'cold_water'"""))
    card = await api.ok("get", "/api/accounts/1/card?months=1")
    assert [(c["period"], c["total"]) for c in card["charges"]] == [("2024-02", "200.10")]
    assert [(x["method_name"], x["corrects_period"]) for x in card["charges"][0]["lines"]] == [
        ("по нормативу", None), ("перерасчёт", "2024-01")]
    card = await api.ok("get", "/api/accounts/1/card")
    assert [c["period"] for c in card["charges"]] == ["2024-02", "2024-01"]
    assert (await api.ok("get", "/api/accounts/2/card"))["charges"] == []


async def test_card_page_with_htmx_forms(client, billing_tenant, api, tx):
    m = await install(api, "ХВ-321", installed_on="2024-01-01")
    await login_cookie(client, billing_tenant)
    rows = await client.get("/accounts/rows?q=ЛС1")
    assert 'href="/accounts/1"' in rows.text
    page = await client.get("/accounts/1")
    assert page.status_code == 200
    for expected in ("Лицевой счёт ЛС1", "Параметры", "Зарегистрированные", "Временное отсутствие",
                     "Приборы учёта", "Начислений пока нет", "ХВ-321", 'hx-post="/accounts/1/readings"',
                     'hx-post="/accounts/1/parameters"'):
        assert expected in page.text, expected
    assert (await client.get("/accounts/999999")).status_code == 404

    r = await client.post("/accounts/1/readings", data={"meter_id": str(m["id"]), "read_on": "2024-02-01",
                                                        "value": "12,5"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="meters-section"' in r.text and "<html" not in r.text
    assert "Показание 12,5 на 01.02.2024: принято" in r.text and "12,5 на 01.02.2024" in r.text
    r = await client.post("/accounts/1/readings", data={"meter_id": str(m["id"]), "read_on": "2024-03-01",
                                                        "value": "abc"})
    assert r.status_code == 200 and "не является числом" in r.text and 'class="error"' in r.text
    await close_period(tx, "2024-03")
    r = await client.post("/accounts/1/readings", data={"meter_id": str(m["id"]), "read_on": "2024-03-05",
                                                        "value": "13"})
    assert "Период 2024-03 закрыт" in r.text
    other = await install(api, "ХВ-654", account_id=2)
    r = await client.post("/accounts/1/readings", data={"meter_id": str(other["id"]), "read_on": "2024-04-01",
                                                        "value": "1"})
    assert "не относится к этому лицевому счёту" in r.text

    r = await client.post("/accounts/1/parameters", data={"kind": "area", "value": "41,5",
                                                          "valid_from": "2024-04-01"})
    assert r.status_code == 200 and 'id="parameters-section"' in r.text and "Значение сохранено" in r.text
    assert "41,5" in r.text and "01.04.2024" in r.text
    r = await client.post("/accounts/1/parameters", data={"kind": "area", "value": "", "valid_from": ""})
    assert "Укажите дату" in r.text
    assert (await client.post("/accounts/999999/parameters", data={"kind": "area"})).status_code == 404
    async with tx() as conn:
        stored = (await conn.execute(text("SELECT value_num FROM account_parameters WHERE account_id = 1"))).scalars().all()
        assert [str(v) for v in stored] == ["41.5000"]
        assert (await conn.execute(text("SELECT count(*) FROM readings"))).scalar_one() == 1
