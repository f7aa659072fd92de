"""The cash book (КО-4) and cash orders: the shift's ПКО at close, РКО written by hand, numbers per year and kind,
each day's opening + in − out = closing carried to the next day, an РКО beyond the cash on hand refused, the
cash limit; the printable page."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

from tests.integration.cash.desk_support import FN, Desk, cashier_cookie, fiscal


async def close_with_cash(desk: Desk, cashier, amount: str) -> None:
    shift = await desk.open_shift(cashier, number=9)
    sale = (await cashier.post("/api/cash/sales", {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1,
                                                   "amount": amount})).json()
    await desk.result(sale["command_id"], result=fiscal())
    await cashier.ok("post", f"/api/cash/shifts/{shift['id']}/close", status=202)
    command = await desk.last_command("close_shift")
    await desk.result(command["id"], result={"shift_number": 9, "fd_number": 99, "fiscal_sign": 1,
                                             "fiscal_at": "2026-12-07T19:30:00+03:00", "fn_number": FN})


def sheet_figures(sheet: dict) -> tuple:
    return (sheet["opening"], sheet["received"], sheet["paid_out"], sheet["closing"],
            [(o["kind"], o["number"], o["amount"]) for o in sheet["orders"]])


async def test_the_book_balances_from_day_to_day(desk, cashier, client, tenant):
    await close_with_cash(desk, cashier, "500.00")
    r = await cashier.post("/api/cash/orders", {"kind": "out", "point_id": 1, "day": "2026-12-07", "amount": "400.00",
                                                "basis": "Сдача выручки в банк", "person": "ПАО Сбербанк"})
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["number"], r.json()["year"]) == ("out", 1, 2026)
    day1 = await cashier.ok("get", "/api/cash/book?point_id=1&day=2026-12-07")
    assert sheet_figures(day1) == ("0.00", "500.00", "400.00", "100.00", [("in", 1, "500.00"), ("out", 1, "400.00")])
    # more than the cash on hand at the end of the day is refused
    r = await cashier.post("/api/cash/orders", {"kind": "out", "point_id": 1, "day": "2026-12-08", "amount": "100.01",
                                                "basis": "Инкассация"})
    assert r.status_code == 422 and r.json()["error"]["message"] == "В кассе на конец 08.12.2026 100,00\u00a0₽: выдать 100,01\u00a0₽ нельзя"
    await cashier.ok("post", "/api/cash/orders", {"kind": "in", "point_id": 1, "day": "2026-12-08", "amount": "60000",
                                                  "basis": "Внесение размена", "person": "Главный кассир"})
    await cashier.ok("post", "/api/cash/orders", {"kind": "out", "point_id": 1, "day": "2026-12-08",
                                                  "amount": "100.00", "basis": "Инкассация"})
    day2 = await cashier.ok("get", "/api/cash/book?point_id=1&day=2026-12-08")
    assert sheet_figures(day2) == ("100.00", "60000.00", "100.00", "60000.00",
                                   [("in", 2, "60000.00"), ("out", 2, "100.00")])
    assert day2["over_limit"] is True and day2["limit"] == "50000.00"
    # numbers start again with the year
    made = await cashier.ok("post", "/api/cash/orders", {"kind": "out", "point_id": 1, "day": "2027-01-11",
                                                         "amount": "10000", "basis": "Сдача выручки в банк"})
    assert (made["year"], made["number"]) == (2027, 1)
    assert sheet_figures(await cashier.ok("get", "/api/cash/book?point_id=1&day=2027-01-11"))[:4] == (
        "60000.00", "0.00", "10000.00", "50000.00")
    for body, message in (({"kind": "out", "point_id": 1, "day": "2026-12-08", "amount": "-5", "basis": "x"},
                           "больше нуля"),
                          ({"kind": "out", "point_id": 1, "day": "2026-12-08", "amount": "5", "basis": "  "},
                           "основание"),
                          ({"kind": "in", "point_id": 99, "day": "2026-12-08", "amount": "5", "basis": "x"},
                           "Касса не найдена")):
        r = await cashier.post("/api/cash/orders", body)
        assert r.status_code in (404, 422) and message in r.json()["error"]["message"], r.text

    await cashier_cookie(client, tenant)
    page = await client.get("/cash/book?point=1&day=2026-12-08")
    assert page.status_code == 200
    html = page.text
    assert "Касса за 08.12.2026" in html and "ПКО № 2" in html and "РКО № 2" in html
    assert 'id="book-opening">100,00<' in html and 'id="book-closing">60\u202f000,00<' in html
    assert "превышен" in html and "@media print" not in html and "/static/cash.css" in html
    # an order by the page's form
    r = await client.post("/cash/book/orders", data={"point_id": "1", "day": "2026-12-08", "kind": "out",
                                                      "amount": "59 000,00", "basis": "Сдача выручки в банк"},
                          follow_redirects=False)
    assert r.status_code == 303 and "day=2026-12-08" in r.headers["location"]
    assert (await cashier.ok("get", "/api/cash/book?point_id=1&day=2026-12-08"))["closing"] == "1000.00"
    r = await client.post("/cash/book/orders", data={"point_id": "1", "day": "2026-12-08", "kind": "out",
                                                      "amount": "5000", "basis": "Инкассация"})
    assert r.status_code == 200 and "выдать 5\u202f000,00\u00a0₽ нельзя" in r.text
    assert await desk.value("SELECT count(*) FROM cash_orders") == 6
    assert await desk.value("SELECT sum(CASE kind WHEN 'in' THEN amount ELSE -amount END) FROM cash_orders "
                            "WHERE ordered_on <= DATE '2026-12-31'") == D("1000.00")
