"""Bills of the intermediate payments: 35 % by the 18th and 50 % by the 31st of December from November's UPD of
12 345.67, to the kopeck; none without such terms; skipped (with the reason) without a previous document; issuing
again and two issues at once make one set; the bills are no debt (turnover, sales ledger) and a payment of one is an
advance that the month's UPD consumes, while the month's own bill is still issued; the API's refusals; the page."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.channels.print.legal_bill_pdf import bill_purpose, render_bill
from aquabill.legal_entities.issue.intermediate import issue_intermediate
from aquabill.legal_entities.issue.month import issue_month
from aquabill.legal_entities.issue.queries import print_data
from aquabill.legal_entities.payments.allocation import reallocate
from aquabill.legal_entities.payments.turnover import contract_turnover
from aquabill.legal_entities.reports.sales_ledger import sales_ledger
from tests.conftest import ADMIN_PASSWORD
from tests.integration.billing_core.api_helpers import Api, wait_job
from tests.integration.legal_entities.issue.conftest import add_charges, make_contract
from tests.integration.legal_entities.issue.test_advance import pay

TERMS = {"due_day": 10, "intermediate": [{"percent": "35.00", "day": 18}, {"percent": "50.00", "day": 31}]}
DEC, JAN, FEB = date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)
_numbers = itertools.count(1)


async def shipped(conn, contract: dict, period: date, amount: str, vat: str, *, kind: str = "upd") -> dict:
    """The contract's UPD (or act) of `period` as issued, with exact totals."""
    gross, tax = Decimal(amount), Decimal(vat)
    row = (await conn.execute(text(
        "INSERT INTO legal_documents(kind, number, issued_on, period, contract_id, counterparty_id, function, "
        "amount_net, vat, amount, due_on) VALUES (:kind, :n, (CAST(:p AS date) + interval '1 month - 1 day')::date, "
        ":p, :k, :c, :f, :net, :vat, :gross, (CAST(:p AS date) + interval '1 month 9 days')::date) "
        "RETURNING id, number"),
        {"kind": kind, "n": f"ПИ-{next(_numbers)}", "p": period, "k": contract["id"], "c": contract["counterparty_id"],
         "f": "СЧФДОП" if kind == "upd" else "ДОП", "net": gross - tax, "vat": tax, "gross": gross})).mappings().one()
    return dict(row)


async def bills_of(conn, contract_id: int, period: date) -> list[dict]:
    return [dict(r) for r in (await conn.execute(text(
        "SELECT d.id, d.number, d.part, d.amount_net, d.vat, d.amount, d.due_on, d.issued_on, d.xml, "
        "l.name, l.vat_rate FROM legal_documents d JOIN legal_document_lines l ON l.document_id = d.id "
        "WHERE d.contract_id = :k AND d.period = :p AND d.kind = 'bill' AND d.status = 'issued' ORDER BY d.part"),
        {"k": contract_id, "p": period})).mappings()]


async def test_december_bills_from_novembers_upd(tx):
    async with tx(1) as conn:
        k = await make_contract(conn, terms=TERMS)
        plain = await make_contract(conn)  # the default terms: no intermediate payments
        orphan = await make_contract(conn, terms=TERMS, name="ООО «Новый абонент»")
        for c in (k, plain):
            await shipped(conn, c, date(2026, 11, 1), "12345.67", "2226.27")
        result = await issue_intermediate(conn, DEC, issued_on=DEC, user_id=1)
        bills = await bills_of(conn, k["id"], DEC)
        assert await bills_of(conn, plain["id"], DEC) == []
        assert await bills_of(conn, orphan["id"], DEC) == []
        data = await print_data(conn, bills[0]["id"])
        audited = (await conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'legal_documents' AND action = 'insert' "
            "AND row_id = ANY(:ids) AND user_id = 1"), {"ids": [str(b["id"]) for b in bills]})).scalar_one()
    assert (result["bills"], result["contracts"], result["amount"], result["already"]) == (2, 1, "10493.82", 0)
    assert result["skipped"] == [{"contract_id": orphan["id"], "contract": orphan["number"], "message":
                                  "нет выставленного УПД или акта за ноябрь 2026: промежуточные платежи считаются "
                                  "от суммы предыдущего месяца"}]
    # 12 345.67 × 35 % = 4 320.9845 → 4 320.98, VAT 22/122 of it = 779.1931 → 779.19;
    # 12 345.67 × 50 % = 6 172.835 → 6 172.84, VAT 135 802.48 / 122 = 1 113.13508 → 1 113.14
    assert [(b["part"], b["amount"], b["vat"], b["amount_net"], b["due_on"], b["issued_on"], b["vat_rate"], b["xml"])
            for b in bills] == [
        (1, Decimal("4320.98"), Decimal("779.19"), Decimal("3541.79"), date(2026, 12, 18), DEC, "22%", None),
        (2, Decimal("6172.84"), Decimal("1113.14"), Decimal("5059.70"), date(2026, 12, 31), DEC, "22%", None)]
    assert bills[0]["name"] == f"Промежуточный платёж 35 % за декабрь 2026 г. по договору № {k['number']} до 18.12.2026"
    assert bills[1]["name"].startswith("Промежуточный платёж 50 % за декабрь 2026 г.")
    assert audited == 2
    # the bill's PDF (the month's bill form) with the payment QR naming the intermediate payment
    assert data["document"]["kind_name"] == "Счёт на промежуточный платёж"
    assert bill_purpose(data["document"]) == (f"Оплата по счёту № {bills[0]['number']} от 01.12.2026: "
                                              f"{bills[0]['name']}, в т.ч. НДС 779,19")
    pdf = render_bill(data)
    assert pdf.startswith(b"%PDF") and pdf == render_bill(data)

    async with tx(1) as conn:  # issuing again makes nothing new
        again = await issue_intermediate(conn, DEC, issued_on=date(2026, 12, 2))
        assert [b["id"] for b in await bills_of(conn, k["id"], DEC)] == [b["id"] for b in bills]
    assert (again["bills"], again["already"], len(again["skipped"])) == (0, 2, 1)


