"""Counterparties over the API: organisations and sole traders with their requisites checked field by field,
duplicates refused naming the existing one, changes, search with paging, bank accounts (BIC + control key) and
contacts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.integration.legal_entities.helpers import SBER, account, ip_requisites, make_org, org_requisites


async def test_an_organisation_is_created_with_its_requisites_normalised(api):
    req = org_requisites()
    made = await api.ok("post", "/api/legal/counterparties", {
        "kind": "org", "name": "  Общество с ограниченной ответственностью «Ромашка»  ", "short_name": "ООО «Ромашка»",
        "inn": f" {req['inn'][:4]} {req['inn'][4:]} ", "kpp": req["kpp"].lower(), "ogrn": req["ogrn"],
        "email": "buh@romashka.example", "phone": "+7 (4862) 55-10-20", "edo_id": "2BM-0000000000-000000000",
        "penalty_category": "other", "legal_address": "Орёл, ул. Ленина, 1"})
    assert (made["name"], made["display_name"], made["inn"], made["kpp"], made["ogrn"], made["kind_name"],
            made["active"], made["bank_accounts"], made["contacts"], made["contracts"]) == (
        "Общество с ограниченной ответственностью «Ромашка»", "ООО «Ромашка»", req["inn"], req["kpp"], req["ogrn"],
        "Организация", True, [], [], [])
    assert made["category_changes"] == []  # a new counterparty's category holds since ever
    assert await api.ok("get", f"/api/legal/counterparties/{made['id']}") == made


async def test_a_sole_trader_has_no_kpp_and_states_the_persons_name(api):
    req = ip_requisites()
    made = await api.ok("post", "/api/legal/counterparties", {
        "kind": "ip", "name": "ИП Петров Пётр Петрович", "last_name": "Петров", "first_name": "Пётр",
        "middle_name": "Петрович", "penalty_category": "other", **req})
    assert (made["kind"], made["inn"], made["kpp"], made["ogrn"], made["last_name"], made["first_name"]) == (
        "ip", req["inn"], "", req["ogrn"], "Петров", "Пётр")


async def test_a_second_counterparty_with_the_same_inn_and_kpp_is_refused_naming_the_first(api):
    first = await make_org(api, "ООО «Первое»")
    r = await api.post("/api/legal/counterparties", {"kind": "org", "name": "ООО «Второе»", "inn": first["inn"],
                                                      "kpp": first["kpp"]})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["message"] == (
        f"Контрагент с ИНН {first['inn']} и КПП {first['kpp']} уже есть: «ООО «Первое»» (№ {first['id']})")
    branch = await api.ok("post", "/api/legal/counterparties", {
        "kind": "org", "name": "Филиал ООО «Первое»", "inn": first["inn"], "kpp": first["inn"][:4] + "02001"})
    assert branch["inn"] == first["inn"]


async def test_a_sole_trader_is_one_per_inn(api):
    req = ip_requisites()
    body = {"kind": "ip", "name": "ИП Сидоров", "last_name": "Сидоров", "first_name": "Сидор", **req}
    await api.ok("post", "/api/legal/counterparties", body)
    r = await api.post("/api/legal/counterparties", body)
    assert r.status_code == 409 and r.json()["error"]["fields"][0]["field"] == "inn"


def _bad_org(**kw) -> dict:
    return {"kind": "org", "name": "ООО «Проверка»", **org_requisites(), **kw}


def _bad_ip(**kw) -> dict:
    return {"kind": "ip", "name": "ИП Проверкин", "last_name": "Проверкин", "first_name": "Иван", **ip_requisites(),
            **kw}


@pytest.mark.parametrize("body, field, message", [
    (_bad_org(inn="7707083894"), "inn", "ИНН «7707083894»: неверное контрольное число"),
    (_bad_org(inn="500100732259"), "inn", "ИНН организации должен состоять из 10 цифр, указано 12: «500100732259»"),
    (_bad_org(inn="١٢٣٤٥٦٧٨٩٠"), "inn", "ИНН: только цифры 0–9"),
    (_bad_org(kpp=""), "kpp", "КПП не указан"),
    (_bad_org(kpp="0012AB001"), "kpp", None),
    (_bad_org(ogrn="1027700132196"), "ogrn", "ОГРН «1027700132196»: неверное контрольное число"),
    (_bad_org(name="   "), "name", "Укажите наименование"),
    (_bad_org(email="buh@"), "email", "Адрес эл. почты «buh@» указан неверно"),
    (_bad_org(phone="звоните"), "phone", None),
    (_bad_org(edo_id="BM-123"), "edo_id", None),
    (_bad_org(penalty_category="budget"), "penalty_category", None),
    (_bad_org(kind="llc"), "kind", None),
    (_bad_ip(kpp="575101001"), "kpp", "У индивидуального предпринимателя нет КПП: оставьте поле пустым"),
    (_bad_ip(inn="7707083893"), "inn",
     "ИНН ИП или физического лица должен состоять из 12 цифр, указано 10: «7707083893»"),
    (_bad_ip(ogrn="304500116000158"), "ogrn", "ОГРНИП «304500116000158»: неверное контрольное число"),
    (_bad_ip(last_name=""), "last_name", "Укажите фамилию предпринимателя"),
])
async def test_a_bad_requisite_is_refused_naming_its_field(api, body, field, message):
    r = await api.post("/api/legal/counterparties", body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["fields"][0]["field"] == field
    assert re.search("[а-яё]", error["message"])
    if message is not None:
        assert error["message"] == message


async def test_a_body_of_the_wrong_shape_is_a_400(api):
    r = await api.post("/api/legal/counterparties", {"kind": "org", "name": "ООО", "inn": 7707083893})
    assert r.status_code == 400


async def test_changes_keep_the_rest_and_are_checked_again(api):
    one = await make_org(api, "ООО «Один»")
    two = await make_org(api, "ООО «Два»")
    changed = await api.ok("patch", f"/api/legal/counterparties/{one['id']}",
                           {"short_name": "«Один»", "penalty_category": "management_company"})
    assert (changed["name"], changed["short_name"], changed["inn"], changed["penalty_category"]) == (
        "ООО «Один»", "«Один»", one["inn"], "management_company")
    r = await api.patch(f"/api/legal/counterparties/{one['id']}", {"inn": two["inn"], "kpp": two["kpp"]})
    assert r.status_code == 409 and f"(№ {two['id']})" in r.json()["error"]["message"]
    r = await api.patch(f"/api/legal/counterparties/{one['id']}", {"ogrn": "1"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "ogrn"
    assert (await api.get("/api/legal/counterparties/2147483647")).status_code == 404
    assert (await api.patch("/api/legal/counterparties/2147483647", {"name": "x"})).status_code == 404
    assert (await api.get("/api/legal/counterparties/2147483648")).status_code == 422


async def test_a_new_penalty_category_is_dated_and_listed_newest_first(api):
    org = await make_org(api, "ООО «Смена категории»")
    url = f"/api/legal/counterparties/{org['id']}"
    await api.ok("patch", url, {"penalty_category": "hoa", "category_from": "2026-01-01", "category_note": "ТСЖ"})
    await api.ok("patch", url, {"penalty_category": "management_company", "category_from": "2026-04-01"})
    card = await api.ok("get", url)
    assert card["penalty_category"] == "management_company"
    assert [(c["effective_from"], c["previous"], c["category"], c["note"], c["created_by"], c["category_short"])
            for c in card["category_changes"]] == [
        ("2026-04-01", "hoa", "management_company", "", org["created_by"], "Управляющая организация"),
        ("2026-01-01", "other", "hoa", "ТСЖ", org["created_by"], "ТСЖ, ЖСК")]
    r = await api.patch(url, {"penalty_category": "other", "category_from": "2026-03-01"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "category_from"
    assert (await api.patch(url, {"category_from": "01.03.2026"})).status_code == 400  # the API takes ISO dates


async def test_search_by_name_part_and_inn_prefix_with_paging(api):
    made = [await make_org(api, f"ООО «Поисковик-{n}»") for n in range(3)]
    found = await api.ok("get", "/api/legal/counterparties?q=поисковик&limit=2")
    assert (found["total"], len(found["items"])) == (3, 2)
    rest = await api.ok("get", "/api/legal/counterparties?q=поисковик&limit=2&offset=2")
    assert [i["id"] for i in found["items"] + rest["items"]] == [m["id"] for m in made]
    by_inn = await api.ok("get", f"/api/legal/counterparties?q={made[1]['inn'][:10]}")
    assert [i["id"] for i in by_inn["items"]] == [made[1]["id"]]
    assert (await api.ok("get", "/api/legal/counterparties?q=поисковик&kind=ip"))["total"] == 0
    assert (await api.get("/api/legal/counterparties?kind=llc")).status_code == 422
    assert (await api.ok("get", "/api/legal/counterparties?q=100%25_"))["total"] == 0


async def test_bank_accounts_are_checked_against_the_bic_and_one_is_main(api):
    org = await make_org(api, "ООО «Счета»")
    url = f"/api/legal/counterparties/{org['id']}/bank-accounts"
    first = await api.ok("post", url, {"bic": SBER[0], "account": account(), "corr_account": SBER[1],
                                       "bank_name": "ПАО Сбербанк"})
    assert first["main"] is True
    second = await api.ok("post", url, {"bic": "044525187", "account": account("044525187"), "main": True})
    card = await api.ok("get", f"/api/legal/counterparties/{org['id']}")
    assert [(b["id"], b["main"]) for b in card["bank_accounts"]] == [(second["id"], True), (first["id"], False)]
    wrong_key = first["account"][:8] + str((int(first["account"][8]) + 1) % 10) + first["account"][9:]
    for body, field in (({"bic": SBER[0], "account": wrong_key}, "account"),
                        ({"bic": "123456789", "account": first["account"]}, "bic"),
                        ({"bic": SBER[0], "account": account(), "corr_account": "30101810400000000226"},
                         "corr_account"),
                        ({"bic": SBER[0], "account": "4070281"}, "account")):
        r = await api.post(url, body)
        assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == field, (body, r.text)
    r = await api.post(url, {"bic": SBER[0], "account": first["account"]})
    assert r.status_code == 409
    assert (await api.post("/api/legal/counterparties/2147483647/bank-accounts",
                           {"bic": SBER[0], "account": account()})).status_code == 404


async def test_contacts_need_a_phone_or_an_email(api):
    org = await make_org(api, "ООО «Контакты»")
    url = f"/api/legal/counterparties/{org['id']}/contacts"
    made = await api.ok("post", url, {"person": "Иванова Анна", "position": "Главный бухгалтер",
                                      "phone": "+7 910 000-00-00"})
    assert made["person"] == "Иванова Анна"
    r = await api.post(url, {"person": "Без связи"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "phone"


async def test_changes_are_in_the_audit_log_with_their_user(api, tx):
    org = await make_org(api, "ООО «Журнал»")
    await api.ok("patch", f"/api/legal/counterparties/{org['id']}", {"note": "проверено"})
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT action, user_id, new_row->>'note' FROM audit_log WHERE table_name = 'counterparties' "
            "AND row_id = :id ORDER BY id"), {"id": str(org["id"])})).all()
    assert [tuple(r) for r in rows] == [("insert", org["created_by"], ""), ("update", org["created_by"], "проверено")]
