"""The advance invoice (счёт-фактура на аванс, function СЧФ) on a prepayment a contract received.

- Tax Code art. 167 p. 1 pp. 2: a prepayment is a moment of determining the tax base; art. 168 p. 1 and p. 3:
  the seller presents the tax to the buyer and issues the invoice within 5 calendar days of receiving it. The
  invoice is dated the day the payment was received (`payments.paid_on`) — within that window by construction —
  and its rate is the calculated one in force that day (art. 164 p. 4: 22/122 from 01.01.2026, 20/120 before;
  `vat.advance_rate`). Decree 1137, rules of filling in the invoice: on an advance columns 2–6 stay empty.
- Once per payment (unique index `legal_documents_advance_once`, and the payment row is locked here, so two calls
  at once give one invoice): a second call returns the invoice already issued.
- A contract без НДС gets no advance invoice (art. 169 p. 3: invoices are drawn up by VAT payers on taxable
  operations): the result says so and nothing is issued.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.legal_entities import vat
from aquabill.legal_entities.documents import (
    Document,
    DocumentRef,
    Function,
    check_document,
    make_advance_line,
)
from aquabill.legal_entities.issue import numbering, render
from aquabill.legal_entities.issue.month import _check_edo_ids, contract_ref, formed_at, render_documents
from aquabill.legal_entities.issue.parties import BUYER_BANK_JOIN, BUYER_COLUMNS, buyer_of, load_seller
from aquabill.legal_entities.issue.store import NewDocument, NewLine, insert_documents

SERVICES = {"cold_water": "холодное водоснабжение", "sewage": "водоотведение",
            "combined": "холодное водоснабжение и водоотведение", "stormwater": "приём поверхностных сточных вод"}
_PAYMENT = text(f"""
    SELECT p.id, p.paid_on, p.amount AS paid, p.status, p.contract_id, coalesce(nullif(p.operation_id, ''),
           p.id::text) AS order_number, k.number AS contract_number, k.signed_on, k.kind AS contract_kind,
           k.counterparty_id, v.vat_mode, {BUYER_COLUMNS},
           (SELECT d.id FROM legal_documents d WHERE d.payment_id = p.id AND d.kind = 'advance_invoice'
            AND d.status = 'issued') AS existing
    FROM payments p
    JOIN contracts k ON k.id = p.contract_id
    JOIN counterparties c ON c.id = k.counterparty_id
    {BUYER_BANK_JOIN}
    LEFT JOIN LATERAL (SELECT cv.vat_mode FROM contract_versions cv WHERE cv.contract_id = k.id
                       AND cv.valid_from <= p.paid_on ORDER BY cv.valid_from DESC LIMIT 1) v ON true
    WHERE p.id = :id""")


async def issue_advance_invoice(conn: AsyncConnection, payment_id: int, *, amount: Decimal,
                                user_id: int | None = None) -> dict[str, Any]:
    """The advance invoice on `amount` (with VAT) of the contract's payment `payment_id`: {"id", "number",
    "created", "amount", "vat", "rate"}; an existing one is returned as is (created False)."""
    # the lock first, the reading after it: a second call waits here and then sees the first one's invoice
    exists = (await conn.execute(text("SELECT contract_id FROM payments WHERE id = :id FOR UPDATE"),
                                 {"id": payment_id})).first()
    if exists is None:
        raise NotFound(f"Платёж {payment_id} не найден")
    if exists[0] is None:
        raise Conflict(f"Платёж {payment_id} не отнесён к договору юрлица")
    row = (await conn.execute(_PAYMENT, {"id": payment_id})).mappings().one()
    if row["existing"] is not None:
        doc = (await conn.execute(text("SELECT id, number, amount, vat FROM legal_documents WHERE id = :id"),
                                  {"id": row["existing"]})).mappings().one()
        return {"id": doc["id"], "number": doc["number"], "created": False, "amount": str(doc["amount"]),
                "vat": str(doc["vat"])}
    if row["status"] != "identified":
        raise Conflict(f"Платёж {payment_id} не опознан (статус {row['status']}): счёт-фактура не составляется")
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise Invalid("Сумма аванса должна быть больше нуля", field="amount")
    if amount > row["paid"]:
        raise Invalid(f"Сумма аванса {amount} больше суммы платежа {row['paid']}", field="amount")
    if row["vat_mode"] == "no_vat":
        return {"id": None, "number": None, "created": False,
                "reason": "Договор без НДС: счёт-фактура на аванс не составляется"}
    seller = await load_seller(conn)
    rate = vat.advance_rate(row["paid_on"])
    contract = contract_ref(row["contract_number"], row["signed_on"])
    line = make_advance_line(1, f"Предварительная оплата за {SERVICES.get(row['contract_kind'], 'услуги')} "
                                f"по {str(contract).replace('Договор', 'договору', 1)}", amount, rate)
    order = DocumentRef("Платёжное поручение", str(row["order_number"])[:30], row["paid_on"])
    doc = check_document(Document(function=Function.SCHF, number="0", date=row["paid_on"], seller=seller.party,
                                  buyer=buyer_of(row), lines=(line,), signer=seller.signer, contract=contract,
                                  advance=True, payments=(order,), payment_amounts=(row["paid"],)))
    _check_edo_ids(doc)
    (number,) = await numbering.take_numbers(conn, "advance_invoice", row["paid_on"].year, 1)
    doc = replace(doc, number=number)
    guid = render.document_guid(f"{seller.party.inn}/advance_invoice/{row['paid_on'].year}/{number}")
    a = line.amounts
    new = NewDocument(kind="advance_invoice", number=number, issued_on=row["paid_on"], contract_id=row["contract_id"],
                      counterparty_id=row["counterparty_id"], amount_net=a.net, vat=a.vat_or_zero, amount=a.gross,
                      function=Function.SCHF.value, payment_id=payment_id, guid=guid,
                      lines=[NewLine(1, line.name, a.net, rate.label, a.vat_or_zero, a.gross, unit_code="",
                                     unit_name="")])
    await render_documents([new], [render.XmlJob(doc, await formed_at(conn), guid)])
    (doc_id,) = await insert_documents(conn, [new], user_id)
    return {"id": doc_id, "number": number, "created": True, "amount": str(a.gross), "vat": str(a.vat_or_zero),
            "rate": rate.label}
