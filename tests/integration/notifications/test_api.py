"""The notification center's API and pages: templates, preview, campaigns (created, started, paused, cancelled,
their recipients), opt-outs, sending rules; bad input → 4xx with a Russian message; another tenant sees none
of it (the pattern of tests/tenancy: B's ids with A's credentials); every change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction
from tests.integration.notifications.support import town

OUTAGE = {"title": "Отключение на Речной", "template_id": None, "subject": "Отключение воды {{ outage_from }}",
          "body": "{{ holder }}, {{ outage_from }} – {{ outage_to }} не будет воды по адресу {{ address }}. "
                  "{{ outage_text }}",
          "channels": ["telegram", "email", "sms", "inbox"], "mode": "all", "audience": {"house_ids": [1]},
          "fields": {"outage_from": "12.04.2025 09:00", "outage_to": "12.04.2025 18:00", "outage_text": "Ремонт."}}


@pytest.fixture(scope="module")
async def town_a(make_tenant):
    return await make_tenant(seed=town)


@pytest.fixture(scope="module")
async def town_b(make_tenant):
    return await make_tenant(seed=town)


async def test_templates_crud_and_a_bad_template(client, town_a):
    h = town_a.headers
    r = await client.get("/api/notifications/templates", headers=h)
    assert r.status_code == 200
    assert {t["code"] for t in r.json()["items"]} >= {"debt", "outage", "verification", "receipt"}
    assert "debt" in r.json()["variables"]
    r = await client.post("/api/notifications/templates", headers=h, json={
        "title": "Долг", "subject": "Долг", "body": "{{ holder }}, долг {{ debt }} руб."})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    r = await client.put(f"/api/notifications/templates/{tid}", headers=h, json={
        "title": "Долг", "body": "Строка 1\n{% if debt > 0 %}долг{% endfor %}"})
    assert r.status_code == 422
    assert "строка 2" in r.json()["error"]["message"].lower() or "Строка 2" in r.json()["error"]["message"]
    r = await client.put(f"/api/notifications/templates/{tid}", headers=h, json={
        "title": "Долг", "body": "{{ holder.__class__.__mro__ }}"})
    assert r.status_code == 422 and "запрещено" in r.json()["error"]["message"]
    r = await client.put(f"/api/notifications/templates/{tid}", headers=h, json={"title": "Долг!", "body": "{{ debt }}"})
    assert r.status_code == 200 and r.json()["title"] == "Долг!"
    assert (await client.delete(f"/api/notifications/templates/{tid}", headers=h)).status_code == 200
    assert (await client.get(f"/api/notifications/templates/{tid}", headers=h)).json()["archived"] is True
    assert (await client.get("/api/notifications/templates/999999", headers=h)).status_code == 404


async def test_preview_counts_reach_cost_and_samples(client, town_a):
    r = await client.post("/api/notifications/preview", headers=town_a.headers, json=OUTAGE)
    assert r.status_code == 200, r.text
    p = r.json()
    assert (p["count"], p["reachable"], p["unreachable"]) == (4, 3, 1)  # house 1: account 4 has no address
    assert p["channels"]["sms"] == {"reach": 2, "first": 1} and p["channels"]["telegram"]["reach"] == 1
    assert p["sms"]["messages"] == 2 and p["sms"]["parts"] >= 2 and p["sms"]["price"] == "3.50"
    assert len(p["samples"]) == 3
    assert p["samples"][0]["text"].startswith("Абонент 1, 12.04.2025 09:00 – 12.04.2025 18:00 не будет воды")
    assert p["values"]["outage_houses"] == "г. Тестовск, ул. Речная, д. 1"
    debt = await client.post("/api/notifications/preview", headers=town_a.headers, json={
        "template_id": 1, "channels": ["sms"], "audience": {"debt_over": "100"}})  # the seeded debt reminder
    assert debt.status_code == 200 and debt.json()["count"] == 2
    assert "1 500,00 руб." in debt.json()["samples"][0]["text"]


@pytest.mark.parametrize("body, status, field", [
    ({**OUTAGE, "channels": []}, 422, "channels"),
    ({**OUTAGE, "channels": ["pigeon"]}, 422, "channels"),
    ({**OUTAGE, "mode": "some"}, 422, "mode"),
    ({**OUTAGE, "body": "{{ nonsense }}"}, 422, "body"),
    ({**OUTAGE, "audience": {"house_ids": [424242]}}, 404, "house_ids"),
    ({**OUTAGE, "audience": {"debt_over": "lots"}}, 422, "debt_over"),
    ({**OUTAGE, "channels": ["autocall"]}, 422, "sound"),
    ({**OUTAGE, "rates": {"sms": -5}}, 422, "rates"),
    ({**OUTAGE, "title": ""}, 422, "title"),
])
async def test_bad_campaigns_are_refused_clearly(client, town_a, body, status, field):
    r = await client.post("/api/notifications/campaigns", headers=town_a.headers, json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["fields"][0]["field"] == field and any("а" <= ch <= "я" for ch in err["message"].lower())


async def test_bad_shapes_are_4xx(client, town_a):
    h = town_a.headers
    for method, url, body in (("POST", "/api/notifications/campaigns", {"channels": "x" * 50}),
                              ("POST", "/api/notifications/campaigns", {"title": 5}),
                              ("POST", "/api/notifications/preview", []),
                              ("PUT", "/api/notifications/settings", {"timezone": "Nowhere/Land"}),
                              ("PUT", "/api/notifications/settings", {"quiet_from": "99:99"}),
                              ("POST", "/api/notifications/optouts", {"address": "not an address!"}),
                              ("POST", "/api/notifications/optouts", {}),
                              ("POST", "/api/notifications/optouts", {"account_id": 424242})):
        r = await client.request(method, url, headers=h, json=body)
        assert 400 <= r.status_code < 500, (url, body, r.status_code, r.text)
    for q in ("status=bogus", "channel=pigeon", "limit=0", "offset=-1"):
        r = await client.get(f"/api/notifications/campaigns/1/recipients?{q}", headers=h)
        assert 400 <= r.status_code < 500, q
    assert (await client.get("/api/notifications/campaigns/99999999999", headers=h)).status_code in (400, 404, 422)


async def test_a_campaign_from_draft_to_cancel(client, core, town_a):
    h = town_a.headers
    r = await client.post("/api/notifications/campaigns", headers=h, json=OUTAGE)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["status"] == "draft" and c["channels"] == OUTAGE["channels"]
    assert c["fields"]["tenant_name"] and c["fields"]["outage_text"] == "Ремонт."
    r = await client.post(f"/api/notifications/campaigns/{c['id']}/start", headers=h)
    assert r.status_code == 202 and r.json()["status"] == "running" and r.json()["job_id"]
    again = await client.post(f"/api/notifications/campaigns/{c['id']}/start", headers=h)
    assert again.status_code == 409 and again.json()["error"]["message"] == "Рассылка уже идёт"
    assert (await client.post(f"/api/notifications/campaigns/{c['id']}/pause", headers=h)).status_code == 200
    assert (await client.get(f"/api/notifications/campaigns/{c['id']}", headers=h)).json()["status"] == "paused"
    r = await client.post(f"/api/notifications/campaigns/{c['id']}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert (await client.post(f"/api/notifications/campaigns/{c['id']}/start", headers=h)).status_code == 409
    listed = (await client.get("/api/notifications/campaigns", headers=h)).json()
    assert c["id"] in [x["id"] for x in listed["items"]]
    async with tenant_transaction(core.engines, town_a.tenant) as conn:
        audited = (await conn.execute(text(
            "SELECT array_agg(action ORDER BY id) FROM audit_log WHERE table_name = 'campaigns' AND row_id = :i"),
            {"i": str(c["id"])})).scalar_one()
    assert audited[0] == "insert" and audited.count("update") >= 3


async def test_recipients_with_statuses_and_paging(client, core, town_a):
    from aquabill.notifications.campaign_store import materialise

    h = town_a.headers
    c = (await client.post("/api/notifications/campaigns", headers=h, json={**OUTAGE, "audience": {}})).json()
    async with tenant_transaction(core.engines, town_a.tenant) as conn:
        await materialise(conn, c["id"], __import__("datetime").date.today())
        await conn.execute(text("UPDATE campaign_deliveries SET status = 'failed', detail = 'нет ящика' "
                                "WHERE campaign_id = :c AND channel = 'email'"), {"c": c["id"]})
    r = await client.get(f"/api/notifications/campaigns/{c['id']}/recipients?limit=4", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 10 and len(body["items"]) == 4 and body["items"][0]["number"] == "00000001"
    assert {d["channel"] for d in body["items"][0]["deliveries"]} == {"email", "sms"}
    failed = (await client.get(f"/api/notifications/campaigns/{c['id']}/recipients?status=failed", headers=h)).json()
    assert [x["number"] for x in failed["items"]] == ["00000001", "00000003", "00000006"]
    none = (await client.get(f"/api/notifications/campaigns/{c['id']}/recipients?status=unreachable",
                             headers=h)).json()
    assert [x["note"] for x in none["items"]] == ["Нет адресов для выбранных каналов"] * none["total"]
    tg = (await client.get(f"/api/notifications/campaigns/{c['id']}/recipients?channel=telegram", headers=h)).json()
    assert [x["number"] for x in tg["items"]] == ["00000003"]
    detail = (await client.get(f"/api/notifications/campaigns/{c['id']}", headers=h)).json()
    assert detail["counts"]["email"] == {"failed": 3} and detail["recipients"] == 10


async def test_opt_outs_and_rules(client, town_a):
    h = town_a.headers
    r = await client.post("/api/notifications/optouts", headers=h, json={"address": "8 916 000-00-02", "reason": "звонок"})
    assert r.status_code == 201 and r.json()["address"] == "+79160000002"
    assert (await client.post("/api/notifications/optouts", headers=h,
                              json={"address": "+79160000002"})).status_code == 409
    listed = (await client.get("/api/notifications/optouts", headers=h)).json()
    assert listed["total"] == 1
    assert (await client.delete(f"/api/notifications/optouts/{r.json()['id']}", headers=h)).status_code == 200
    r = await client.put("/api/notifications/settings", headers=h, json={
        "quiet_from": "22:00", "quiet_to": "08:00", "timezone": "Asia/Yekaterinburg", "sms_price": "2,90",
        "rates": {"sms": 10}})
    assert r.status_code == 200 and r.json()["sms_price"] == "2.90" and r.json()["rates"]["sms"] == 10
    assert (await client.get("/api/notifications/settings", headers=h)).json()["timezone"] == "Asia/Yekaterinburg"


async def test_another_tenant_sees_none_of_it(client, town_a, town_b):
    a = (await client.post("/api/notifications/campaigns", headers=town_a.headers, json=OUTAGE)).json()
    b_opt = (await client.post("/api/notifications/optouts", headers=town_b.headers,
                               json={"address": "b@mail.example"})).json()
    b_tpl = (await client.post("/api/notifications/templates", headers=town_b.headers,
                               json={"title": "Только Б", "body": "SECRET-B {{ holder }}"})).json()
    hb = town_b.headers
    for method, url in (("GET", f"/api/notifications/campaigns/{a['id']}"),
                        ("GET", f"/api/notifications/campaigns/{a['id']}/recipients"),
                        ("POST", f"/api/notifications/campaigns/{a['id']}/start"),
                        ("POST", f"/api/notifications/campaigns/{a['id']}/pause"),
                        ("POST", f"/api/notifications/campaigns/{a['id']}/cancel"),
                        ("GET", f"/notifications/{a['id']}")):
        r = await client.request(method, url, headers=hb)  # B has no campaign: A's id is unknown to B
        assert r.status_code == 404, (method, url, r.status_code)
    assert (await client.get("/api/notifications/campaigns", headers=hb)).json()["total"] == 0
    ha = town_a.headers  # B's ids with A's credentials: A's own rows at most (ids are per tenant), never B's
    await client.delete(f"/api/notifications/optouts/{b_opt['id']}", headers=ha)
    assert (await client.get("/api/notifications/optouts", headers=hb)).json()["total"] == 1
    for url in (f"/api/notifications/templates/{b_tpl['id']}", "/api/notifications/templates?archived=true",
                "/api/notifications/optouts", "/notifications/new?template_id=" + str(b_tpl["id"])):
        r = await client.get(url, headers=ha)
        assert "SECRET-B" not in r.text and "b@mail.example" not in r.text, url


async def test_the_pages(client, town_a):
    h = town_a.headers
    assert "Рассылки" in (await client.get("/notifications", headers=h)).text
    page = await client.get("/notifications/new?template_id=2", headers=h)  # the seeded outage notice
    assert page.status_code == 200 and "Плановое отключение воды" in page.text and "Предпросмотр" in page.text
    form = {"title": "Отключение", "body": OUTAGE["body"], "subject": "Отключение", "house_ids": ["1", "2"],
            "ch_email": "on", "ch_sms": "on", "order_sms": "1", "order_email": "2", "mode": "first",
            "outage_from": "2025-04-12T09:00", "outage_to": "2025-04-12T18:00"}
    preview = await client.post("/notifications/preview", headers=h, data=form)
    assert preview.status_code == 200 and 'id="preview-count">7<' in preview.text
    assert "12.04.2025 09:00" in preview.text
    bad = await client.post("/notifications/preview", headers=h, data={**form, "body": "{% if %}"})
    assert bad.status_code == 200 and 'class="error"' in bad.text
    refused = await client.post("/notifications/new", headers=h, data={**form, "debt_months": "много"})
    assert refused.status_code == 200 and "Долг за месяцев" in refused.text
    created = await client.post("/notifications/new", headers=h, data=form, follow_redirects=False)
    assert created.status_code == 303
    url = created.headers["location"]
    page = await client.get(url, headers=h)
    assert page.status_code == 200 and "Ход рассылки" in page.text and "SMS → Эл. почта" in page.text
    assert (await client.get(url + "?part=live", headers=h)).text.startswith('<section class="card" id="campaign-live"')
    assert 'id="campaign-recipients"' in (await client.get(url + "?part=recipients&status=failed", headers=h)).text
    act = await client.post(url, headers=h, data={"action": "fly"}, follow_redirects=False)
    assert act.status_code == 303 and "message=" in act.headers["location"]
    assert (await client.post("/notifications/424242", headers=h, data={"action": "start"})).status_code == 404
    settings = await client.get("/notifications/settings", headers=h)
    assert settings.status_code == 200 and "Тихие часы" in settings.text
    added = await client.post("/notifications/optouts", headers=h, data={"account_number": "00000002", "channel": "sms"})
    assert "Отказ записан" in added.text and "00000002" in added.text
    wrong = await client.post("/notifications/optouts", headers=h, data={"account_number": "nope"})
    assert "не найден" in wrong.text
    saved = await client.post("/notifications/settings", headers=h, data={"quiet_from": "21:00", "quiet_to": "09:00",
                                                                         "timezone": "Europe/Moscow", "sms_price": "x"})
    assert "Цена SMS" in saved.text
