"""The reconciliation act (акт сверки взаимных расчётов) of one contract for a period.

An act of reconciliation is not a form fixed by law: it is the usual accounting practice (a primary document in
the sense of Federal Law 402-FZ art. 9 when signed by both sides; Tax Code art. 21 p. 1 (5.1) and art. 78 p. 3
speak of the tax authority's act, which this is not). The FNS electronic format of the sender's title exists
(КНД 1110332, `ON_AKTSVEROTP_1_972_01_05_01_01.xsd`); `aquabill.channels.fns_upd.akt_sverki` renders this act
in it.

Our side's columns («по данным» the supplier):
- debit — what the counterparty owes for: issued shipment documents of the contract (УПД 'upd', act 'act') and
  their corrections ('ukd': an increase is a debit, a decrease a credit of its absolute value);
- credit — the contract's identified payments (status 'identified': a storno leaves the row with status
  'storno' and out of the act); a negative payment (a refund to the counterparty) is a debit.
Bills (счета на оплату) and advance invoices are not operations of the settlement: they are not in the act.
Cancelled documents are not in it.

opening = Σ debit − Σ credit of everything dated before `date_from`; closing = opening + debit − credit of
the period, to the kopeck (no rounding happens here: every amount is NUMERIC(14,2) as issued or paid). A
positive balance is a debt of the counterparty («в пользу» the supplier), a negative one an overpayment
(«в пользу» the counterparty). These are exactly the figures of the contract's turnover
(`aquabill.legal_entities.payments.turnover.contract_turnover`: opening, charged = debit, paid = credit,
closing) — a test holds them equal.

Penalties (Federal Law 416-FZ art. 13 p. 6.2 / art. 14 p. 6.4, `contract_penalties`) are a separate block of the
act, as the turnover keeps them: `penalties` = {opening, accrued, paid, closing, rows} — accrued on the day
calculated, paid = the payments' allocations of kind 'penalty' (those payments are already in the credit
above: the allocation says which part of them went to penalties, it is not a second credit).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.receipts.requisites import load_requisites
from aquabill.legal_entities.contract_store import require_contract
from aquabill.legal_entities.reports.sales_ledger import payment_number

ZERO = Decimal("0.00")
DOC_NAMES = {"upd": "УПД", "act": "акт", "ukd": "УКД"}
# the document's name for the FNS act's ДокСв/@НаимДок
FORMAL_NAMES = {"upd": "Универсальный передаточный документ", "act": "Акт об оказании услуг",
                "ukd": "Универсальный корректировочный документ", "payment": "Платежное поручение",
                "penalty": "Расчёт пени"}

# every operation of the contract as (on, sort, kind, ref_id, number, doc_on, amount, extra):
# amount > 0 is a debit, < 0 a credit
_OPERATIONS = """
    SELECT d.issued_on AS on, 1 AS sort, d.kind, d.id AS ref_id, d.number, d.issued_on AS doc_on,
           d.amount AS amount, '' AS source, o.number AS extra
    FROM legal_documents d LEFT JOIN legal_documents o ON o.id = d.corrects_id
    WHERE d.contract_id = :c AND d.status = 'issued' AND d.kind IN ('upd', 'act', 'ukd')
    UNION ALL
    SELECT p.paid_on, 2, 'payment', p.id, coalesce(p.operation_id, ''), p.paid_on, -p.amount, p.source, ''
    FROM payments p WHERE p.contract_id = :c AND p.status = 'identified'
"""
_PENALTIES = """
    SELECT n.calculated_on AS on, 3 AS sort, 'penalty' AS kind, n.id AS ref_id, d.number, d.issued_on AS doc_on,
           n.amount, '' AS source, to_char(n.posted_period, 'MM.YYYY') AS extra
    FROM contract_penalties n JOIN legal_documents d ON d.id = n.document_id
    WHERE n.contract_id = :c
"""
_PENALTIES_PAID = """
    SELECT p.paid_on AS on, a.amount FROM contract_allocations a JOIN payments p ON p.id = a.payment_id
    WHERE a.contract_id = :c AND a.kind = 'penalty' AND p.status = 'identified'
