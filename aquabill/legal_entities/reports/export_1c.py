"""The export of a period's documents to legal entities (with their lines and VAT) and the contracts' payments
for 1C — as XML of our documented structure (`export_1c.xsd`, namespace `urn:aquabill:legal-export:1`, UTF-8)
and as one CSV (UTF-8 with BOM, «;», see `csv_out`).

What is exported: every document ISSUED in the period (`issued_on` within it) of any kind — bill, upd, act,
advance_invoice, ukd — with its status (a document cancelled later comes with Статус="cancelled" so that the
receiving side can mark its copy), and every payment identified to a contract (`payments.contract_id`) dated
in the period, with its status ('identified' or 'storno'); the counterparties and contracts they refer to come
once each. Ids are our database ids: stable, so a repeated export of the same period updates rather than
duplicates on the 1C side (match by Ид). Three queries for the whole period (documents, their lines, payments).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from importlib.resources import files
from typing import Any

from lxml import etree
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.receipts.requisites import load_requisites
from aquabill.legal_entities.reports.csv_out import to_csv
from aquabill.legal_entities.reports.periods import make_period
from aquabill.legal_entities.reports.sales_ledger import payment_number

NS = "urn:aquabill:legal-export:1"
VERSION = "1.0"
SCHEMA_FILE = "export_1c.xsd"
KIND_NAMES = {"bill": "Счёт на оплату", "upd": "УПД", "act": "Акт", "advance_invoice": "Счёт-фактура на аванс",
              "ukd": "УКД"}

_DOCUMENTS = """
    SELECT d.id, d.kind, d.number, d.issued_on, d.period, d.contract_id, d.counterparty_id, d.status, d.function,
           d.amount_net, d.vat, d.amount, d.due_on, d.corrects_id, d.payment_id, d.file_name
    FROM legal_documents d WHERE d.issued_on BETWEEN :f AND :t ORDER BY d.issued_on, d.id
"""
_LINES = """
    SELECT document_id, line_no, name, unit_code, unit_name, quantity, price, amount_net, vat_rate, vat, amount,
           period
    FROM legal_document_lines WHERE document_id = ANY(:ids) ORDER BY document_id, line_no
"""
_PAYMENTS = """
    SELECT p.id, p.paid_on, p.source, p.operation_id, p.amount, p.contract_id, p.counterparty_id, p.status,
           p.payer, p.purpose
    FROM payments p WHERE p.contract_id IS NOT NULL AND p.paid_on BETWEEN :f AND :t
      AND p.status IN ('identified', 'storno') ORDER BY p.paid_on, p.id
"""
_CONTRACTS = """
    SELECT k.id, k.number, k.signed_on, k.counterparty_id FROM contracts k WHERE k.id = ANY(:ids) ORDER BY k.id
"""
_PARTIES = """
    SELECT c.id, c.kind, c.name, c.inn, c.kpp, c.ogrn FROM counterparties c WHERE c.id = ANY(:ids) ORDER BY c.id
