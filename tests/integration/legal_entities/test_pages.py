"""The legal entities' pages for a signed-in admin: lists with rows, cards, forms that refuse with the message and
keep what was typed, forms that go through; permissions (403 without "legal", the operator role may edit); another
tenant's ids are unknown (404)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from sqlalchemy import text

from tests.conftest import ADMIN_PASSWORD
from tests.integration.billing_core.api_helpers import Api, as_role
from tests.integration.legal_entities.conftest import town
from tests.integration.legal_entities.helpers import SBER, account, make_contract, make_org, org_requisites


async def _sign_in(client, handle) -> None:
    client.cookies.clear()
    r = await client.post("/login", data={"tenant": handle.tenant.slug, "login": "admin", "password": ADMIN_PASSWORD,
                                          "next": "/"}, follow_redirects=False)
    assert r.status_code == 302, r.text


@pytest.fixture
async def pages(legal_client, tenant):
    await _sign_in(legal_client, tenant)
    yield legal_client
    legal_client.cookies.clear()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_lists_show_their_rows(api, pages):
    org = await make_org(api, "ООО «Видимое на странице»")
    k = await make_contract(api, org["id"], "cold_water")
    r = await pages.get("/legal/counterparties?q=видимое")
    assert r.status_code == 200
    assert f'href="/legal/counterparties/{org["id"]}"' in r.text and org["inn"] in r.text
    assert "Найдено: 1" in _text(r.text)
    r = await pages.get(f"/legal/contracts?q={k['number']}&kind=cold_water&status=draft")
    assert r.status_code == 200
    assert f'href="/legal/contracts/{k["id"]}"' in r.text and "Холодное водоснабжение" in r.text
    r = await pages.get("/legal/contracts?kind=bogus&status=bogus&offset=0")
    assert r.status_code == 200


async def test_a_counterparty_is_added_through_the_form(pages):
    form = await pages.get("/legal/counterparties/new?kind=ip")
    assert form.status_code == 200 and 'name="last_name"' in form.text
    req = org_requisites()
    bad = {"kind": "org", "name": "ООО «Форма»", "inn": req["inn"][:-1] + str((int(req["inn"][-1]) + 1) % 10),
           "kpp": req["kpp"], "ogrn": req["ogrn"], "penalty_category": "other", "active": "on"}
    r = await pages.post("/legal/counterparties", data=bad, follow_redirects=False)
    assert r.status_code == 422
    assert f"ИНН «{bad['inn']}»: неверное контрольное число" in r.text and 'value="ООО «Форма»"' in r.text
    r = await pages.post("/legal/counterparties", data={**bad, "inn": req["inn"]}, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    assert re.fullmatch(r"/legal/counterparties/\d+\?notice=.+", location)
    card = await pages.get(location)
    assert card.status_code == 200 and "Контрагент добавлен" in card.text and req["inn"] in card.text


async def test_the_counterparty_card_takes_accounts_contacts_and_changes(api, pages):
    org = await make_org(api, "ООО «Карточка»")
    url = f"/legal/counterparties/{org['id']}"
    r = await pages.post(f"{url}/bank-accounts", data={"bic": SBER[0], "account": "40702810000000000000"},
                         follow_redirects=False)
    assert r.status_code == 422 and "не сходится контрольный ключ" in r.text
    assert 'value="40702810000000000000"' in r.text
    good = account()
    r = await pages.post(f"{url}/bank-accounts", data={"bic": SBER[0], "account": good, "corr_account": SBER[1],
                                                       "bank_name": "ПАО Сбербанк"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#bank-accounts")
    r = await pages.post(f"{url}/contacts", data={"person": "Петрова Ольга", "phone": "+7 910 111-22-33"},
                         follow_redirects=False)
    assert r.status_code == 303
    edit = {"kind": "org", "name": "ООО «Карточка»", "short_name": "«Карточка»", "inn": org["inn"], "kpp": org["kpp"],
            "ogrn": org["ogrn"], "penalty_category": "management_company", "active": "on"}
    assert (await pages.post(url, data=edit, follow_redirects=False)).status_code == 303
    r = await pages.post(url, data={**edit, "email": "нет"}, follow_redirects=False)
    assert r.status_code == 422 and "Адрес эл. почты «нет» указан неверно" in r.text
    card = await pages.get(url)
    text = _text(card.text)
    assert good in text and "основной" in text and "Петрова Ольга" in text and "«Карточка»" in text
    assert "Управляющая организация (1/300, с 61-го дня 1/170, с 91-го 1/130)" in text


async def test_a_contract_is_built_through_the_forms(api, pages, tx):
    org = await make_org(api, "ООО «Договор на страницах»")
    new = await pages.get(f"/legal/contracts/new?counterparty={org['id']}")
    assert new.status_code == 200 and "ООО «Договор на страницах»" in new.text
    assert (await pages.get("/legal/contracts/new")).status_code == 200
    body = {"counterparty_id": str(org["id"]), "number": "СТР-1", "signed_on": "2025-01-15", "kind": "combined",
            "valid_from": "", "due_day": "10", "vat_mode": "vat"}
    r = await pages.post("/legal/contracts", data={**body, "due_day": "30"}, follow_redirects=False)
    assert r.status_code == 422 and "от 1 до 28" in r.text and 'value="СТР-1"' in r.text
    r = await pages.post("/legal/contracts", data=body, follow_redirects=False)
    assert r.status_code == 303
    contract_url = unquote(r.headers["location"]).split("?")[0]
    base = contract_url
    steps = [
        ("versions", {"valid_from": "2025-06-01", "basis": "Доп. соглашение № 1 от 20.05.2025", "due_day": "15",
                      "part1_percent": "35", "part1_day": "18", "vat_mode": "vat"}),
        ("objects", {"name": "Магазин «Угловой»", "address": "ул. Речная, 5"}),
    ]
    for path, data in steps:
        r = await pages.post(f"{base}/{path}", data=data, follow_redirects=False)
        assert r.status_code == 303, (path, r.text[:2000])
    card = await api.ok("get", f"/api/legal{base.removeprefix('/legal')}")
    object_id = card["objects"][0]["id"]
    r = await pages.post(f"{base}/points", data={
        "object_id": str(object_id), "kind": "supply", "name": "Ввод № 1", "diameter_mm": "", "tariff_group": "other",
        "valid_from": "2025-01-15"}, follow_redirects=False)
    assert r.status_code == 422 and "диаметр трубы" in r.text
    for kind, name, diameter in (("supply", "Ввод № 1", "40"), ("discharge", "Выпуск № 1", "")):
        r = await pages.post(f"{base}/points", data={"object_id": str(object_id), "kind": kind, "name": name,
                                                     "diameter_mm": diameter, "tariff_group": "other",
                                                     "valid_from": "2025-01-15", "vat_included": ""},
                             follow_redirects=False)
        assert r.status_code == 303, r.text[:2000]
    card = await api.ok("get", f"/api/legal{base.removeprefix('/legal')}")
    supply = card["objects"][0]["points"][0]
    r = await pages.post(f"{base}/meters", data={"point_id": str(supply["id"]), "serial": "СЧ-77",
                                                 "installed_on": "2025-02-01", "digits": "6", "initial_reading": "10",
                                                 "verified_until": "2031-02-01"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    card = await api.ok("get", f"/api/legal{base.removeprefix('/legal')}")
    meter = card["objects"][0]["points"][0]["meter"]
    r = await pages.post(f"{base}/readings", data={"meter_id": str(meter["id"]), "read_on": "2025-02-28",
                                                   "value": "25,5"}, follow_redirects=False)
    assert r.status_code == 303 and "принято" in unquote(r.headers["location"])
    r = await pages.post(f"{base}/status", data={"status": "terminated", "valid_to": "", "note": ""},
                         follow_redirects=False)
    assert r.status_code == 422 and "укажите дату окончания" in r.text.lower()
    r = await pages.post(f"{base}/status", data={"status": "active", "valid_to": "", "note": "подписан"},
                         follow_redirects=False)
    assert r.status_code == 303
    page = await pages.get(f"{base}?on=2025-07-01")
    text = _text(page.text)
    assert page.status_code == 200
    for expected in ("Договор № СТР-1 от 15.01.2025", "Действует", "Редакция 2, действует с 01.06.2025",
                     "35% до 18-го числа расчётного месяца; окончательный расчёт до 15-го числа следующего месяца",
                     "Магазин «Угловой»", "Ввод № 1", "СЧ-77", "по счётчику", "25,5", "Принято"):
        assert expected in text, expected
    older = _text((await pages.get(f"{base}?on=2025-02-01")).text)
    assert "Редакция 1, действует с 15.01.2025" in older


async def test_the_card_of_an_unknown_object_is_404(pages):
    assert (await pages.get("/legal/counterparties/2147483647")).status_code == 404
    assert (await pages.get("/legal/contracts/2147483647")).status_code == 404
    r = await pages.post("/legal/contracts/2147483647/objects", data={"name": "x"}, follow_redirects=False)
    assert r.status_code == 404


async def test_without_a_session_the_api_is_401_and_the_pages_go_to_the_login(legal_client):
    legal_client.cookies.clear()
    assert (await legal_client.get("/api/legal/counterparties")).status_code == 401
    r = await legal_client.get("/legal/contracts", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (302, "/login?next=/legal/contracts")


async def test_without_legal_the_pages_and_the_api_are_forbidden(legal_client, tenant, api):
    admin = Api(legal_client, tenant.headers)
    await admin.ok("post", "/api/roles", {"code": "accounts_only", "name": "Только лицевые счета",
                                          "permissions": ["accounts:view"]})
    stranger = await as_role(legal_client, tenant, "accounts_only")
    for url in ("/api/legal/counterparties", "/api/legal/contracts", "/legal/counterparties", "/legal/contracts"):
        assert (await stranger.get(url)).status_code == 403, url
    assert (await stranger.post("/api/legal/counterparties", {"kind": "org", "name": "x", "inn": "1"})
            ).status_code == 403
    viewer = await as_role(legal_client, tenant, "viewer")
    assert (await viewer.get("/api/legal/counterparties")).status_code == 200
    assert (await viewer.post("/api/legal/counterparties", {"kind": "org", "name": "x", "inn": "1"})
            ).status_code == 403
    operator = await as_role(legal_client, tenant, "operator")
    made = await make_org(operator, "ООО «От оператора»")
    assert made["created_by"] is not None


async def _far_ids(conn, tenant=None) -> None:
    """The other tenant's rows get ids this tenant does not have (its identities start at 1 000 000)."""
    await town(conn, tenant)
    for table in ("counterparties", "counterparty_contacts", "contracts", "contract_versions", "contract_objects",
                  "contract_points", "meters"):
        await conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN id RESTART WITH 1000000"))


