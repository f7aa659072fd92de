"""The advance invoice on a contract's prepayment: 22/122 from the amount received, valid XML (function СЧФ),
numbered, once per payment (also when asked twice at once); refusals."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import text

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.channels.fns_upd import validate
from aquabill.channels.print.legal_upd_pdf import render_upd
from aquabill.legal_entities.issue.advance import issue_advance_invoice
from aquabill.legal_entities.issue.queries import print_data
from tests.integration.legal_entities.issue.conftest import make_contract

ORDERS = itertools.count(417)


async def pay(conn, contract: dict, amount: str, on: date = date(2026, 11, 12)) -> int:
    return (await conn.execute(text(
        "INSERT INTO payments(agent_id, source, paid_on, amount, contract_id, counterparty_id, status, operation_id) "
        "SELECT id, 'bank_1c', :on, :a, :k, :cp, 'identified', :op FROM payment_agents WHERE code = 'legal_bank' "
        "RETURNING id"), {"on": on, "op": str(next(ORDERS)), "a": Decimal(amount), "k": contract["id"],
                          "cp": contract["counterparty_id"]})).scalar_one()


async def test_an_advance_invoice_at_22_122(tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        payment = await pay(conn, k, "15000.00")
        made = await issue_advance_invoice(conn, payment, amount=Decimal("12200.00"), user_id=1)
        # 12 200.00 × 22/122 = 2 200.00
        assert (made["created"], made["amount"], made["vat"], made["rate"]) == (True, "12200.00", "2200.00", "22/122")
        doc = (await conn.execute(text("SELECT * FROM legal_documents WHERE id = :id"),
                                  {"id": made["id"]})).mappings().one()
        assert (doc["kind"], doc["function"], doc["issued_on"], doc["payment_id"], doc["amount_net"], doc["vat"]) == (
            "advance_invoice", "СЧФ", date(2026, 11, 12), payment, Decimal("10000.00"), Decimal("2200.00"))
        again = await issue_advance_invoice(conn, payment, amount=Decimal("12200.00"))
        assert (again["id"], again["created"]) == (made["id"], False)
        data = await print_data(conn, made["id"])
        pdf = render_upd(data)
        assert pdf.startswith(b"%PDF") and pdf == render_upd(data)
    assert validate(doc["xml"], doc["file_name"]) == []
    root = etree.fromstring(doc["xml"])
    assert doc["file_name"] == root.get("ИдФайл") + ".xml"
    assert root.find("Документ").get("Функция") == "СЧФ"
    assert root.find("Документ/СвСчФакт/ДопСвФХЖ1").get("СпОбстФСЧФ") == "2"
    assert root.find("Документ/СвСчФакт/СвПРД").get("НомерПРД") == "417"
    row = root.find("Документ/ТаблСчФакт/СведТов")
    assert (row.get("НалСт"), row.get("СтТовУчНал"), row.find("СумНал/СумНал").text) == ("22/122", "12200.00",
                                                                                         "2200.00")


async def test_two_calls_at_once_give_one_invoice(tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        payment = await pay(conn, k, "999.99")

    async def issue():
        async with tx(1) as conn:
            return await issue_advance_invoice(conn, payment, amount=Decimal("999.99"))

    a, b = await asyncio.gather(issue(), issue())
    assert a["id"] == b["id"] and {a["created"], b["created"]} == {True, False}
    # 999.99 × 22/122 = 180.3261… → 180.33
    assert a["vat"] == "180.33"


async def test_refusals(tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        payment = await pay(conn, k, "100.00")
        with pytest.raises(NotFound):
            await issue_advance_invoice(conn, 2_000_000_000, amount=Decimal("1"))
        with pytest.raises(Invalid, match="больше суммы платежа"):
            await issue_advance_invoice(conn, payment, amount=Decimal("100.01"))
        with pytest.raises(Invalid):
            await issue_advance_invoice(conn, payment, amount=Decimal("0"))
        no_vat = await make_contract(conn, vat_mode="no_vat")
        skipped = await issue_advance_invoice(conn, await pay(conn, no_vat, "50.00"), amount=Decimal("50.00"))
        assert (skipped["id"], skipped["created"]) == (None, False)
        unlinked = (await conn.execute(text(
            "INSERT INTO payments(agent_id, source, paid_on, amount, status) SELECT id, 'bank_1c', DATE '2026-11-12', "
            "10, 'unidentified' FROM payment_agents WHERE code = 'legal_bank' RETURNING id"))).scalar_one()
        with pytest.raises(Conflict):
            await issue_advance_invoice(conn, unlinked, amount=Decimal("10"))
