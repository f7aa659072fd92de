"""Refunds at the cash desk: the refund receipt (1054 = 2) of a printed sale, the same lines and tender; the sale's
payment is stornoed once the refund is printed; one refund per sale; a card refund names the sale's RRN; a refund
of a receipt not yet printed is refused; a failed refund, cancelled, lets the sale be refunded again."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

from tests.integration.cash.desk_support import Desk, fiscal


async def sold(desk: Desk, cashier, **kw) -> dict:
    body = {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1, "tender": "cash", "amount": "300.00", **kw}
    receipt = (await cashier.post("/api/cash/sales", body)).json()
    return receipt


async def test_refund_stornoes_the_payment_once_printed(desk, cashier):
    await desk.open_shift(cashier)
    sale = await sold(desk, cashier)
    key = str(uuid.uuid4())
    r = await cashier.post(f"/api/cash/receipts/{sale['id']}/refund", {"key": key, "point_id": 1})
    assert r.status_code == 409 and r.json()["error"]["message"] == "Вернуть можно только пробитый чек"
    await desk.result(sale["command_id"], result=fiscal(fd_number=10))
    assert await desk.balance() == D("525.00")

    r = await cashier.post(f"/api/cash/receipts/{sale['id']}/refund", {"key": key, "point_id": 1})
    assert r.status_code == 201, r.text
    refund = r.json()
    assert (refund["operation"], refund["refund_of"], refund["total"], refund["tender"]) == (
        "refund", sale["id"], "300.00", "cash")
    payload = (await desk.command(refund["command_id"]))["payload"]
    assert payload["operation"] == 2 and payload["key"] == key
    assert payload["items"] == (await desk.command(sale["command_id"]))["payload"]["items"]
    assert payload["payments"] == {"cash": "300.00", "electronic": "0.00"}
    # the same key again: the same refund; another key: refused, one refund per sale
    again = await cashier.post(f"/api/cash/receipts/{sale['id']}/refund", {"key": key, "point_id": 1})
    assert again.status_code == 200 and again.json()["id"] == refund["id"]
    other = await cashier.post(f"/api/cash/receipts/{sale['id']}/refund", {"key": str(uuid.uuid4()), "point_id": 1})
    assert other.status_code == 409
    assert other.json()["error"]["message"] == f"По этому чеку уже оформлен возврат (чек № {refund['id']})"
    # not stornoed until the register prints the refund
    assert await desk.rows("SELECT status FROM payments") == [("identified",)]
    await desk.result(refund["command_id"], result=fiscal(fd_number=11))
    assert await desk.rows("SELECT status FROM payments") == [("storno",)]
    assert await desk.balance() == D("825.00")
    assert await desk.rows("SELECT operation, fd_number FROM payment_fiscal ORDER BY id") == [
        ("sale", 10), ("refund", 11)]
    assert await desk.apply_again(refund["command_id"], result=fiscal(fd_number=11)) == []
    # a refund of a refund is refused
    r = await cashier.post(f"/api/cash/receipts/{refund['id']}/refund", {"key": str(uuid.uuid4()), "point_id": 1})
    assert r.status_code == 422


async def test_card_refund_names_the_rrn_and_a_cancelled_refund_frees_the_sale(desk, cashier):
    await desk.open_shift(cashier)
    sale = await sold(desk, cashier, tender="card", amount="120.00")
    await desk.result(sale["command_id"], result=fiscal(card={"rrn": "555000111222", "auth_code": "OK1",
                                                              "card_mask": "**** 1111", "terminal_id": "T1"}))
    first = (await cashier.post(f"/api/cash/receipts/{sale['id']}/refund",
                                {"key": str(uuid.uuid4()), "point_id": 1})).json()
    payload = (await desk.command(first["command_id"]))["payload"]
    assert payload["card"] == {"amount": "120.00", "operation": "refund", "original_rrn": "555000111222"}
    assert payload["payments"] == {"cash": "0.00", "electronic": "120.00"}
    await desk.result(first["command_id"], ok=False, error={"code": "card_declined", "message": "Терминал отказал"})
    await cashier.ok("post", f"/api/cash/receipts/{first['id']}/cancel", status=200)
    assert await desk.rows("SELECT status FROM payments") == [("identified",)]
    second = await cashier.post(f"/api/cash/receipts/{sale['id']}/refund", {"key": str(uuid.uuid4()), "point_id": 1})
    assert second.status_code == 201, second.text
    await desk.result(second.json()["command_id"], result=fiscal(card={"rrn": "555000111999"}))
    assert await desk.rows("SELECT status FROM payments") == [("storno",)]