async def test_another_tenants_ids_are_unknown(api, make_tenant, legal_client):
    other = await make_tenant(seed=_far_ids)
    theirs = Api(legal_client, other.headers)
    org = await make_org(theirs, "ООО «Чужое»")
    k = await make_contract(theirs, org["id"])
    site = await theirs.ok("post", f"/api/legal/contracts/{k['id']}/objects", {"name": "Чужой объект"})
    point = await theirs.ok("post", f"/api/legal/contracts/{k['id']}/points", {
        "object_id": site["id"], "kind": "supply", "name": "Ввод", "diameter_mm": 25, "tariff_group": "other",
        "valid_from": "2025-01-15"})
    meter = await theirs.ok("post", f"/api/legal/points/{point['id']}/meters",
                            {"serial": "ЧУЖОЙ-1", "installed_on": "2025-02-01"})
    assert min(org["id"], k["id"], site["id"], point["id"], meter["id"]) >= 1_000_000
    mine = await make_org(api, "ООО «Своё»")
    my_contract = await make_contract(api, mine["id"])
    for method, url, body in (
            ("get", f"/api/legal/counterparties/{org['id']}", None),
            ("patch", f"/api/legal/counterparties/{org['id']}", {"name": "Взлом"}),
            ("post", f"/api/legal/counterparties/{org['id']}/contacts", {"person": "X", "phone": "+7 900 000-00-00"}),
            ("get", f"/api/legal/contracts/{k['id']}", None),
            ("post", f"/api/legal/contracts/{k['id']}/versions", {"valid_from": "2025-06-01"}),
            ("post", f"/api/legal/points/{point['id']}/meters", {"serial": "X-1", "installed_on": "2025-03-01"}),
            ("post", f"/api/legal/points/{point['id']}/subs", {"sub_counterparty_id": mine["id"],
                                                               "valid_from": "2025-03-01"}),
            ("post", f"/api/legal/meters/{meter['id']}/readings", {"read_on": "2025-02-28", "value": "5"}),
            ("post", "/api/legal/contracts", {"number": "ЧУЖОЙ-ДОГ", "signed_on": "2025-01-15",
                                              "counterparty_id": org["id"], "kind": "sewage"}),
            ("post", f"/api/legal/contracts/{my_contract['id']}/points", {
                "object_id": site["id"], "kind": "supply", "name": "Ввод", "diameter_mm": 25,
                "tariff_group": "other", "valid_from": "2025-01-15"})):
        r = await (getattr(api, method)(url, body) if body is not None else getattr(api, method)(url))
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        assert "Чуж" not in r.text and other.tenant.slug not in r.text
    unchanged = await theirs.ok("get", f"/api/legal/counterparties/{org['id']}")
    assert (unchanged["name"], unchanged["contacts"]) == ("ООО «Чужое»", [])
