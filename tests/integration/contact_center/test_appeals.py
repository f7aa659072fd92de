"""Appeals over the API with real PostgreSQL: registering (manually, from a call), the journal's filters,
changing result/status/operator, telephonograms affecting an address (house or whole street, dates
respected), permissions, and the pages (journal with filters and the form, the card with warnings)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import text

from tests.integration.billing_core.api_helpers import Api, as_role, login_cookie


async def _account(tx, number: str) -> dict:
    async with tx() as conn:
        row = (await conn.execute(text(
            "SELECT a.id, p.house_id, h.street_id FROM accounts a JOIN premises p ON p.id = a.premise_id "
            "JOIN houses h ON h.id = p.house_id WHERE a.number = :n"), {"n": number})).one()
    return dict(row._mapping)


async def _set_received(tx, appeal_id: int, when: str) -> None:
    async with tx() as conn:
        await conn.execute(text("UPDATE appeals SET received_at = CAST(CAST(:w AS text) AS timestamptz) WHERE id = :id"),
                           {"w": when, "id": appeal_id})


async def test_register_change_and_filter_appeals(api, tx, cc_tenant):
    acc = await _account(tx, "00100001")
    me = (await api.ok("get", "/api/auth/me"))
    kinds = await api.ok("get", "/api/appeal-kinds")
    assert [k["name"] for k in kinds["items"]][:4] == ["Жалоба", "Заявление", "Консультация", "Аварийное сообщение"]

    a1 = await api.ok("post", "/api/appeals", {"kind": "complaint", "source": "phone", "account_id": acc["id"],
                                               "subject": "Нет воды", "text": "С утра нет холодной воды"})
    assert a1["number"].startswith("О-") and a1["status"] == "new" and a1["kind_name"] == "Жалоба"
    assert a1["house_id"] == acc["house_id"] and a1["account_number"] == "00100001"
    assert "Речная" in a1["address"] and "кв." in a1["address"]
    assert a1["applicant_name"].startswith("Абонент") and a1["applicant_phone"].startswith("+7900")
    assert a1["operator_id"] == me["user_id"]

    a2 = await api.ok("post", "/api/appeals", {"kind": "consultation", "source": "visit", "address_text": "ул. Новая, 5",
                                               "applicant_name": "Сидорова", "subject": "Тарифы"})
    a3 = await api.ok("post", "/api/appeals", {"kind": "emergency", "source": "letter",
                                               "house_id": (await _account(tx, "00100005"))["house_id"],
                                               "subject": "Течь в подвале"})
    await _set_received(tx, a2["id"], "2026-10-05 10:00+03")
    await _set_received(tx, a3["id"], "2026-10-20 10:00+03")
    await _set_received(tx, a1["id"], "2026-11-02 10:00+03")

    async def numbers(query: str) -> list[str]:
        return [x["number"] for x in (await api.ok("get", f"/api/appeals?{query}"))["items"]]

    assert await numbers("") == [a1["number"], a3["number"], a2["number"]]
    assert await numbers("date_from=2026-10-01&date_to=2026-10-31") == [a3["number"], a2["number"]]
    assert await numbers("date_from=2026-10-20&date_to=2026-10-20") == [a3["number"]]
    assert await numbers("kind=consultation") == [a2["number"]]
    assert await numbers("source=letter") == [a3["number"]]
    assert await numbers(f"house_id={acc['house_id']}") == [a1["number"]]
    assert await numbers("address=новая") == [a2["number"]]
    assert await numbers("address=Лесная") == [a3["number"]]  # from the registry's address of the house
    assert await numbers(f"account_id={acc['id']}") == [a1["number"]]
    assert await numbers("q=00100001") == [a1["number"]]
    assert await numbers("q=сидоров") == [a2["number"]]
    assert await numbers("limit=1&offset=1") == [a3["number"]]
    assert (await api.ok("get", "/api/appeals?limit=1"))["total"] == 3

    # result, status and operator
    changed = await api.ok("patch", f"/api/appeals/{a2['id']}", {"result": "Разъяснены тарифы", "status": "answered"})
    assert changed["status"] == "answered" and changed["answered_at"] and changed["closed_at"] is None
    assert await numbers("result=тариф") == [a2["number"]]
    assert await numbers("status=answered") == [a2["number"]]
    closed = await api.ok("patch", f"/api/appeals/{a2['id']}", {"status": "closed", "operator_id": None})
    assert closed["closed_at"] and closed["answered_at"] == changed["answered_at"] and closed["operator_id"] is None
    assert await numbers(f"operator_id={a1['operator_id']}") == [a1["number"], a3["number"]]

    # refusals
    r = await api.post("/api/appeals", {"kind": "nonsense", "subject": "x"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "kind"
    r = await api.post("/api/appeals", {"account_id": 999999, "subject": "x"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Лицевой счёт не найден"
    r = await api.post("/api/appeals", {"source": "pigeon", "subject": "x"})
    assert r.status_code == 400
    r = await api.patch(f"/api/appeals/{a2['id']}", {"operator_id": 999999})
    assert r.status_code == 404
    assert (await api.patch("/api/appeals/999999", {"result": "x"})).status_code == 404

    # the audit log has the appeal's history
    history = await api.ok("get", f"/api/audit/appeals/{a2['id']}")
    assert len(history["items"]) >= 3


async def test_appeal_from_call_takes_the_caller_and_account_from_the_call(api, tx):
    acc = await _account(tx, "00100003")
    async with tx() as conn:
        call_id = (await conn.execute(text(
            "INSERT INTO calls(linkedid, uniqueid, direction, caller, started_at, account_id) "
            "VALUES ('1732000000.77', '1732000000.77', 'inbound', '+79120000003', now(), :a) RETURNING id"),
            {"a": acc["id"]})).scalar_one()
    a = await api.ok("post", "/api/appeals/from-call", {"call_id": call_id, "subject": "Вопрос по счёту"})
    assert a["call_id"] == call_id and a["source"] == "phone" and a["applicant_phone"] == "+79120000003"
    assert a["account_id"] == acc["id"] and a["house_id"] == acc["house_id"] and a["operator_id"] is not None
    given = await api.ok("post", "/api/appeals/from-call", {"call_id": call_id, "applicant_phone": "+70000000000",
                                                            "account_id": (await _account(tx, "00100001"))["id"]})
    assert given["applicant_phone"] == "+70000000000" and given["account_number"] == "00100001"
    assert [x["id"] for x in (await api.ok("get", f"/api/appeals?account_id={acc['id']}"))["items"]] == [a["id"]]
    r = await api.post("/api/appeals/from-call", {"call_id": 987654321})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Звонок не найден"


async def test_telephonograms_affect_their_houses_and_streets_in_their_period(api, tx):
    on_rechnaya = await _account(tx, "00100001")  # house on ул. Речная
    other_house_rechnaya = await _account(tx, "00100003")
    on_lesnaya = await _account(tx, "00100005")  # ул. Лесная
    assert on_rechnaya["street_id"] != on_lesnaya["street_id"]
    house_tg = await api.ok("post", "/api/telephonograms", {
        "number": "17/11", "from_org": "АО «Теплосеть»", "kind": "planned", "text": "Отключение ГВС: ремонт",
        "valid_from": "2026-11-10T08:00:00+03:00", "valid_to": "2026-11-12T20:00:00+03:00",
        "house_ids": [on_rechnaya["house_id"]]})
    assert house_tg["addresses"][0]["address"] == "ул. Речная, д. 1"
    street_tg = await api.ok("post", "/api/telephonograms", {
        "from_org": "Электросети", "kind": "emergency", "text": "Авария на подстанции",
        "valid_from": "2026-11-11T09:00:00+03:00", "street_ids": [on_lesnaya["street_id"]]})

    async def affecting(house_id: int, on: str) -> set[int]:
        items = (await api.ok("get", f"/api/telephonograms/affecting?house_id={house_id}&on={on}"))["items"]
        return {t["id"] for t in items}

    assert await affecting(on_rechnaya["house_id"], "2026-11-10") == {house_tg["id"]}
    assert await affecting(on_rechnaya["house_id"], "2026-11-12") == {house_tg["id"]}
    assert await affecting(on_rechnaya["house_id"], "2026-11-13") == set()
    assert await affecting(on_rechnaya["house_id"], "2026-11-09") == set()
    assert await affecting(other_house_rechnaya["house_id"], "2026-11-11") == set()
    assert await affecting(on_lesnaya["house_id"], "2026-11-10") == set()
    assert await affecting(on_lesnaya["house_id"], "2026-11-11") == {street_tg["id"]}
    assert await affecting(on_lesnaya["house_id"], "2027-03-01") == {street_tg["id"]}  # until cancelled
    active = (await api.ok("get", "/api/telephonograms?active_on=2026-11-11"))["items"]
    assert {t["id"] for t in active} >= {house_tg["id"], street_tg["id"]}

    # an appeal's card shows the telephonograms in force for its address on the day it came
    hit = await api.ok("post", "/api/appeals", {"account_id": on_rechnaya["id"], "subject": "Нет горячей воды"})
    miss = await api.ok("post", "/api/appeals", {"account_id": other_house_rechnaya["id"], "subject": "Нет воды"})
    late = await api.ok("post", "/api/appeals", {"account_id": on_rechnaya["id"], "subject": "Опять нет воды"})
    await _set_received(tx, hit["id"], "2026-11-11 12:00+03")
    await _set_received(tx, miss["id"], "2026-11-11 12:00+03")
    await _set_received(tx, late["id"], "2026-11-14 12:00+03")
    card = await api.ok("get", f"/api/appeals/{hit['id']}")
    assert [t["id"] for t in card["telephonograms"]] == [house_tg["id"]]
    assert card["telephonograms"][0]["from_org"] == "АО «Теплосеть»"
    assert (await api.ok("get", f"/api/appeals/{miss['id']}"))["telephonograms"] == []
    assert (await api.ok("get", f"/api/appeals/{late['id']}"))["telephonograms"] == []

    # refusals: no address, an unknown house, the end before the start
    base = {"from_org": "X", "text": "Y", "valid_from": "2026-11-10T08:00:00+03:00"}
    assert (await api.post("/api/telephonograms", base)).status_code == 422
    assert (await api.post("/api/telephonograms", {**base, "house_ids": [99999]})).status_code == 404
    r = await api.post("/api/telephonograms", {**base, "house_ids": [on_rechnaya["house_id"]],
                                              "valid_to": "2026-11-01T08:00:00+03:00"})
    assert r.status_code == 422


async def test_permissions(client, cc_tenant):
    viewer = await as_role(client, cc_tenant, "viewer")
    assert (await viewer.get("/api/appeals")).status_code == 200
    assert (await viewer.post("/api/appeals", {"subject": "x"})).status_code == 403
    operator = await as_role(client, cc_tenant, "operator")
    assert (await operator.post("/api/appeals", {"subject": "от оператора"})).status_code == 201
    assert (await operator.get("/api/mailboxes")).status_code == 403  # mailboxes: admin only
    assert (await operator.get("/api/mail/messages")).status_code == 200


async def test_pages_journal_form_and_card(client, cc_tenant, api, tx):
    acc = await _account(tx, "00100002")
    await api.ok("post", "/api/telephonograms", {
        "from_org": "Горгаз", "kind": "emergency", "text": "Перекрыт стояк",
        "valid_from": "2020-01-01T00:00:00+03:00", "house_ids": [acc["house_id"]]})
    await login_cookie(client, cc_tenant)
    r = await client.get("/appeals")
    assert r.status_code == 200 and "Обращения" in r.text and "Новое обращение" in r.text
    r = await client.post("/appeals", data={"kind": "complaint", "source": "visit", "account_number": "00100002",
                                            "subject": "Запах в подвале", "text": "Пахнет газом"},
                          follow_redirects=False)
    assert r.status_code == 303, r.text
    card_url = r.headers["location"]
    appeal_id = int(re.fullmatch(r"/appeals/(\d+)", card_url).group(1))
    r = await client.get(card_url)
    assert r.status_code == 200 and "Запах в подвале" in r.text and "Перекрыт стояк" in r.text and "Горгаз" in r.text

    r = await client.post("/appeals", data={"kind": "complaint", "account_number": "77777777", "subject": "x"})
    assert r.status_code == 200 and "Лицевой счёт № 77777777 не найден" in r.text

    r = await client.post(card_url, data={"status": "answered", "result": "Вызвана аварийная служба", "take": "1"},
                          follow_redirects=False)
    assert r.status_code == 303
    appeal = await api.ok("get", f"/api/appeals/{appeal_id}")
    assert appeal["status"] == "answered" and appeal["result"] == "Вызвана аварийная служба"

    today = date.today().isoformat()
    r = await client.get(f"/appeals?date_from={today}&status=answered&address=&q=Запах")
    assert r.status_code == 200 and "Запах в подвале" in r.text and "Найдено: 1" in r.text
    r = await client.get("/appeals?source=portal&date_from=bad")
    assert r.status_code == 200 and "Запах в подвале" not in r.text
    assert (await client.get("/appeals/999999")).status_code == 404


async def test_telephonograms_and_mail_pages(client, cc_tenant, tx):
    lesnaya = await _account(tx, "00100006")
    rechnaya = await _account(tx, "00100002")
    await login_cookie(client, cc_tenant)
    r = await client.get("/telephonograms")
    assert r.status_code == 200 and "Новая телефонограмма" in r.text and "ул. Лесная" in r.text
    form = {"number": "T-77", "from_org": "Водоочистная станция", "kind": "emergency", "text": "Промывка сетей",
            "valid_from": "2026-11-20T08:00", "valid_to": "2026-11-20T18:00",
            "house_ids": [str(rechnaya["house_id"])], "street_ids": str(lesnaya["street_id"])}
    r = await client.post("/telephonograms", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    r = await client.get("/telephonograms")
    assert "Промывка сетей" in r.text and "ул. Лесная (вся улица)" in r.text and "ул. Речная, д. 1" in r.text
    async with tx() as conn:
        valid_from = (await conn.execute(text(
            "SELECT to_char(valid_from AT TIME ZONE 'Europe/Moscow', 'YYYY-MM-DD HH24:MI') FROM telephonograms "
            "WHERE number = 'T-77'"))).scalar()
    assert valid_from == "2026-11-20 08:00"  # a form's time is the organisation's local time
    r = await client.post("/telephonograms", data={**form, "house_ids": [], "street_ids": ""})
    assert r.status_code == 200 and "Выберите дома или улицы" in r.text
    r = await client.post("/telephonograms", data={**form, "valid_to": "2026-11-19T08:00"})
    assert r.status_code == 200 and "Окончание раньше начала" in r.text

    r = await client.get("/appeals/mail")
    assert r.status_code == 200 and "Журнал почты" in r.text


async def test_demo_appeals(make_tenant, client, core):
    from aquabill.demo.appeals import seed_appeals
    from aquabill.demo.tenant import seed_registry

    day = date(2026, 5, 23)

    async def seed(conn, _tenant):
        await seed_registry(conn, accounts_count=20, seed=3)
        assert await seed_appeals(conn, today=day, count=12) == 12

    demo = await make_tenant(seed=seed)
    api = Api(client, demo.headers)
    journal = await api.ok("get", "/api/appeals?limit=100")
    assert journal["total"] == 12 and all(a["account_id"] and a["address"] for a in journal["items"])
    assert {a["status"] for a in journal["items"]} >= {"new"}
    today = (await api.ok("get", "/api/telephonograms?active_on=2026-05-23"))["items"]
    assert [t["number"] for t in today] == ["ТФ-12"]
    past = (await api.ok("get", "/api/telephonograms?active_on=2026-05-03"))["items"]
    assert [t["number"] for t in past] == ["ТФ-9"] and "вся улица" in past[0]["addresses"][0]["address"]
