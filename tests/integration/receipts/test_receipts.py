"""Receipts: the month's lines by service reconcile with charges and payments, penalties on their own line,
the sum to pay, the GOST R 56042 payment string and its QR on the printable page; the payee's requisites."""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.billing_core.payments.qr import parse_payment_string
from aquabill.billing_core.penalties.run import run_penalties
from aquabill.billing_core.periods import Period
from tests.integration.billing_core.api_helpers import Api
from tests.integration.penalties.test_penalty_run import charge, flat_6, pay

REQUISITES = {"name": "МУП «Водоканал»", "personal_acc": "40702810900000000001", "bank_name": "ПАО Сбербанк",
              "bic": "044525225", "corresp_acc": "30101810400000000225", "inn": "7707083893", "kpp": "773601001"}


async def _history(tx) -> str:
    """Account 1: December 2018 debt 3000 (cold water) + 1000 (sewage); the penalty run of March 2019 at a
    flat 6 % (days 31–80 of delay: 4000 × 6 × 50 / 30000 = 40.00); March: 10 m³ × 50.00 = 500.00 of cold
    water; a payment of 1000.00 on 20.03.2019 (after the run), allocated oldest month first."""
    async with tx() as conn:
        await flat_6(conn)
        await charge(conn, 1, date(2018, 12, 1), "3000.00")
        await charge(conn, 1, date(2018, 12, 1), "1000.00", service="sewage")
        result = await run_penalties(conn, Period(2019, 3))
        assert result.amount == "40.00"
        await conn.execute(text(
            "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount) "
            "SELECT 1, id, DATE '2019-03-01', 'norm', 10, 50, 500.00 FROM services WHERE code = 'cold_water'"))
        await pay(conn, 1, date(2019, 3, 20), "1000.00")
        return (await conn.execute(text("SELECT number FROM accounts WHERE id = 1"))).scalar_one()


async def test_receipt_reconciles_and_shows_penalties(client, penalty_tenant, tx):
    api = Api(client, penalty_tenant.headers)
    number = await _history(tx)
    r = await api.post("/api/payments/allocate", {"account_id": 1})
    assert r.status_code == 202, r.text

    r = await api.ok("get", "/api/accounts/1/receipt?period=2019-03")
    assert r["period"] == "2019-03" and r["account"]["number"] == number
    # totals by hand: opening 3000 + 1000; charged 500; paid 1000; closing 3500
    assert r["totals"] == {"opening": "4000.00", "charged": "500.00", "recalculated": "0.00", "paid": "1000.00",
                           "closing": "3500.00"}
    cold = next(x for x in r["lines"] if x["code"] == "cold_water")
    assert (cold["volume"], cold["tariff"], cold["charged"]) == ("10.000", "50.0000", "500.00")
    for line in r["lines"]:  # each line: closing = opening + charged + recalculated − paid
        assert D(line["closing"]) == D(line["opening"]) + D(line["charged"]) + D(line["recalculated"]) - D(line["paid"])
    assert r["penalty"] == {"opening": "0.00", "charged": "40.00", "storno": "0.00", "paid": "0.00",
                            "closing": "40.00"}
    assert r["due"] == "3540.00"  # 3500.00 + 40.00 of penalties
    assert r["qr"] is None and "реквизиты" in r["qr_problem"].lower()

    bad = await api.put("/api/receipts/requisites", {**REQUISITES, "bic": "12345"})
    assert bad.status_code == 422 and "БИК" in bad.text, bad.text
    saved = await api.ok("put", "/api/receipts/requisites", REQUISITES)
    assert saved["requisites"]["bic"] == "044525225"
    assert (await api.ok("get", "/api/receipts/requisites"))["requisites"]["name"] == "МУП «Водоканал»"

    r = await api.ok("get", "/api/accounts/1/receipt?period=2019-03")
    qr = parse_payment_string(r["qr"])
    assert (qr.get("Sum"), qr.get("PersAcc"), qr.get("PaymPeriod"), qr.get("BIC"), qr.get("PayeeINN")) == (
        "354000", number, "032019", "044525225", "7707083893")

    page = await client.get("/accounts/1/receipt?period=2019-03", headers=penalty_tenant.headers)
    assert page.status_code == 200, page.text
    html = page.text
    assert "Пени" in html and "<svg" in html and "3\u202f540,00" in html and number in html

    default = await api.ok("get", "/api/accounts/1/receipt")  # the latest billed month
    assert default["period"] == "2019-03"
    assert (await api.get("/api/accounts/999999/receipt")).status_code == 404


async def test_requisites_page(client, penalty_tenant):
    h = penalty_tenant.headers
    r = await client.post("/billing/requisites", data={**REQUISITES, "personal_acc": "4070"}, headers=h)
    assert r.status_code == 200 and "Расчётный счёт: нужно 20 цифр" in r.text
    r = await client.post("/billing/requisites", data=REQUISITES, headers=h)
    assert r.status_code == 200 and "Реквизиты сохранены" in r.text
    r = await client.get("/billing/requisites", headers=h)
    assert 'value="044525225"' in r.text
    history = await Api(client, h).ok("get", "/api/audit/payee_requisites/1")
    assert history["items"], history


async def test_a_penalty_paid_lowers_the_sum_to_pay_once(client, penalty_tenant, tx):
    """After the history, 3,520.00 more pays the services' 3,500.00 and 20.00 of the 40.00 of penalties:
    20.00 is left to pay — the penalty part is the penalty section's `paid`, not an advance as well."""
    api = Api(client, penalty_tenant.headers)
    await _history(tx)
    async with tx() as conn:
        await pay(conn, 1, date(2019, 3, 25), "3520.00")
    assert (await api.post("/api/payments/allocate", {"account_id": 1})).status_code == 202
    r = await api.ok("get", "/api/accounts/1/receipt?period=2019-03")
    assert r["totals"]["closing"] == "0.00", r["totals"]
    assert not [x for x in r["lines"] if x["code"] is None], r["lines"]  # no advance line
    assert (r["penalty"]["paid"], r["penalty"]["closing"]) == ("20.00", "20.00")
    assert r["due"] == "20.00"
