"""Card sales at the cash desk: no billing payment until the agent reports the card approved and the receipt
printed; then the payment is made with the approval kept on the receipt; a declined card fails the receipt with
the Russian message and makes no payment; the retry carries the same receipt key (the terminal charges once)."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

from tests.integration.cash.desk_support import fiscal

APPROVAL = {"rrn": "612345678901", "auth_code": "A1B2C3", "card_mask": "**** 4242", "terminal_id": "T-0001"}


async def test_card_sale_pays_only_after_the_approval(desk, cashier):
    await desk.open_shift(cashier)
    body = {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1, "tender": "card", "amount": "510.00",
            "given": "1000"}
    r = await cashier.post("/api/cash/sales", body)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert (receipt["status"], receipt["given"], receipt["change"], receipt["payment_id"]) == (
        "printing", None, "0.00", None)
    payload = (await desk.command(receipt["command_id"]))["payload"]
    assert payload["payments"] == {"cash": "0.00", "electronic": "510.00"}
    assert payload["card"] == {"amount": "510.00", "operation": "pay", "original_rrn": ""}
    assert await desk.value("SELECT count(*) FROM payments") == 0
    assert await desk.balance() == D("825.00")

    events = await desk.result(receipt["command_id"], result=fiscal(fd_number=777, card=APPROVAL,
                                                                    fiscal_at="2026-12-07T10:15:00+03:00"))
    assert events and events[0][1]["status"] == "done"
    done = await cashier.ok("get", f"/api/cash/receipts/{receipt['id']}")
    assert done["status"] == "done" and done["card"]["rrn"] == "612345678901"
    assert done["card"]["card_mask"] == "**** 4242"
    payments = await desk.rows("SELECT id, amount, source, paid_on::text FROM payments")
    assert [(p[1], p[2], p[3]) for p in payments] == [(D("510.00"), "cash", "2026-12-07")]  # the register's day
    assert done["payment_id"] == payments[0][0]
    assert await desk.balance() == D("315.00")
    assert await desk.rows("SELECT payment_id, fd_number FROM payment_fiscal") == [(payments[0][0], 777)]
    assert await desk.apply_again(receipt["command_id"], result=fiscal(fd_number=777, card=APPROVAL)) == []
    assert await desk.value("SELECT count(*) FROM payments") == 1


async def test_declined_card_fails_and_the_retry_keeps_the_key(desk, cashier):
    await desk.open_shift(cashier)
    receipt = (await cashier.post("/api/cash/sales", {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1,
                                                      "tender": "card", "amount": "100.00"})).json()
    await desk.result(receipt["command_id"], ok=False,
                      error={"code": "card_declined", "message": "Недостаточно средств", "retryable": False})
    failed = await cashier.ok("get", f"/api/cash/receipts/{receipt['id']}")
    assert (failed["status"], failed["error"]) == ("failed", "Оплата картой отклонена: Недостаточно средств")
    assert await desk.value("SELECT count(*) FROM payments") == 0
    retried = await cashier.ok("post", f"/api/cash/receipts/{receipt['id']}/retry", status=200)
    command = await desk.command(retried["command_id"])
    assert command["payload"]["key"] == receipt["key"] and command["payload"]["card"]["amount"] == "100.00"
    await desk.result(retried["command_id"], result=fiscal(card=APPROVAL))
    assert await desk.value("SELECT count(*) FROM payments WHERE status = 'identified'") == 1
    # a declined card given up: nothing to storno
    other = (await cashier.post("/api/cash/sales", {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1,
                                                    "tender": "card", "amount": "5.00"})).json()
    await desk.result(other["command_id"], ok=False, error={"code": "card_declined", "message": "Отказ"})
    assert (await cashier.ok("post", f"/api/cash/receipts/{other['id']}/cancel", status=200))["status"] == "cancelled"
    assert await desk.value("SELECT count(*) FROM payments") == 1