async def test_two_issues_at_once_make_one_set(tx):
    async with tx(1) as conn:
        k = await make_contract(conn, terms=TERMS, vat_mode="no_vat")
        await shipped(conn, k, DEC, "1000.00", "0.00", kind="act")

    async def issue():
        async with tx(1) as conn:
            return await issue_intermediate(conn, JAN, contract_id=k["id"])

    results = await asyncio.gather(issue(), issue())
    assert sorted(r["bills"] for r in results) == [0, 2]
    async with tx() as conn:
        bills = await bills_of(conn, k["id"], JAN)
    # an act без НДС: 350.00 and 500.00, no VAT; the first due on 18.01, the second on 31.01
    assert [(b["part"], b["amount"], b["vat"], b["vat_rate"], b["due_on"]) for b in bills] == [
        (1, Decimal("350.00"), Decimal("0.00"), "без НДС", date(2027, 1, 18)),
        (2, Decimal("500.00"), Decimal("0.00"), "без НДС", date(2027, 1, 31))]


async def test_the_bills_are_no_debt_and_a_payment_of_one_is_an_advance(tx):
    async with tx(1) as conn:
        k = await make_contract(conn, terms=TERMS)
        await shipped(conn, k, JAN, "12345.67", "2226.27")
        await pay(conn, k, "12345.67", date(2027, 2, 5))  # January paid in full
        await issue_intermediate(conn, FEB, contract_id=k["id"])
        first = (await bills_of(conn, k["id"], FEB))[0]
        # nothing due: the bills are in no debt, turnover or sales ledger
        turnover = await contract_turnover(conn, k["id"], FEB, date(2027, 2, 28))
        ledger = await sales_ledger(conn, FEB, date(2027, 2, 28))
        assert (turnover["charged"], turnover["closing"]) == (Decimal("0.00"), Decimal("0.00"))
        assert [r for r in ledger["rows"] if r["id"] == first["id"]] == []
        # the payment of the 35 % bill, naming it: an advance with its advance invoice (22/122)
        paid = await pay(conn, k, "4320.98", date(2027, 2, 16))
        await conn.execute(text("UPDATE payments SET purpose = :t WHERE id = :p"), {
            "p": paid, "t": f"Оплата по счёту № {first['number']} от 01.02.2027, промежуточный платёж"})
        result = await reallocate(conn, [k["id"]])
        assert (result["advance"], result["advance_invoices"], result["advance_errors"]) == (
            Decimal("4320.98"), 1, [])
        advance = (await conn.execute(text(
            "SELECT amount, vat FROM legal_documents WHERE kind = 'advance_invoice' AND payment_id = :p"),
            {"p": paid})).one()
        assert tuple(advance) == (Decimal("4320.98"), Decimal("779.19"))
        # February's own documents: the UPD and the month's bill (part 0) despite the intermediate bills
        await add_charges(conn, k, FEB, [("cold_water", "100", "45.6700", False)])
        month = await issue_month(conn, FEB, contract_id=k["id"])
        assert (month["upd"], month["bill"]) == (1, 1)
        upd = (await conn.execute(text("SELECT id, amount FROM legal_documents WHERE contract_id = :k AND "
                                       "kind = 'upd' AND period = :p"), {"k": k["id"], "p": FEB})).one()
        await reallocate(conn, [k["id"]])
        allocated = [tuple(r) for r in await conn.execute(text(
            "SELECT document_id, kind, amount FROM contract_allocations WHERE payment_id = :p ORDER BY id"),
            {"p": paid})]
        parts = (await conn.execute(text(
            "SELECT array_agg(part ORDER BY part) FROM legal_documents WHERE contract_id = :k AND period = :p "
            "AND kind = 'bill'"), {"k": k["id"], "p": FEB})).scalar_one()
        turnover = await contract_turnover(conn, k["id"], FEB, date(2027, 2, 28))
    # 100 m³ × 45.67 = 4 567.00 + 22 % 1 004.74 = 5 571.74: the advance is offset at the UPD
    assert upd.amount == Decimal("5571.74")
    assert allocated == [(upd.id, "charge", Decimal("4320.98"))]
    assert parts == [0, 1, 2]
    assert (turnover["charged"], turnover["closing"]) == (Decimal("5571.74"), Decimal("1250.76"))


