"""The export of a printing for external print houses: the receipts of the batch as issued (their snapshots,
bundle by bundle, page by page), as CSV and as XML (`receipts_export.xsd` beside this module).

CSV: UTF-8 with a BOM (Excel opens it in Cyrillic), `;` between fields, CRLF line ends, amounts with a
decimal comma, dates as ДД.ММ.ГГГГ; one row per receipt, the services as groups of columns `service_K_…`
(K = 1…the most lines any receipt of the batch has). XML: the same data, amounts with a decimal point, dates
ISO 8601. Columns (and XML elements) are listed in COLUMNS.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

from aquabill.billing_core.periods import Period
from aquabill.channels.print import receipt_barcode

XSD = "receipts_export.xsd"
XMLNS = "urn:aquabill:receipts-export:1"
MONEY = ("opening", "charged", "recalculated", "paid", "closing")
PENALTY = ("opening", "charged", "storno", "paid", "closing")

# (column, what it holds) — the README's table
COLUMNS = [
    ("bundle", "номер пачки (файла PDF) в печати"),
    ("page", "страница в файле пачки"),
    ("account", "номер лицевого счёта"),
    ("holder", "владелец (ФИО)"),
    ("address", "адрес помещения"),
    ("postal_index", "почтовый индекс (пусто: в реестре не задан)"),
    ("period", "расчётный месяц ГГГГ-ММ"),
    ("issue", "номер выпуска квитанции (2 и далее — исправленная)"),
    ("opening", "долг (+) или аванс (−) на начало месяца, ₽"),
    ("charged", "начислено за месяц, ₽"),
    ("recalculated", "перерасчёт, ₽"),
    ("paid", "оплачено в месяце, ₽"),
    ("closing", "итого по услугам на конец месяца, ₽"),
    ("penalty", "пени к оплате, ₽"),
    ("to_pay", "итого к оплате, ₽"),
    ("due_date", "оплатить до (ДД.ММ.ГГГГ)"),
    ("payee", "получатель платежа"),
    ("payee_inn", "ИНН получателя"),
    ("payee_account", "расчётный счёт получателя"),
    ("payee_bic", "БИК банка получателя"),
    ("qr", "строка платёжного QR-кода (ГОСТ Р 56042-2014)"),
    ("barcode", "цифры штрихкода Code 128 (л/с, месяц, год, сумма в копейках)"),
    ("service_K", "услуга K: наименование"),
    ("service_K_code", "услуга K: код (пусто у строки аванса)"),
    ("service_K_volume", "услуга K: объём, м³"),
    ("service_K_tariff", "услуга K: тариф, ₽/м³"),
    ("service_K_opening … service_K_closing", "услуга K: на начало, начислено, перерасчёт, оплачено, итого, ₽"),
]
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _dec(value: Any, comma: bool) -> str:
    if value is None or value == "":
        return ""
    text = str(Decimal(str(value)))
    return text.replace(".", ",") if comma else text


def _date(value: str | None, iso: bool) -> str:
    if not value:
        return ""
    return value if iso else date.fromisoformat(value).strftime("%d.%m.%Y")


def barcode_of(snapshot: dict[str, Any]) -> str:
    period = Period.parse(snapshot["period"])
    return receipt_barcode(str(snapshot["account"]["number"]), period.month, period.year,
                           Decimal(str(snapshot["due"]))) or ""


def csv_header(services: int) -> list[str]:
    head = [c for c, _ in COLUMNS[:22]]
    for k in range(1, services + 1):
        head += [f"service_{k}", f"service_{k}_code", f"service_{k}_volume", f"service_{k}_tariff",
                 *(f"service_{k}_{m}" for m in MONEY)]
    return head


def csv_row(bundle: int, page: int, s: dict[str, Any], services: int) -> list[str]:
    payee = s.get("payee") or {}
    totals, account = s["totals"], s["account"]
    row = [str(bundle), str(page), account["number"], account.get("holder") or "", account.get("address") or "", "",
           s["period"], str(s.get("issue_no") or ""), *(_dec(totals[m], True) for m in MONEY),
           _dec(s["penalty"]["closing"], True), _dec(s["due"], True), _date(s.get("pay_by"), False),
           payee.get("name", ""), payee.get("inn", ""), payee.get("personal_acc", ""), payee.get("bic", ""),
           s.get("qr") or "", barcode_of(s)]
    for k in range(services):
        line = s["lines"][k] if k < len(s["lines"]) else None
        if line is None:
            row += [""] * (4 + len(MONEY))
            continue
        row += [line["service"], line.get("code") or "", _dec(line.get("volume"), True),
                _dec(line.get("tariff"), True), *(_dec(line[m], True) for m in MONEY)]
    return row


def write_csv(out: TextIO, services: int, pages: Iterable[tuple[int, int, dict[str, Any]]]) -> int:
    """The CSV (the BOM first) to a text file opened with newline=''; returns the rows written."""
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(csv_header(services))
    n = 0
    for bundle, page, snapshot in pages:
        writer.writerow(csv_row(bundle, page, snapshot, services))
        n += 1
    return n


def _t(value: Any) -> str:
    return escape(_XML_BAD.sub("", str(value)))


def _a(value: Any) -> str:
    return quoteattr(_XML_BAD.sub("", str(value)))


def _el(name: str, value: Any) -> str:
    return "" if value is None or value == "" else f"<{name}>{_t(value)}</{name}>"


def xml_receipt(bundle: int, page: int, s: dict[str, Any]) -> str:
    """One <receipt> element (see the XSD)."""
    account, payee = s["account"], s.get("payee")
    parts = [f"<receipt bundle=\"{bundle}\" page=\"{page}\" issue=\"{int(s.get('issue_no') or 1)}\">",
             _el("account", account["number"]), f"<holder>{_t(account.get('holder') or '')}</holder>",
             f"<address>{_t(account.get('address') or '')}</address>", _el("postalIndex", account.get("postal_index")),
             _el("period", s["period"])]
    if payee:
        parts.append(f"<payee name={_a(payee.get('name', ''))} inn={_a(payee.get('inn', ''))} "
                     f"kpp={_a(payee.get('kpp', '') or '')} account={_a(payee.get('personal_acc', ''))} "
                     f"bic={_a(payee.get('bic', ''))} bank={_a(payee.get('bank_name', ''))} "
                     f"corrAccount={_a(payee.get('corresp_acc', '') or '')}/>")
    parts.append("<services>")
    for line in s["lines"]:
        code = f" code={_a(line['code'])}" if line.get("code") else ""
        parts.append(f"<service name={_a(line['service'])}{code}>" + _el("volume", _dec(line.get("volume"), False))
                     + _el("tariff", _dec(line.get("tariff"), False))
                     + "".join(f"<{m}>{_dec(line[m], False)}</{m}>" for m in MONEY) + "</service>")
    parts.append("</services>")
    parts.append("<totals " + " ".join(f"{m}=\"{_dec(s['totals'][m], False)}\"" for m in MONEY) + "/>")
    parts.append("<penalty " + " ".join(f"{m}=\"{_dec(s['penalty'].get(m, 0), False)}\"" for m in PENALTY) + "/>")
    parts += [f"<toPay>{_dec(s['due'], False)}</toPay>", _el("dueDate", s.get("pay_by")), _el("qr", s.get("qr")),
              _el("barcode", barcode_of(s))]
    parts.append("</receipt>\n")
    return "".join(parts)


def xml_head(batch_id: str, period: str, total: int) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<receipts xmlns="{XMLNS}" batch={_a(batch_id)} '
            f'period={_a(period)} count="{int(total)}">\n')


XML_TAIL = "</receipts>\n"


def write_xml(out: TextIO, *, batch_id: str, period: str, total: int,
              pages: Iterable[tuple[int, int, dict[str, Any]]]) -> int:
    out.write(xml_head(batch_id, period, total))
    n = 0
    for bundle, page, snapshot in pages:
        out.write(xml_receipt(bundle, page, snapshot))
        n += 1
    out.write(XML_TAIL)
    return n


def csv_bytes(services: int, pages: list[tuple[int, int, dict[str, Any]]]) -> bytes:
    """The CSV in memory (tests, small batches)."""
    buf = io.StringIO(newline="")
    write_csv(buf, services, pages)
    return buf.getvalue().encode("utf-8")
