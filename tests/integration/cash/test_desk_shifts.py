"""Shifts at the cash desk: open (opening until the register answers, then open with its number; a failure frees
the point), one shift per point, the X report, close refused while a receipt is printing, the Z report closing it
with the automatic cash order of its net cash, the shifts' totals; permissions and tenant isolation of the API."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

from tests.integration.billing_core.api_helpers import as_role
from tests.integration.cash.desk_support import FN, fiscal, seed


async def test_open_fails_then_opens_and_one_shift_per_point(desk, cashier, client, tenant):
    shift = await cashier.ok("post", "/api/cash/shifts", {"point_id": 1})
    assert (shift["status"], shift["cashier_name"], shift["agent_id"]) == ("opening", "Иванова А. П.", 1)
    command = await desk.last_command("open_shift")
    assert command["payload"] == {"cashier": {"name": "Иванова А. П.", "inn": ""}, "shift_id": shift["id"]}
    # the same cashier again: the same shift; another user: refused
    assert (await cashier.ok("post", "/api/cash/shifts", {"point_id": 1}))["id"] == shift["id"]
    r = await client.post("/api/cash/shifts", json={"point_id": 1}, headers=tenant.headers)
    assert r.status_code == 409 and "уже открыта смена кассира Иванова А. П." in r.json()["error"]["message"]
    events = await desk.result(command["id"], ok=False, error={"code": "register_error",
                                                               "message": "ФН не зарегистрирован"})
    assert events == [("cash.shift", {"shift_id": shift["id"], "status": "failed",
                                      "error": "Ошибка кассы: ФН не зарегистрирован"})]
    assert (await cashier.ok("get", f"/api/cash/shifts/{shift['id']}"))["status"] == "failed"
    # the point is free again
    second = await cashier.ok("post", "/api/cash/shifts", {"point_id": 1})
    assert second["id"] != shift["id"]
    command = await desk.last_command("open_shift")
    events = await desk.result(command["id"], result={"shift_number": 42, "fd_number": 900, "fiscal_sign": 1,
                                                      "fiscal_at": "2026-12-07T08:00:00+03:00", "fn_number": FN})
    assert events == [("cash.shift", {"shift_id": second["id"], "status": "open"})]
    opened = await cashier.ok("get", f"/api/cash/shifts/{second['id']}")
    assert (opened["status"], opened["shift_number"], opened["opened_doc"]["fd_number"]) == ("open", 42, 900)
    assert await desk.apply_again(command["id"], result={"shift_number": 42}) == []


async def test_close_is_refused_while_printing_then_books_the_cash(desk, cashier):
    shift = await desk.open_shift(cashier, number=7)
    sales = []
    for amount, tender in (("500.00", "cash"), ("200.00", "card"), ("100.00", "cash")):
        sales.append((await cashier.post("/api/cash/sales", {"key": str(uuid.uuid4()), "point_id": 1,
                                                             "account_id": 1, "tender": tender,
                                                             "amount": amount})).json())
    r = await cashier.post(f"/api/cash/shifts/{shift['id']}/close")
    assert r.status_code == 409
    assert r.json()["error"]["message"] == "Смену нельзя закрыть: 3 чек(ов) ещё печатается. Дождитесь ответа кассы"
    for s in sales:
        await desk.result(s["command_id"], result=fiscal(card={"rrn": "1"} if s["tender"] == "card" else None))
    refund = (await cashier.post(f"/api/cash/receipts/{sales[2]['id']}/refund",
                                 {"key": str(uuid.uuid4()), "point_id": 1})).json()
    await desk.result(refund["command_id"], result=fiscal())
    x = await cashier.ok("post", f"/api/cash/shifts/{shift['id']}/x-report", status=202)
    events = await desk.result(x["command_id"], result={"printed": True})
    assert events == [("cash.shift", {"shift_id": shift["id"], "status": "open", "x_report": True, "error": None})]

    closing = await cashier.ok("post", f"/api/cash/shifts/{shift['id']}/close", status=202)
    assert closing["status"] == "closing"
    r = await cashier.post("/api/cash/sales", {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1,
                                               "amount": "1"})
    assert r.status_code == 422 and r.json()["error"]["message"] == "Смена закрывается: оплата не принимается"
    command = await desk.last_command("close_shift")
    events = await desk.result(command["id"], result={"shift_number": 7, "fd_number": 950, "fiscal_sign": 5,
                                                      "fiscal_at": "2026-12-07T20:00:00+03:00", "fn_number": FN})
    order_id = events[0][1]["order_id"]
    assert events == [("cash.shift", {"shift_id": shift["id"], "status": "closed", "order_id": order_id})]
    closed = await cashier.ok("get", f"/api/cash/shifts/{shift['id']}")
    assert (closed["status"], closed["closed_doc"]["fd_number"]) == ("closed", 950)
    t = closed["totals"]
    assert (t["cash_in"], t["card_in"], t["cash_refunds"], t["net_cash"], t["count"]) == (
        "600.00", "200.00", "100.00", "500.00", 4)
    orders = await desk.rows("SELECT kind, number, ordered_on::text, amount, basis, person, shift_id FROM cash_orders")
    assert orders == [("in", 1, "2026-12-07", D("500.00"), "Выручка по кассе за смену № 7", "Иванова А. П.",
                       shift["id"])]
    assert await desk.apply_again(command["id"], result={"shift_number": 7}) == []
    assert await desk.value("SELECT count(*) FROM cash_orders") == 1
    listed = await cashier.ok("get", "/api/cash/shifts?point_id=1")
    assert listed["total"] == 1 and listed["items"][0]["totals"]["net_cash"] == "500.00"
    r = await cashier.post(f"/api/cash/shifts/{shift['id']}/close")
    assert r.status_code == 409 and r.json()["error"]["message"] == "Смена уже закрыта"


async def test_a_failed_close_leaves_the_shift_open(desk, cashier):
    shift = await desk.open_shift(cashier)
    x = await cashier.ok("post", f"/api/cash/shifts/{shift['id']}/x-report", status=202)
    await desk.result(x["command_id"], ok=False, error={"code": "register_error", "message": "Нет бумаги"})
    assert (await cashier.ok("get", f"/api/cash/shifts/{shift['id']}"))["error"] == "Ошибка кассы: Нет бумаги"
    await cashier.ok("post", f"/api/cash/shifts/{shift['id']}/close", status=202)
    command = await desk.last_command("close_shift")
    events = await desk.result(command["id"], ok=False, error={"code": "no_register", "message": "Нет связи"})
    assert events[0][1]["status"] == "open"
    reopened = await cashier.ok("get", f"/api/cash/shifts/{shift['id']}")
    assert (reopened["status"], reopened["error"]) == (
        "open", "Касса не отвечает (нет связи с фискальным регистратором): Нет связи")


async def test_permissions_and_tenant_isolation(desk, cashier, client, tenant, make_tenant):
    await desk.open_shift(cashier)
    sale = (await cashier.post("/api/cash/sales", {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1,
                                                   "amount": "10.00"})).json()
    viewer = await as_role(client, tenant, "operator")  # no "cash" permission
    for method, url, body in (("get", f"/api/cash/receipts/{sale['id']}", None),
                              ("get", "/api/cash/desk?point_id=1", None),
                              ("post", "/api/cash/sales", {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1,
                                                           "amount": "1.00"}),
                              ("post", "/api/cash/shifts", {"point_id": 1})):
        r = await (viewer.get(url) if method == "get" else viewer.post(url, body))
        assert r.status_code == 403, (url, r.text)
    r = await client.get("/cash", headers=viewer.headers)
    assert r.status_code == 403
    # the cashier may not change the services (admin)
    r = await cashier.post("/api/cash/services", {"code": "x", "name": "X", "supplier_name": "Y",
                                                  "supplier_inn": "7707083893"})
    assert r.status_code == 403
    # another tenant's admin: this tenant's receipt, shift and the desk's actions are 404 there
    other = await make_tenant(seed=seed)
    for url in (f"/api/cash/receipts/{sale['id'] + 1000}", f"/api/cash/shifts/{sale['shift_id'] + 1000}"):
        r = await client.get(url, headers=other.headers)
        assert r.status_code == 404, (url, r.text)
    r = await client.get(f"/api/cash/receipts/{sale['id']}", headers=other.headers)
    assert r.status_code == 404  # the other tenant has no receipts at all
    r = await client.post(f"/api/cash/receipts/{sale['id']}/cancel", headers=other.headers)
    assert r.status_code == 404
    assert (await cashier.ok("get", f"/api/cash/receipts/{sale['id']}"))["status"] == "printing"