"""


async def collect(conn: AsyncConnection, date_from: date, date_to: date) -> dict[str, Any]:
    """The period's data as plain dicts: {date_from, date_to, organisation, counterparties, contracts,
    documents (each with `lines`), payments}."""
    period = make_period(date_from, date_to)
    params = {"f": period.date_from, "t": period.date_to}
    documents = [dict(r) for r in (await conn.execute(text(_DOCUMENTS), params)).mappings()]
    by_id = {d["id"]: d for d in documents}
    for d in documents:
        d["lines"] = []
    if documents:
        for line in (await conn.execute(text(_LINES), {"ids": list(by_id)})).mappings():
            by_id[line["document_id"]]["lines"].append(dict(line))
    payments = [dict(r) for r in (await conn.execute(text(_PAYMENTS), params)).mappings()]
    contract_ids = sorted({d["contract_id"] for d in documents} | {p["contract_id"] for p in payments})
    contracts = [dict(r) for r in (await conn.execute(text(_CONTRACTS), {"ids": contract_ids})).mappings()]
    party_ids = sorted({c["counterparty_id"] for c in contracts} | {d["counterparty_id"] for d in documents})
    parties = [dict(r) for r in (await conn.execute(text(_PARTIES), {"ids": party_ids})).mappings()]
    requisites = await load_requisites(conn)
    return {"date_from": period.date_from, "date_to": period.date_to, "organisation": requisites,
            "counterparties": parties, "contracts": contracts, "documents": documents, "payments": payments}


def _s(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value.as_tuple().exponent >= -2 else format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _el(parent: etree._Element, tag: str, **attrs: Any) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS}}}{tag}", {k: _s(v) for k, v in attrs.items()
                                                        if v is not None and v != ""})


def build_xml(data: dict[str, Any], *, formed_at: datetime) -> bytes:
    root = etree.Element(f"{{{NS}}}Выгрузка", nsmap={None: NS})
    for k, v in (("ВерсияФормата", VERSION), ("ДатаФормирования", formed_at.replace(microsecond=0, tzinfo=None)),
                 ("НачалоПериода", data["date_from"]), ("КонецПериода", data["date_to"])):
        root.set(k, _s(v))
    org = data["organisation"]
    if org is not None:
        _el(root, "Организация", Наименование=org.name, ИНН=org.inn, КПП=org.kpp)
    holder = _el(root, "Контрагенты")
    for c in data["counterparties"]:
        _el(holder, "Контрагент", Ид=c["id"], Вид=c["kind"], Наименование=c["name"], ИНН=c["inn"], КПП=c["kpp"],
            ОГРН=c["ogrn"])
    holder = _el(root, "Договоры")
    for k in data["contracts"]:
        _el(holder, "Договор", Ид=k["id"], Номер=k["number"], Дата=k["signed_on"], КонтрагентИд=k["counterparty_id"])
    holder = _el(root, "Документы")
    for d in data["documents"]:
        doc = _el(holder, "Документ", Ид=d["id"], Вид=d["kind"], Номер=d["number"], Дата=d["issued_on"],
                  Период=d["period"], Статус=d["status"], ДоговорИд=d["contract_id"],
                  КонтрагентИд=d["counterparty_id"], Функция=d["function"], СуммаБезНДС=d["amount_net"],
                  НДС=d["vat"], Сумма=d["amount"], СрокОплаты=d["due_on"], ИсправляетИд=d["corrects_id"],
                  ПлатежИд=d["payment_id"], ИмяФайлаФНС=d["file_name"])
        for line in d["lines"]:
            _el(doc, "Строка", НомерСтроки=line["line_no"], Наименование=line["name"], КодЕдИзм=line["unit_code"],
                ЕдИзм=line["unit_name"], Количество=line["quantity"], ЦенаБезНДС=line["price"],
                СуммаБезНДС=line["amount_net"], СтавкаНДС=line["vat_rate"], НДС=line["vat"], Сумма=line["amount"],
                Период=line["period"])
    holder = _el(root, "Платежи")
    for p in data["payments"]:
        _el(holder, "Платеж", Ид=p["id"], Дата=p["paid_on"], НомерПП=payment_number(p["source"], p["operation_id"]),
            Сумма=p["amount"], Статус=p["status"], ДоговорИд=p["contract_id"], КонтрагентИд=p["counterparty_id"],
            Плательщик=p["payer"][:1000], НазначениеПлатежа=p["purpose"][:1000])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(files("aquabill.legal_entities.reports").joinpath(SCHEMA_FILE)
                                            .read_bytes()))


def ensure_valid(content: bytes) -> None:
    xsd = schema()
    root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    if not xsd.validate(root):
        shown = "; ".join(f"строка {e.line}: {e.message}" for e in list(xsd.error_log)[:10])
        raise Invalid(f"Выгрузка не соответствует схеме {SCHEMA_FILE}: {shown}", field="xml")


CSV_HEADER = ("Запись", "Ид", "Вид", "Номер", "Дата", "Статус", "Договор", "Дата договора", "Контрагент", "ИНН",
              "КПП", "Строка", "Наименование", "Ед. изм.", "Количество", "Цена без НДС", "Сумма без НДС",
              "Ставка НДС", "НДС", "Сумма", "Период", "Назначение платежа")


def build_csv(data: dict[str, Any]) -> bytes:
    """One row per document line (the document's fields repeated) and one per payment."""
    contracts = {k["id"]: k for k in data["contracts"]}
    parties = {c["id"]: c for c in data["counterparties"]}
    rows: list[list[Any]] = []
    for d in data["documents"]:
        k, c = contracts[d["contract_id"]], parties[d["counterparty_id"]]
        head = ["Документ", d["id"], KIND_NAMES[d["kind"]], d["number"], d["issued_on"], d["status"], k["number"],
                k["signed_on"], c["name"], c["inn"], c["kpp"]]
        for line in d["lines"] or [None]:
            if line is None:
                rows.append([*head, "", "", "", None, None, d["amount_net"], "", d["vat"], d["amount"], d["period"],
                             ""])
                continue
            rows.append([*head, line["line_no"], line["name"], line["unit_name"], line["quantity"], line["price"],
                         line["amount_net"], line["vat_rate"], line["vat"], line["amount"], line["period"], ""])
    for p in data["payments"]:
        k = contracts[p["contract_id"]]
        c = parties.get(k["counterparty_id"])
        rows.append(["Платёж", p["id"], "Платёжное поручение", payment_number(p["source"], p["operation_id"]),
                     p["paid_on"], p["status"], k["number"], k["signed_on"], c["name"] if c else p["payer"],
                     c["inn"] if c else "", c["kpp"] if c else "", "", "", "", None, None, None, "", None,
                     p["amount"], None, p["purpose"]])
    return to_csv(CSV_HEADER, rows)
