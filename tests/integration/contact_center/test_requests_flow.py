"""Requests over the API with real PostgreSQL: automatic assignment by division, territory and cap,
reassignment when the assignee is silent, overdue marking and escalation (timers called with explicit
times), required documents blocking a phase, works and the act of a paid request posting a one-off charge.

Registry of `billing_tenant`: one house (id 1, street 1), accounts 1–3.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from aquabill.contact_center.requests.flow import process_timers
from aquabill.contact_center.requests.sla import WORKING_HOURS
from aquabill.contact_center.requests.store import Outbox
from aquabill.contact_center.work_calendar import working_hours
from tests.integration.billing_core.api_helpers import Api
from tests.integration.billing_core.conftest import billing_tenant, tx  # noqa: F401


async def user(client, api: Api, handle, login: str, name: str) -> tuple[int, Api]:
    made = await api.ok("post", "/api/users", {"login": login, "password": "executor-pass-1", "full_name": name,
                                                 "roles": ["operator"]})
    r = await client.post("/api/auth/login", json={"tenant": handle.tenant.slug, "login": login,
                                                   "password": "executor-pass-1"})
    assert r.status_code == 200, r.text
    return made["id"], Api(client, {"Authorization": f"Bearer {r.json()['token']}"})


@pytest.fixture
async def setup(client, billing_tenant):  # noqa: F811
    """Division «Аварийная служба» (head: Начальник; parent «Главный инженер» with its head); executors
    Иванов (house 1, cap 1) and Петров (anywhere, cap 2); route «Протечка»: phase 1 «Выезд» 60 min, reaction
    15 min, division, needs «Фото»; phase 2 «Ремонт» 120 min, nobody named (the executor carries on)."""
    api = Api(client, billing_tenant.headers)
    ids, apis = {}, {}
    for login, name in (("ivanov", "Иванов"), ("petrov", "Петров"), ("head", "Начальник"), ("chief", "Главный")):
        ids[login], apis[login] = await user(client, api, billing_tenant, login, name)
    top = await api.ok("post", "/api/divisions", {"code": "chief", "name": "Главный инженер",
                                                          "head_user_id": ids["chief"]})
    div = await api.ok("post", "/api/divisions", {"code": "avar", "name": "Аварийная служба",
                                                          "head_user_id": ids["head"], "parent_id": top["id"]})
    await api.ok("post", "/api/executors", {"user_id": ids["ivanov"], "division_id": div["id"], "cap": 1,
                                            "house_ids": [1]})
    await api.ok("post", "/api/executors", {"user_id": ids["petrov"], "division_id": div["id"], "cap": 2})
    route = await api.ok("post", "/api/request-routes", {"code": "leak", "name": "Протечка", "kind": "emergency", "phases": [
        {"name": "Выезд", "time_limit_minutes": 60, "reaction_minutes": 15, "division_id": div["id"],
         "required_documents": ["Фото"]},
        {"name": "Ремонт", "time_limit_minutes": 120}]})
    assert [p["ordinal"] for p in route["phases"]] == [1, 2]
    return {"api": api, "ids": ids, "apis": apis, "division": div, "route": route}


def at(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


async def timers(tx, now: datetime) -> list[tuple[str, dict]]:  # noqa: F811
    out = Outbox()
    async with tx() as conn:
        await process_timers(conn, now, out)
    return out.events


async def test_auto_assignment_by_territory_and_cap_then_reassignment_on_silence(setup, tx):  # noqa: F811
    api, ids, route = setup["api"], setup["ids"], setup["route"]
    first = await api.ok("post", "/api/requests", {"kind": "emergency", "appeal_id": 77, "account_id": 1,
                                                    "route_id": route["id"]})
    assert first["number"].startswith("З-") and first["appeal_id"] == 77
    assert first["description"] == "По обращению № 77" and first["house_id"] == 1
    assert (first["status"], first["assignee_user_id"], first["phase_name"]) == ("assigned", ids["ivanov"], "Выезд")
    started = at(first["phase_started_at"])
    assert at(first["phase_deadline"]) == started + timedelta(minutes=60)
    assert at(first["reaction_deadline"]) == started + timedelta(minutes=15)
    assert 3500 < first["sla_remaining_seconds"] <= 3600 and first["overdue"] is False
    assert [e["kind"] for e in first["events"]] == ["created", "phase", "assigned"]

    # Иванов is at his cap (1): the next request of the same house goes to Петров
    second = await api.ok("post", "/api/requests", {"kind": "emergency", "house_id": 1, "route_id": route["id"],
                                                     "description": "Течь в подвале"})
    assert second["assignee_user_id"] == ids["petrov"]
    await setup["apis"]["petrov"].ok("post", f"/api/requests/{second['id']}/accept", status=200)

    # Иванов does not accept within 15 minutes: reassigned to Петров (load 1 of 2)
    events = await timers(tx, started + timedelta(minutes=16))
    card = await api.ok("get", f"/api/requests/{first['id']}")
    assert (card["assignee_user_id"], card["status"]) == (ids["petrov"], "assigned")
    assert card["events"][-1]["kind"] == "reassigned" and card["events"][-1]["to_user_id"] == ids["petrov"]
    assert ("request.assigned", ids["petrov"]) in [(t, d["assignee_user_id"]) for t, d in events]
    assigned = next(d for t, d in events if t == "request.assigned" and d["id"] == first["id"])
    assert assigned["previous_assignee_user_id"] == ids["ivanov"] and assigned["number"] == first["number"]
    assert at(assigned["deadline"]) == at(first["phase_deadline"]) and assigned["phase"] == "Выезд"

    # Петров is silent too: nobody else left (Иванов was tried) — he keeps it, the reaction timer stops
    await timers(tx, started + timedelta(minutes=40))
    card = await api.ok("get", f"/api/requests/{first['id']}")
    assert card["assignee_user_id"] == ids["petrov"] and card["reaction_deadline"] is None
    assert card["events"][-1]["kind"] == "no_reaction"

    # only the assignee may accept
    r = await setup["apis"]["ivanov"].post(f"/api/requests/{first['id']}/accept")
    assert r.status_code == 409 and "назначенный исполнитель" in r.json()["error"]["message"]
    accepted = await setup["apis"]["petrov"].ok("post", f"/api/requests/{first['id']}/accept", status=200)
    assert accepted["status"] == "in_work" and accepted["accepted_at"]

    mine = await setup["apis"]["petrov"].ok("get", "/api/requests/my")
    assert {i["id"] for i in mine["items"]} == {first["id"], second["id"]}


async def test_deadline_marks_overdue_and_escalates_up_the_divisions(setup, tx):  # noqa: F811
    api, ids, route = setup["api"], setup["ids"], setup["route"]
    req = await api.ok("post", "/api/requests", {"kind": "emergency", "house_id": 1, "route_id": route["id"],
                                                  "description": "Прорыв"})
    await setup["apis"]["ivanov"].ok("post", f"/api/requests/{req['id']}/accept", status=200)
    deadline = at(req["phase_deadline"])
    assert await timers(tx, deadline - timedelta(minutes=1)) == []

    events = await timers(tx, deadline + timedelta(minutes=1))
    assert [t for t, _ in events] == ["request.overdue", "request.escalated"]
    card = await api.ok("get", f"/api/requests/{req['id']}")
    assert card["overdue"] and card["escalation_level"] == 1 and card["escalated_to_user_id"] == ids["head"]
    assert card["sla_state"] == "overdue" and card["overdue_at"]
    assert [e["kind"] for e in card["events"][-2:]] == ["overdue", "escalated"]
    # nothing more within the next hour; after another full limit (60 min) the parent division's head
    assert await timers(tx, deadline + timedelta(minutes=30)) == []
    events = await timers(tx, deadline + timedelta(minutes=61))
    assert [(t, d["escalated_to_user_id"], d["escalation_level"]) for t, d in events] == [
        ("request.escalated", ids["chief"], 2)]
    # no third level exists: later passes change nothing
    assert await timers(tx, deadline + timedelta(minutes=200)) == []
    overdue = await api.ok("get", "/api/requests?overdue=true")
    assert [i["id"] for i in overdue["items"]] == [req["id"]] and overdue["items"][0]["overdue"]


async def test_required_documents_block_the_phase_then_the_executor_carries_on(setup):
    api, ids, route = setup["api"], setup["ids"], setup["route"]
    req = await api.ok("post", "/api/requests", {"kind": "emergency", "house_id": 1, "route_id": route["id"],
                                                  "description": "Нет воды"})
    r = await api.post(f"/api/requests/{req['id']}/advance")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "documents_missing"
    assert err["message"] == "Этап «Выезд» нельзя завершить: не приложены обязательные документы: «Фото»"
    assert req["required_documents"] == [{"name": "Фото", "attached": False}]
    doc = await api.ok("post", f"/api/requests/{req['id']}/documents",
                       {"name": "Фото", "file_name": "фото.jpg", "content_base64": "/9j/4AAQ"})
    r = await api.get(f"/api/request-documents/{doc['id']}")
    assert r.status_code == 200 and r.content == b"\xff\xd8\xff\xe0\x00\x10"
    card = await api.ok("post", f"/api/requests/{req['id']}/advance", status=200)
    assert (card["phase_name"], card["assignee_user_id"], card["status"]) == ("Ремонт", ids["ivanov"], "assigned")
    assert at(card["phase_deadline"]) == at(card["phase_started_at"]) + timedelta(minutes=120)
    done = await api.ok("post", f"/api/requests/{req['id']}/advance", status=200)
    assert done["status"] == "done" and done["sla_state"] == "none"
    closed = await api.ok("post", f"/api/requests/{req['id']}/close", {"note": "Устранено"}, status=200)
    assert closed["status"] == "closed" and closed["closed_at"]
    r = await api.post(f"/api/requests/{req['id']}/cancel", {"note": "поздно"})
    assert r.status_code == 409


async def test_paid_request_works_and_act_post_a_one_off_charge(setup, tx):  # noqa: F811
    """Labour 1 500.00 + materials 2 × 350.50 = 701.00 and 1.5 × 120.00 = 180.00: 2 381.00 charged to ЛС1."""
    api, ids = setup["api"], setup["ids"]
    req = await api.ok("post", "/api/requests", {"kind": "paid", "account_id": 1,
                                                  "description": "Замена счётчика"})
    # the seeded paid route names no executor: the request waits for a manual assignment
    assert (req["status"], req["route_name"], req["assignee_user_id"]) == ("new", "Платная услуга", None)
    assert req["events"][-1]["kind"] == "unassigned"
    await api.ok("post", f"/api/requests/{req['id']}/assign", {"user_id": ids["petrov"]}, status=200)
    await setup["apis"]["petrov"].ok("post", f"/api/requests/{req['id']}/accept", status=200)
    r = await api.post(f"/api/requests/{req['id']}/act")
    assert r.status_code == 409 and "ещё не выполнена" in r.json()["error"]["message"]
    work = await api.ok("post", f"/api/requests/{req['id']}/works", {
        "description": "Замена счётчика ХВС", "labour_hours": "2", "labour_cost": "1500.00",
        "materials": [{"name": "Счётчик", "quantity": "2", "price": "350.50"},
                      {"name": "Прокладка", "quantity": "1.5", "price": "120.00", "unit": "компл."}]})
    assert D(work["materials_cost"]) == D("881.00") and D(work["total"]) == D("2381.00")
    await api.ok("post", f"/api/requests/{req['id']}/documents", {"name": "Акт выполненных работ",
                                                                 "note": "на бумаге"})
    await api.ok("post", f"/api/requests/{req['id']}/advance", status=200)
    r = await api.post(f"/api/requests/{req['id']}/close")
    assert r.status_code == 409 and "после акта" in r.json()["error"]["message"]

    r = await api.post(f"/api/requests/{req['id']}/act")
    assert r.status_code == 409 and "Нет открытого расчётного периода" in r.json()["error"]["message"]
    async with tx() as conn:
        await conn.execute(text("INSERT INTO periods(period, status) VALUES ('2026-10-01', 'closed'), "
                                "('2026-11-01', 'open')"))
    r = await api.post(f"/api/requests/{req['id']}/act", {"period": "2026-10"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "period_closed"
    act = await api.ok("post", f"/api/requests/{req['id']}/act", {"act_date": "2026-11-20"})
    assert act["number"].startswith("А-") and D(act["amount"]) == D("2381.00") and act["period"] == "2026-11"
    r = await api.post(f"/api/requests/{req['id']}/act")
    assert r.status_code == 409 and "уже оформлен" in r.json()["error"]["message"]

    charges = await api.ok("get", "/api/billing/charges?period=2026-11&account_id=1")
    rows = [c for c in charges["items"] if c["method"] == "one_off"]
    assert len(rows) == 1 and D(rows[0]["amount"]) == D("2381.00") and act["number"] in rows[0]["note"]
    balance = await api.ok("get", "/api/accounts/1/balance")
    assert D(balance["debt"]) == D("2381.00")
    closed = await api.ok("post", f"/api/requests/{req['id']}/close", status=200)
    assert closed["status"] == "closed" and closed["act"]["one_off_id"] == act["one_off_id"]
    r = await api.post(f"/api/requests/{req['id']}/works", {"description": "ещё"})
    assert r.status_code == 409


async def test_validation_and_permissions(setup, client, billing_tenant):  # noqa: F811
    api = setup["api"]
    r = await api.post("/api/requests", {"kind": "emergency"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "description"
    r = await api.post("/api/requests", {"kind": "planned", "description": "x"})
    assert r.status_code == 422 and "адрес" in r.json()["error"]["message"]
    r = await api.post("/api/requests", {"kind": "planned", "description": "x", "account_id": 999})
    assert r.status_code == 404
    r = await api.post("/api/requests", {"kind": "paid", "description": "x", "house_id": 1,
                                         "route_id": setup["route"]["id"]})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "route_id"
    r = await api.post("/api/divisions", {"code": "avar", "name": "Дубль"})
    assert r.status_code == 409
    # an operator works on requests but does not configure routes
    operator = setup["apis"]["ivanov"]
    assert (await operator.post("/api/request-routes", {"code": "x", "name": "X", "kind": "paid"})).status_code == 403
    made = await operator.ok("post", "/api/requests", {"kind": "planned", "description": "Опломбировка",
                                                        "address_text": "ул. Речная, 1"})
    assert made["status"] == "new"  # the seeded planned route names no executor
    listed = await operator.ok("get", "/api/requests?kind=planned&status=new")
    assert [i["id"] for i in listed["items"]] == [made["id"]] and listed["total"] == 1


async def test_pages_render(setup, client, billing_tenant):  # noqa: F811
    from tests.integration.billing_core.api_helpers import login_cookie

    req = await setup["api"].ok("post", "/api/requests", {"kind": "emergency", "house_id": 1,
                                                           "route_id": setup["route"]["id"], "description": "Течь"})
    await login_cookie(client, billing_tenant)
    r = await client.get("/requests")
    assert r.status_code == 200 and req["number"] in r.text and "Заявки" in r.text
    r = await client.get("/requests?overdue=true")
    assert r.status_code == 200 and req["number"] not in r.text
    r = await client.get(f"/requests/{req['id']}")
    assert r.status_code == 200 and "Выезд" in r.text and "Фото" in r.text and "Иванов" in r.text
    assert (await client.get("/requests/999999")).status_code == 404


async def test_house_division_is_used_when_the_phase_names_none_and_working_time_deadline(setup, tx):  # noqa: F811
    """House 1 belongs to division «Северный участок» (t0007's houses.division_id); a route whose phase names
    no executor and no division assigns among that division's executors; its deadline counts working time."""
    from aquabill.contact_center.requests.sla import phase_deadline

    api, ids = setup["api"], setup["ids"]
    north = await api.ok("post", "/api/divisions", {"code": "north", "name": "Северный участок"})
    async with tx() as conn:
        await conn.execute(text("UPDATE houses SET division_id = :d WHERE id = 1"), {"d": north["id"]})
    await api.ok("post", "/api/executors", {"user_id": ids["head"], "division_id": north["id"], "cap": 3})
    route = await api.ok("post", "/api/request-routes", {"code": "meter", "name": "Поверка", "kind": "planned",
                                                          "phases": [{"name": "Выезд", "time_limit_minutes": 600,
                                                                      "working_time": True}]})
    req = await api.ok("post", "/api/requests", {"kind": "planned", "account_id": 2, "route_id": route["id"],
                                                  "description": "Поверка счётчика"})
    assert (req["assignee_user_id"], req["division_id"]) == (ids["head"], north["id"])
    started = at(req["phase_started_at"])
    async with tx() as conn:  # the tenant's working calendar (holidays) counts too
        hours = await working_hours(conn, started.astimezone(WORKING_HOURS.zone).date())
    assert at(req["phase_deadline"]) == phase_deadline(started, 600, working_time=True, hours=hours)
    assert at(req["phase_deadline"]) - started >= timedelta(hours=10)  # 10 working hours span two days at least
