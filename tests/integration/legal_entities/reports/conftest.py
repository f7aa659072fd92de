"""A hand-made set of legal documents and contract payments (rows inserted directly: the tables are t0033's),
the same for every test of the module. Figures (22 % unless said):

contract A (with VAT), counterparty «ООО «Ромашка»»:
  2025-12-25 payment 500.00; 2025-12-31 upd 2025-12 at 20 %: 1000.00 + 200.00 = 1200.00  → opening 700.00
  2026-01-31 bill (not in the ledger nor in the act)
  2026-01-31 upd: water 100 m3 × 50.00 = 5000.00 + 1100.00; sewage 80 × 40.00 = 3200.00 + 704.00 → 10004.00
  2026-02-05 payment 10004.00 (п/п 123)
  2026-02-20 payment 12200.00 (п/п 150) → 2026-02-22 advance invoice 12200.00, 22/122: VAT 2200.00
  2026-03-10 ukd +10 m3: 500.00 + 110.00 = 610.00 (increase)
  2026-03-12 ukd −100.00 − 22.00 = −122.00 (decrease: purchase ledger)
  2026-03-15 penalty 12.34 (on the January upd)
  2026-03-20 payment 999.00, storno (out of everything but the export)
contract B (без НДС), same counterparty: 2026-03-31 act 3000.00 без НДС.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction
from tests.integration.legal_entities.helpers import contract_number, org_requisites

D = Decimal


async def _doc(conn, kind, number, on, contract_id, party_id, lines, *, period=None, corrects=None, payment=None,
               function="") -> int:
    net = sum((n for _, _, _, n, _, _ in lines), D("0.00"))
    vat = sum((v for _, _, _, _, _, v in lines), D("0.00"))
    doc_id = (await conn.execute(text(
        "INSERT INTO legal_documents(kind, number, issued_on, period, contract_id, counterparty_id, corrects_id, "
        "payment_id, function, amount_net, vat, amount) VALUES (:k, :n, :on, :p, :c, :cp, :corr, :pay, :fn, :net, "
        ":vat, :amount) RETURNING id"),
        {"k": kind, "n": number, "on": on, "p": period, "c": contract_id, "cp": party_id, "corr": corrects,
         "pay": payment, "fn": function, "net": net, "vat": vat, "amount": net + vat})).scalar_one()
    for no, (name, qty, price, amount_net, rate, tax) in enumerate(lines, start=1):
        await conn.execute(text(
            "INSERT INTO legal_document_lines(document_id, line_no, name, quantity, price, amount_net, vat_rate, "
            "vat, amount, period) VALUES (:d, :no, :name, :q, :price, :net, :rate, :vat, :amount, :p)"),
            {"d": doc_id, "no": no, "name": name, "q": qty, "price": price, "net": amount_net, "rate": rate,
             "vat": tax, "amount": amount_net + tax, "p": period})
    return doc_id


async def _payment(conn, agent_id, contract_id, party_id, on, amount, number, status="identified") -> int:
    return (await conn.execute(text(
        "INSERT INTO payments(agent_id, source, operation_id, paid_on, amount, contract_id, counterparty_id, payer, "
        "purpose, status) VALUES (:a, 'bank_1c', :op, :on, :amount, :c, :cp, 'ООО «Ромашка»', :purpose, :s) "
        "RETURNING id"),
        {"a": agent_id, "op": f"{on:%Y%m%d}/{number}/40702810900000000001/01", "on": on, "amount": amount,
         "c": contract_id, "cp": party_id, "purpose": f"Оплата по договору, п/п {number}", "s": status})
    ).scalar_one()


@pytest.fixture(scope="module")
async def ledger_set(core, tenant):
    async with tenant_transaction(core.engines, tenant.tenant, None) as conn:
        req = org_requisites()
        party = (await conn.execute(text(
            "INSERT INTO counterparties(kind, name, inn, kpp, ogrn, edo_id) VALUES ('org', 'ООО «Ромашка»', :inn, "
            ":kpp, :ogrn, '2BM-7700000000-000000000000') RETURNING id"), req)).scalar_one()
        ids = {}
        for key in ("a", "b"):
            ids[key] = (await conn.execute(text(
                "INSERT INTO contracts(number, signed_on, counterparty_id, kind, status, valid_from) "
                "VALUES (:n, '2025-01-15', :cp, 'combined', 'active', '2025-01-15') RETURNING id"),
                {"n": contract_number("Р"), "cp": party})).scalar_one()
        agent = (await conn.execute(text(
            "INSERT INTO payment_agents(code, name) VALUES ('reports-bank', 'Банк отчётов') RETURNING id"))
        ).scalar_one()
        a, b = ids["a"], ids["b"]
        water, sewage = "Холодное водоснабжение", "Водоотведение"
        await _payment(conn, agent, a, party, date(2025, 12, 25), D("500.00"), "90")
        await _doc(conn, "upd", "Д-2025-0900", date(2025, 12, 31), a, party,
                   [(water, D("20.000"), D("50.0000"), D("1000.00"), "20%", D("200.00"))], period=date(2025, 12, 1),
                   function="СЧФДОП")
        await _doc(conn, "bill", "С-1", date(2026, 1, 31), a, party,
                   [(water, None, None, D("8200.00"), "22%", D("1804.00"))], period=date(2026, 1, 1))
        upd = await _doc(conn, "upd", "Д-0001", date(2026, 1, 31), a, party,
                         [(water, D("100.000"), D("50.0000"), D("5000.00"), "22%", D("1100.00")),
                          (sewage, D("80.000"), D("40.0000"), D("3200.00"), "22%", D("704.00"))],
                         period=date(2026, 1, 1), function="СЧФДОП")
        await _payment(conn, agent, a, party, date(2026, 2, 5), D("10004.00"), "123")
        advance = await _payment(conn, agent, a, party, date(2026, 2, 20), D("12200.00"), "150")
        await _doc(conn, "advance_invoice", "А-0001", date(2026, 2, 22), a, party,
                   [("Предоплата за водоснабжение", None, None, D("10000.00"), "22/122", D("2200.00"))],
                   payment=advance, function="СЧФ")
        await _doc(conn, "ukd", "К-0001", date(2026, 3, 10), a, party,
                   [(water, D("10.000"), D("50.0000"), D("500.00"), "22%", D("110.00"))], period=date(2026, 1, 1),
                   corrects=upd, function="КСЧФДИС")
        await _doc(conn, "ukd", "К-0002", date(2026, 3, 12), a, party,
                   [(water, D("-2.000"), D("50.0000"), D("-100.00"), "22%", D("-22.00"))], period=date(2026, 1, 1),
                   corrects=upd, function="КСЧФДИС")
        await conn.execute(text(
            "INSERT INTO contract_penalties(contract_id, document_id, posted_period, calculated_on, category, days, "
            "amount) VALUES (:c, :d, '2026-03-01', '2026-03-15', 'other', 5, 12.34)"), {"c": a, "d": upd})
        await _payment(conn, agent, a, party, date(2026, 3, 20), D("999.00"), "170", status="storno")
        await _doc(conn, "act", "Д-0002", date(2026, 3, 31), b, party,
                   [(water, D("60.000"), D("50.0000"), D("3000.00"), "без НДС", D("0.00"))], period=date(2026, 3, 1),
                   function="ДОП")
    return {"party": party, "a": a, "b": b, "upd": upd, "advance_payment": advance, "ogrn": req["ogrn"],
            "inn": req["inn"], "kpp": req["kpp"]}