"""


def _text(r: dict[str, Any]) -> str:
    kind, doc_on = r["kind"], r["doc_on"]
    if kind == "payment":
        number = payment_number(r["source"], r["number"])
        return f"Оплата (п/п № {number} от {doc_on:%d.%m.%Y})" if r["amount"] < 0 else \
            f"Возврат оплаты (п/п № {number} от {doc_on:%d.%m.%Y})"
    if kind == "penalty":
        return f"Пени (416-ФЗ) по документу № {r['number']} от {doc_on:%d.%m.%Y} за {r['extra']}"
    if kind == "ukd":
        what = "Корректировка реализации в сторону " + ("увеличения" if r["amount"] >= 0 else "уменьшения")
        return f"{what} (УКД № {r['number']} от {doc_on:%d.%m.%Y} к № {r['extra']})"
    return f"Реализация ({DOC_NAMES[kind]} № {r['number']} от {doc_on:%d.%m.%Y})"


def rub(value: Decimal) -> str:
    """12345.6 → «12 345,60» (the Russian grouping and decimal comma)."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def in_favour(balance: Decimal, supplier: str, counterparty: str) -> str:
    if balance > 0:
        return f"Задолженность в пользу {supplier}: {rub(balance)} руб."
    if balance < 0:
        return f"Задолженность в пользу {counterparty}: {rub(-balance)} руб."
    return "Задолженность отсутствует"


async def reconciliation_act(conn: AsyncConnection, contract_id: int, date_from: date,
                             date_to: date) -> dict[str, Any]:
    """{contract, counterparty, supplier, date_from, date_to, opening, rows: [{on, text, debit, credit, kind,
    ref_id, doc_name, doc_number, doc_on}], debit, credit, closing, opening_text, closing_text, penalties:
    {opening, accrued, paid, closing, rows}}; opening + debit − credit = closing."""
    if date_to < date_from:
        raise Invalid("Конец периода сверки раньше его начала", field="to")
    contract = await require_contract(conn, contract_id)
    params = {"c": contract_id, "f": date_from, "t": date_to}
    opening = (await conn.execute(text(
        f"SELECT coalesce(sum(amount), 0) FROM ({_OPERATIONS}) x WHERE x.on < :f"), params)).scalar_one()
    found = (await conn.execute(text(
        f"SELECT * FROM ({_OPERATIONS}) x WHERE x.on BETWEEN :f AND :t ORDER BY x.on, x.sort, x.doc_on, x.ref_id"),
        params)).mappings().all()
    rows = [_row(r) for r in found]
    debit = sum((r["debit"] for r in rows), ZERO)
    credit = sum((r["credit"] for r in rows), ZERO)
    opening = Decimal(opening).quantize(Decimal("0.01"))
    closing = opening + debit - credit
    requisites = await load_requisites(conn)
    supplier = requisites.name if requisites else "поставщика"
    party = (await conn.execute(text(
        "SELECT id, name, inn, kpp, ogrn, kind, last_name, first_name, middle_name, email, phone, edo_id "
        "FROM counterparties WHERE id = :id"), {"id": contract["counterparty_id"]})).mappings().one()
    return {
        "contract": {"id": contract["id"], "number": contract["number"], "signed_on": contract["signed_on"]},
        "counterparty": dict(party),
        "supplier": supplier,
        "date_from": date_from, "date_to": date_to,
        "opening": opening, "rows": rows, "debit": debit, "credit": credit, "closing": closing,
        "opening_text": in_favour(opening, supplier, party["name"]),
        "closing_text": in_favour(closing, supplier, party["name"]),
        "penalties": await _penalties(conn, params),
    }


def _row(r: Any) -> dict[str, Any]:
    amount = r["amount"]
    number = payment_number(r["source"], r["number"]) if r["kind"] == "payment" else r["number"]
    return {"on": r["on"], "text": _text(dict(r)), "kind": r["kind"], "ref_id": r["ref_id"],
            "doc_name": FORMAL_NAMES[r["kind"]], "doc_number": number or "б/н", "doc_on": r["doc_on"],
            "debit": amount if amount > 0 else ZERO, "credit": -amount if amount < 0 else ZERO}


async def _penalties(conn: AsyncConnection, params: dict[str, Any]) -> dict[str, Any]:
    before = (await conn.execute(text(
        f"SELECT coalesce((SELECT sum(amount) FROM ({_PENALTIES}) x WHERE x.on < :f), 0) - "
        f"coalesce((SELECT sum(amount) FROM ({_PENALTIES_PAID}) y WHERE y.on < :f), 0)"), params)).scalar_one()
    found = (await conn.execute(text(
        f"SELECT * FROM ({_PENALTIES}) x WHERE x.on BETWEEN :f AND :t ORDER BY x.on, x.ref_id"), params)
    ).mappings().all()
    rows = [_row(r) for r in found]
    paid = (await conn.execute(text(
        f"SELECT coalesce(sum(amount), 0) FROM ({_PENALTIES_PAID}) y WHERE y.on BETWEEN :f AND :t"), params)
    ).scalar_one()
    opening = Decimal(before).quantize(Decimal("0.01"))
    accrued = sum((r["debit"] for r in rows), ZERO)
    paid = Decimal(paid).quantize(Decimal("0.01"))
    return {"opening": opening, "accrued": accrued, "paid": paid, "closing": opening + accrued - paid,
            "rows": rows}

