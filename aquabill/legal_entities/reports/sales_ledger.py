"""The sales ledger (книга продаж) of a period: the form and the Rules of keeping it — Government Decree 1137 of
26.12.2011, appendix 5 (as amended; the column numbers below are those of the edition in force since
01.10.2017, Decree 981 of 19.08.2017 — recalled, not re-read here: the decree's text was not at hand in this
session). The operation codes are those of FNS order ММВ-7-3/136@ of 14.03.2016 (appendix): 01 — shipment
(services rendered), 02 — a prepayment received, 18 — a corrective invoice on an increase of the price.

What is registered (Tax Code art. 169 p. 3, art. 168 p. 3, art. 154 p. 10):
- every issued UPD with the invoice function (kind 'upd'), code 01, on its date;
- every advance invoice (kind 'advance_invoice'), code 02, with the payment order (column 11); its columns
  14–16 stay empty (the amount received is in 13б, the tax at 22/122 in 17);
- a corrective document (kind 'ukd') that INCREASES the price, code 18, in the period it is issued — its
  increasing lines (the stored lines are the signed differences). A decrease is not in the seller's sales
  ledger: the seller registers its corrective invoice in the PURCHASE ledger (Tax Code art. 171 p. 13,
  art. 172 p. 10; Decree 1137 appendix 4) — documents with decreasing lines are counted in `excluded`
  ('ukd_decrease') and their decreasing lines not shown; a correction with both kinds of lines shows its
  increase here;
- an 'act' (a shipment document of a contract без НДС, function ДОП) is not an invoice and not registered;
  bills (счета на оплату) neither. A cancelled document is not registered.

The 2026 rate: Federal Law 425-FZ raised the general rate to 22 % from 01.01.2026. Government Decree 26 of
23.01.2026 amended the form from 01.04.2026 (and FNS letter СД-4-3/11730@ of 26.12.2025 recommended the same for
01.01–31.03.2026) — as digested by klerk.ru (10.02.2026: «в графах 14 и 17 теперь указывается ставка 22% (было
20%), а в графах 14а и 17а — 20% или 18% (было 18%)»), buh.ru and buhgalteria.ru; the decree's own text was not
read here. So 22 % is in columns 14 (cost without VAT) and 17 (VAT), 20 % (documents of 2025 and their
corrections) in 14а / 17а; 10 % in 15 / 18, 0 % in 16, exempt in 19. The new column 11а: on a shipment against an
advance, the numbers and dates of the advance invoices offset — for a UPD, the advance invoices of the payments
the allocation put on it (`contract_allocations`, payments/allocation.py) issued on or before it.
Amounts are taken from the documents' lines as issued (each line's VAT was rounded once, when issued); the
totals are plain sums.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.legal_entities.reports.periods import make_period

CODES = {"upd": "01", "advance_invoice": "02", "ukd": "18"}
# (key, column title, CSV/PDF header); the money columns are summed into the totals
COLUMNS = (
    ("no", "1", "№ п/п"),
    ("code", "2", "Код вида операции"),
    ("invoice", "3", "Номер и дата счёта-фактуры продавца"),
    ("correction", "5", "Номер и дата корректировочного счёта-фактуры"),
    ("buyer", "7", "Наименование покупателя"),
    ("buyer_ids", "8", "ИНН/КПП покупателя"),
    ("payment_doc", "11", "Номер и дата документа, подтверждающего оплату"),
    ("advance_docs", "11а", "Номер и дата счёта-фактуры на аванс, зачтённый при отгрузке"),
    ("currency", "12", "Наименование и код валюты"),
    ("total", "13б", "Стоимость продаж с НДС, руб. коп."),
    ("net_22", "14", "Стоимость продаж без НДС по ставке 22 %"),
    ("net_20", "14а", "Стоимость продаж без НДС по ставке 20 % (18 %)"),
    ("net_10", "15", "Стоимость продаж без НДС по ставке 10 %"),
    ("net_0", "16", "Стоимость продаж по ставке 0 %"),
    ("vat_22", "17", "Сумма НДС по ставке 22 %"),
    ("vat_20", "17а", "Сумма НДС по ставке 20 % (18 %)"),
    ("vat_10", "18", "Сумма НДС по ставке 10 %"),
    ("exempt", "19", "Стоимость продаж, освобождаемых от налога"),
)
MONEY_KEYS = ("total", "net_22", "net_20", "net_10", "net_0", "vat_22", "vat_20", "vat_10", "exempt")

_SQL = """
    SELECT d.id, d.kind, d.number, d.issued_on, d.amount, o.number AS orig_number, o.issued_on AS orig_on,
           c.name AS buyer, c.inn, c.kpp, p.source AS pay_source, p.operation_id, p.paid_on,
           l.net_22, l.net_20, l.net_10, l.net_0, l.vat_22, l.vat_20, l.vat_10, l.exempt, l.gross,
           (SELECT count(*) FROM legal_document_lines y WHERE y.document_id = d.id AND y.amount < 0) AS decreasing,
           (SELECT string_agg(ai.number || ' от ' || to_char(ai.issued_on, 'DD.MM.YYYY'), '; '
                              ORDER BY ai.issued_on, ai.number)
            FROM legal_documents ai
            WHERE d.kind = 'upd' AND ai.kind = 'advance_invoice' AND ai.status = 'issued'
              AND ai.contract_id = d.contract_id AND ai.issued_on <= d.issued_on
              AND EXISTS (SELECT 1 FROM contract_allocations a
                          WHERE a.payment_id = ai.payment_id AND a.document_id = d.id AND a.kind = 'charge')
           ) AS advance_docs
    FROM legal_documents d
    JOIN counterparties c ON c.id = d.counterparty_id
    LEFT JOIN legal_documents o ON o.id = d.corrects_id
    LEFT JOIN payments p ON p.id = d.payment_id
    CROSS JOIN LATERAL (
        SELECT sum(x.amount_net) FILTER (WHERE x.vat_rate = '22%') AS net_22,
               sum(x.amount_net) FILTER (WHERE x.vat_rate = '20%') AS net_20,
               sum(x.amount_net) FILTER (WHERE x.vat_rate = '10%') AS net_10,
               sum(x.amount_net) FILTER (WHERE x.vat_rate = '0%') AS net_0,
               sum(x.vat) FILTER (WHERE x.vat_rate IN ('22%', '22/122')) AS vat_22,
               sum(x.vat) FILTER (WHERE x.vat_rate IN ('20%', '20/120')) AS vat_20,
               sum(x.vat) FILTER (WHERE x.vat_rate IN ('10%', '10/110')) AS vat_10,
               sum(x.amount) FILTER (WHERE x.vat_rate = 'без НДС') AS exempt, sum(x.amount) AS gross
        FROM legal_document_lines x
        -- a correction's lines are the signed differences (issue/ukd.py): only its increasing lines are sales
        WHERE x.document_id = d.id AND (d.kind <> 'ukd' OR x.amount > 0)) l
    WHERE d.status = 'issued' AND d.issued_on BETWEEN :f AND :t
      AND (d.kind IN ('upd', 'advance_invoice') OR (d.kind = 'ukd' AND o.kind = 'upd'))
    ORDER BY d.issued_on, d.number, d.id