async def test_the_api_starts_a_job_and_refuses_bad_input(api):
    r = await api.post("/api/legal/documents/intermediate", {"period": "2030-05-01", "issued_on": "2030-05-01"})
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert (job["kind"], job["params"]) == ("legal.intermediate", {"period": "2030-05-01", "issued_on": "2030-05-01"})
    for body, message in (
            ({"period": "2030-13-01"}, "Период: ожидается месяц ГГГГ-ММ"),
            ({"period": "2030-05-15"}, "Период: ожидается месяц ГГГГ-ММ"),
            ({"period": "0001-01-01"}, "Период: с 01.2000 по 12.2099"),
            ({"period": "2030-05-01", "issued_on": "01.05.2030"}, "Дата выставления: ожидается ГГГГ-ММ-ДД"),
            ({"period": "2030-05-01", "issued_on": "2030-06-01"},
             "Счета на промежуточные платежи за май 2030 выставляются с 01.04.2030 по 31.05.2030")):
        r = await api.post("/api/legal/documents/intermediate", body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["message"] == message
    assert (await api.post("/api/legal/documents/intermediate", {})).status_code == 400


async def _wait_done(api: Api, job_id: str) -> dict:
    return await wait_job(api, job_id, "/api/legal/documents/jobs/{id}")


@pytest.mark.usefixtures("worker")
async def test_the_page_form(legal_client, tenant, tx):
    async with tx(1) as conn:
        k = await make_contract(conn, vat_mode="no_vat", terms={"due_day": 10, "intermediate": [
            {"percent": "35.00", "day": 18}]}, name="ООО «Форма»")
        await shipped(conn, k, date(2028, 5, 1), "1000.00", "0.00", kind="act")
    legal_client.cookies.clear()
    r = await legal_client.post("/login", data={"tenant": tenant.tenant.slug, "login": "admin",
                                                "password": ADMIN_PASSWORD, "next": "/"}, follow_redirects=False)
    assert r.status_code == 302, r.text
    try:
        page = await legal_client.get("/legal/documents")
        assert page.status_code == 200 and "Счета на промежуточные платежи" in page.text
        r = await legal_client.post("/legal/documents/intermediate", data={"period": "2028-99"},
                                    follow_redirects=False)
        assert r.status_code == 422 and "Период: ожидается месяц ГГГГ-ММ" in r.text
        r = await legal_client.post("/legal/documents/intermediate", data={"period": "2028-06", "issued_on": ""},
                                    follow_redirects=False)
        assert r.status_code == 303, r.text
        location = r.headers["location"]
        assert location.startswith("/legal/documents?period=2028-06&job=")
        job = await _wait_done(Api(legal_client, {}), location.split("job=")[1].split("#")[0])
        assert job["status"] == "done", job
        page = await legal_client.get(location)
        assert page.status_code == 200
        assert "Счета на промежуточные платежи: выставлено 1 на 350,00 ₽, договоров: 1" in page.text
        assert "нет выставленного УПД или акта за май 2028" in page.text  # the other contracts of this tenant
        listed = await legal_client.get("/legal/documents?period=2028-06")
        assert "Счёт на промежуточный платёж №" in listed.text and "ООО «Форма»" in listed.text
    finally:
        legal_client.cookies.clear()
