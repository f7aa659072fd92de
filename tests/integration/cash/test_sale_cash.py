"""Sales at the cash desk against real PostgreSQL, the agent's side played by hand (desk_support.Desk): a cash sale
makes the billing payment at once and the balance changes; the same key is one sale; the register's result gives
the payment its fiscal proof and applying it twice changes nothing; chosen lines make one payment per line; a
failed receipt is retried under the same receipt key or cancelled (its payment stornoed); a cashier without an
open shift is refused with a clear message; third parties' services take a commission and make no payment."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

from tests.integration.cash.desk_support import FN, Desk, fiscal


def sale_body(**kw) -> dict:
    return {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1, "tender": "cash", **kw}


async def test_cash_sale_pays_at_once_and_the_same_key_is_one_sale(desk, cashier):
    await desk.open_shift(cashier)
    assert await desk.balance() == D("825.00")  # 300 + 200 + 310 + 15 penalties
    body = sale_body(amount="825.00", given="1000.00", buyer_contact="8 (916) 123-45-67")
    r = await cashier.post("/api/cash/sales", body)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert (receipt["status"], receipt["total"], receipt["given"], receipt["change"]) == (
        "printing", "825.00", "1000.00", "175.00")
    assert await desk.balance() == D("0.00")  # the payment is there at once
    payments = await desk.rows("SELECT id, amount, source, status, account_id FROM payments")
    assert [(p[1], p[2], p[3], p[4]) for p in payments] == [(D("825.00"), "cash", "identified", 1)]
    assert receipt["payment_id"] == payments[0][0]

    command = await desk.command(receipt["command_id"])
    assert (command["kind"], command["key"], command["agent_id"]) == ("receipt", body["key"], 1)
    payload = command["payload"]
    assert payload["key"] == body["key"] and payload["operation"] == 1 and payload["tax_system"] == 1
    assert payload["cashier"] == {"name": "Иванова А. П.", "inn": ""}
    assert payload["buyer_contact"] == "+79161234567"
    assert payload["payments"] == {"cash": "1000.00", "electronic": "0.00"} and payload["card"] is None
    assert [(i["name"], i["amount"], i["vat"], i["subject"]) for i in payload["items"]] == [
        ("Холодное водоснабжение, 10.2026, л/с 00100127", "300.00", 11, 4),
        ("Водоотведение, 10.2026, л/с 00100127", "200.00", 11, 4),
        ("Холодное водоснабжение, 11.2026, л/с 00100127", "310.00", 11, 4),
        ("Пени за несвоевременную оплату, л/с 00100127", "15.00", 6, 13)]
    assert set(payload["items"][0]) == {"name", "price", "quantity", "amount", "vat", "subject", "method",
                                        "measure", "agent"}

    again = await cashier.post("/api/cash/sales", {**body, "amount": "1.00"})  # the key decides, not the body
    assert again.status_code == 200 and again.json()["id"] == receipt["id"]
    assert await desk.value("SELECT count(*) FROM payments") == 1
    assert await desk.value("SELECT count(*) FROM cash_receipts") == 1
    assert await desk.value("SELECT count(*) FROM edge_commands WHERE kind = 'receipt'") == 1


async def test_the_result_gives_the_payment_its_fiscal_proof_once(desk, cashier):
    await desk.open_shift(cashier)
    receipt = (await cashier.post("/api/cash/sales", sale_body(amount="500.00"))).json()
    result = fiscal(fd_number=4242, fiscal_sign=987654321)
    events = await desk.result(receipt["command_id"], result=result)
    assert events == [("cash.receipt", {"receipt_id": receipt["id"], "shift_id": receipt["shift_id"],
                                        "status": "done"})]
    done = await cashier.ok("get", f"/api/cash/receipts/{receipt['id']}")
    assert (done["status"], done["fn_number"], done["fd_number"], done["fiscal_sign"]) == (
        "done", FN, 4242, 987654321)
    proof = await desk.rows("SELECT payment_id, operation, source, cash_receipt_id, fn_number, fd_number, "
                            "fiscal_sign, amount FROM payment_fiscal")
    assert proof == [(receipt["payment_id"], "sale", "register", receipt["id"], FN, 4242, 987654321, D("500.00"))]
    # the same result again: the gateway sees a duplicate, and the outcome applied again changes nothing
    assert await desk.result(receipt["command_id"], result=result) is None
    assert await desk.apply_again(receipt["command_id"], result=result) == []
    assert await desk.value("SELECT count(*) FROM payment_fiscal") == 1
    assert await desk.value("SELECT count(*) FROM payments") == 1
    # the payment's API shows the proof
    payment = await cashier.client.get(f"/api/payments/{receipt['payment_id']}", headers=desk_admin(desk))
    assert payment.status_code == 200
    assert payment.json()["fiscal"][0]["fiscal_sign"] == 987654321


def desk_admin(desk: Desk) -> dict:
    return desk.handle.headers


async def test_chosen_lines_make_one_payment_per_line(desk, cashier):
    await desk.open_shift(cashier)
    r = await cashier.post("/api/cash/sales", sale_body(lines=["2026-11:" + str(await cold_water(desk)), "penalty"],
                                                        given="400"))
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert (receipt["total"], receipt["change"]) == ("325.00", "75.00")
    rows = await desk.rows("SELECT amount, period, service_id IS NOT NULL, penalty FROM payments ORDER BY id")
    assert [(a, str(p) if p else None, s, pen) for a, p, s, pen in rows] == [
        (D("310.00"), "2026-11-01", True, None), (D("15.00"), None, False, D("15.00"))]
    # the lines named: November's cold water and the penalties are paid, October's debts are not
    assert await desk.balance() == D("500.00")
    await desk.result(receipt["command_id"], result=fiscal(fd_number=5001))
    assert await desk.value("SELECT count(*) FROM payment_fiscal WHERE fd_number = 5001") == 2


async def cold_water(desk: Desk) -> int:
    return await desk.value("SELECT id FROM services WHERE code = 'cold_water'")


async def test_a_failed_receipt_is_retried_with_the_same_key_or_cancelled(desk, cashier):
    await desk.open_shift(cashier)
    first = (await cashier.post("/api/cash/sales", sale_body(amount="100.00"))).json()
    events = await desk.result(first["command_id"], ok=False,
                               error={"code": "register_error", "message": "Нет бумаги", "retryable": False})
    assert events == [("cash.receipt", {"receipt_id": first["id"], "shift_id": first["shift_id"], "status": "failed"})]
    failed = await cashier.ok("get", f"/api/cash/receipts/{first['id']}")
    assert (failed["status"], failed["error"]) == ("failed", "Ошибка кассы: Нет бумаги")
    # closing the shift is refused while a receipt has failed and is neither retried nor cancelled
    r = await cashier.post(f"/api/cash/shifts/{first['shift_id']}/close")
    assert r.status_code == 409 and "с ошибкой" in r.json()["error"]["message"]

    retried = await cashier.ok("post", f"/api/cash/receipts/{first['id']}/retry", status=200)
    assert retried["status"] == "printing" and retried["command_id"] != first["command_id"]
    command = await desk.command(retried["command_id"])
    assert command["payload"]["key"] == first["key"] and command["key"] != first["key"]
    # a late failure of the first command changes nothing now
    assert await desk.apply_again(first["command_id"], ok=False, error={"code": "no_register"}) == []
    await desk.result(retried["command_id"], result=fiscal())
    assert (await cashier.ok("get", f"/api/cash/receipts/{first['id']}"))["status"] == "done"
    assert await desk.value("SELECT count(*) FROM payments") == 1

    second = (await cashier.post("/api/cash/sales", sale_body(amount="50.00"))).json()
    await desk.result(second["command_id"], ok=False, error={"code": "no_register", "message": "Порт закрыт"})
    assert await desk.balance() == D("675.00")  # 825 − 100 − 50: the cash payment stands until cancelled
    cancelled = await cashier.ok("post", f"/api/cash/receipts/{second['id']}/cancel", status=200)
    assert cancelled["status"] == "cancelled"
    assert await desk.rows("SELECT amount, status FROM payments ORDER BY id") == [
        (D("100.00"), "identified"), (D("50.00"), "storno")]
    assert await desk.balance() == D("725.00")
    r = await cashier.post(f"/api/cash/receipts/{second['id']}/retry")
    assert r.status_code == 409


async def test_no_open_shift_is_refused_clearly(desk, cashier, client, tenant):
    r = await cashier.post("/api/cash/sales", sale_body(amount="100.00"))
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "Смена не открыта: нажмите «Открыть смену», чтобы принимать оплату"
    assert await desk.value("SELECT count(*) FROM payments") == 0
    await cashier.ok("post", "/api/cash/shifts", {"point_id": 1})  # opening: the register has not answered
    r = await cashier.post("/api/cash/sales", sale_body(amount="100.00"))
    assert r.status_code == 422 and r.json()["error"]["message"] == "Смена ещё открывается: дождитесь ответа кассы"
    command = await desk.last_command("open_shift")
    await desk.result(command["id"], result={"shift_number": 3, "fd_number": 1, "fiscal_sign": 1,
                                             "fiscal_at": "2026-12-07T08:00:00+03:00", "fn_number": FN})
    # the admin is another cashier: the shift at this point is not theirs
    admin = desk.handle.headers
    r = await client.post("/api/cash/sales", json=sale_body(amount="100.00"), headers=admin)
    assert r.status_code == 422 and "открыта другим кассиром (Иванова А. П.)" in r.json()["error"]["message"]
    # a closed account, a bad sum, too little cash
    for body, message in ((sale_body(account_id=3, amount="10"), "Лицевой счёт 00100129 закрыт"),
                          (sale_body(amount="10.001"), "с точностью до копеек"),
                          (sale_body(amount="100", given="99.99"), "меньше суммы чека"),
                          (sale_body(lines=["2026-09:1"]), "уже оплачена или не найдена"),
                          (sale_body(amount="10", key="not-a-uuid"), "ожидается UUID")):
        r = await cashier.post("/api/cash/sales", body)
        assert r.status_code == 422 and message in r.json()["error"]["message"], r.text
    assert await desk.value("SELECT count(*) FROM cash_receipts") == 0


async def test_an_advance_beyond_the_debts(desk, cashier):
    await desk.open_shift(cashier)
    r = await cashier.post("/api/cash/sales", sale_body(account_id=2, amount="1000.00"))
    assert r.status_code == 201, r.text
    items = (await desk.command(r.json()["command_id"]))["payload"]["items"]
    assert [(i["name"], i["amount"], i["vat"], i["method"]) for i in items] == [
        ("Аванс за коммунальные услуги, л/с 00100128", "1000.00", 12, 1)]
    assert await desk.balance(2) == D("0.00")
    assert await desk.value("SELECT sum(amount) FROM payment_allocations WHERE account_id = 2 AND kind = 'advance'") \
        == D("1000.00")


async def test_third_party_service_takes_a_commission_and_makes_no_payment(desk, cashier):
    shift = await desk.open_shift(cashier)
    r = await cashier.post("/api/cash/service-sales", {"key": str(uuid.uuid4()), "point_id": 1, "service_id": 1,
                                                       "amount": "1234.50", "details": "л/с ТКО 55-17",
                                                       "given": "1300"})
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert (receipt["total"], receipt["commission"], receipt["change"]) == ("1246.85", "12.35", "53.15")
    items = (await desk.command(receipt["command_id"]))["payload"]["items"]
    assert [(i["name"], i["amount"], i["subject"], i["vat"]) for i in items] == [
        ("Вывоз ТКО, л/с ТКО 55-17", "1234.50", 10, 6),
        ("Комиссия за приём платежа: Вывоз ТКО", "12.35", 11, 11)]
    assert items[0]["agent"] == {"sign": 4, "supplier": {"name": "ООО «ЭкоСервис»", "inn": "7707083893",
                                                         "phones": ["+78001234567"]}}
    small = (await cashier.post("/api/cash/service-sales", {"key": str(uuid.uuid4()), "point_id": 1, "service_id": 1,
                                                            "amount": "100", "tender": "card"})).json()
    assert (small["total"], small["commission"]) == ("110.00", "10.00")  # the minimum
    free = (await cashier.post("/api/cash/service-sales", {"key": str(uuid.uuid4()), "point_id": 1, "service_id": 2,
                                                           "amount": "250"})).json()
    assert (free["total"], free["commission"]) == ("250.00", "0.00")
    for made in (receipt, small, free):
        await desk.result(made["command_id"], result=fiscal(card={"rrn": "1", "auth_code": "A", "card_mask": "**** 1",
                                                                  "terminal_id": "T1"} if made is small else None))
    assert await desk.value("SELECT count(*) FROM payments") == 0
    assert await desk.value("SELECT count(*) FROM payment_fiscal") == 0
    totals = (await cashier.ok("get", f"/api/cash/shifts/{shift['id']}"))["totals"]
    assert (totals["cash_in"], totals["card_in"], totals["third_party"], totals["commission"], totals["count"]) == (
        "1496.85", "110.00", "1584.50", "22.35", 3)