"""


def _ref(number: str | None, on: date | None) -> str:
    return f"{number} от {on:%d.%m.%Y}" if number and on else ""


def payment_number(source: str | None, operation_id: str | None) -> str:
    """The payment order's number: the bank statement import keeps «ГГГГММДД/номер/счёт/вид» as the
    operation id (channels/bank_files/importer.py); other sources have no payment order number."""
    if source == "bank_1c" and operation_id and operation_id.count("/") >= 2:
        return operation_id.split("/")[1] or "б/н"
    return operation_id or "б/н"


def _row(no: int, r: dict[str, Any]) -> dict[str, Any]:
    kind = r["kind"]
    ukd = kind == "ukd"
    row: dict[str, Any] = {
        "no": no, "id": r["id"], "kind": kind, "code": CODES[kind],
        "invoice": _ref(r["orig_number"], r["orig_on"]) if ukd else _ref(r["number"], r["issued_on"]),
        "correction": _ref(r["number"], r["issued_on"]) if ukd else "",
        "buyer": r["buyer"], "buyer_ids": f"{r['inn']}/{r['kpp']}" if r["kpp"] else r["inn"],
        "payment_doc": "", "advance_docs": r["advance_docs"] or "", "currency": "", "issued_on": r["issued_on"],
        "total": r["gross"] if ukd else r["amount"],
    }
    if kind == "advance_invoice" and r["paid_on"] is not None:
        row["payment_doc"] = f"{payment_number(r['pay_source'], r['operation_id'])} от {r['paid_on']:%d.%m.%Y}"
    for key in MONEY_KEYS[1:]:
        value = r[key]
        # an advance's columns 14–16 stay empty: only 13б and the tax (17/18) are filled
        row[key] = None if kind == "advance_invoice" and key.startswith("net_") else value
    return row


async def sales_ledger(conn: AsyncConnection, date_from: date, date_to: date) -> dict[str, Any]:
    """The ledger's rows in chronological order and the totals; `excluded` counts what is not registered."""
    period = make_period(date_from, date_to)
    found = (await conn.execute(text(_SQL), {"f": period.date_from, "t": period.date_to})).mappings().all()
    rows, decreases = [], 0
    for r in found:
        if r["kind"] == "ukd":
            decreases += r["decreasing"] > 0
            if not r["gross"] or r["gross"] <= 0:
                continue
        rows.append(_row(len(rows) + 1, dict(r)))
    totals = {key: sum((r[key] or Decimal(0) for r in rows), Decimal("0.00")) for key in MONEY_KEYS}
    acts = (await conn.execute(text(
        "SELECT count(*) FROM legal_documents WHERE status = 'issued' AND kind = 'act' "
        "AND issued_on BETWEEN :f AND :t"), {"f": period.date_from, "t": period.date_to})).scalar_one()
    return {"date_from": period.date_from, "date_to": period.date_to, "rows": rows, "totals": totals,
            "excluded": {"ukd_decrease": decreases, "act": acts}}


def table(ledger: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows (with the totals row last) for CSV and PDF."""
    header = [f"{col} — {title}" for _, col, title in COLUMNS]
    body = [[r[key] for key, _, _ in COLUMNS] for r in ledger["rows"]]
    totals = ledger["totals"]
    lead = ["" for _ in range(len(COLUMNS) - len(MONEY_KEYS))]
    lead[COLUMNS.index(("buyer", "7", "Наименование покупателя"))] = "Всего"
    body.append([*lead, *(totals[k] for k in MONEY_KEYS)])
    return header, body
