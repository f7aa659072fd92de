"""The bill (счёт на оплату) to a legal entity as a PDF, A4 portrait: the payee's bank details in the usual
table, the bill's number and date, the parties, the lines, totals with the VAT, the due day, and a payment QR
code of ГОСТ Р 56042-2014 (the «ST00012» string: Name, PersonalAcc, BankName, BIC, CorrespAcc, Sum in kopecks,
Purpose, PayeeINN, KPP — built by `billing_core.payments.qr.build_payment_string`, drawn from `print.qr`).
The figures are the issued bill's; same bill → same bytes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aquabill.billing_core.payments.qr import QrError, build_payment_string
from aquabill.channels.print.legal_pdf_common import Sheet, day, money, number
from aquabill.channels.print.qr import QrTooLong, payment_qr


def bill_purpose(doc: dict[str, Any]) -> str:
    vat = "без НДС" if all(ln["vat_rate"] == "без НДС" for ln in doc["lines"]) else \
        f"в т.ч. НДС {money(doc['vat']).replace(chr(160), ' ')}"
    if doc.get("part"):  # an intermediate payment's bill: its one line names the payment, the contract and the day
        return f"Оплата по счёту № {doc['number']} от {day(doc['issued_on'])}: {doc['lines'][0]['name']}, {vat}"
    return (f"Оплата по счёту № {doc['number']} от {day(doc['issued_on'])}, договор № {doc['contract_number']}, "
            f"{vat}")


def payment_string(data: dict[str, Any]) -> str | None:
    s, doc = data["seller"], data["document"]
    fields = {"Name": s["name"], "PersonalAcc": s["account"], "BankName": s["bank_name"], "BIC": s["bic"],
              "CorrespAcc": s["corr_account"] or "0", "Sum": Decimal(str(doc["amount"])),
              "Purpose": bill_purpose(doc)[:210], "PayeeINN": s["inn"], "KPP": s["kpp"],
              "PayerINN": data["buyer"]["inn"]}
    try:
        return build_payment_string(fields)
    except QrError:
        return None


def render_bill(data: dict[str, Any]) -> bytes:
    doc, seller, buyer = data["document"], data["seller"], data["buyer"]
    sheet = Sheet(title=f"Счёт на оплату № {doc['number']}")
    left, width = 15.0, sheet.width - 30.0
    y = 15.0
    y = sheet.table(left, y, [width * 0.55, width * 0.12, width * 0.33], [
        [seller["bank_name"], "БИК", seller["bic"]],
        ["Банк получателя", "Сч. №", seller["corr_account"] or "—"],
        [f"ИНН {seller['inn']}    КПП {seller['kpp']}", "Сч. №", seller["account"]],
        [f"{seller['name']}\nПолучатель", "", ""]], size=8, header_rows=0, aligns=["l", "l", "l"])
    y += 8
    sheet.text(left, y, f"Счёт на оплату № {doc['number']} от {day(doc['issued_on'])}", size=13, face="bold")
    y += 3
    sheet.line(left, y, left + width, y, 0.5)
    y += 6
    for label, value in (("Поставщик:", f"{seller['name']}, ИНН {seller['inn']}, КПП {seller['kpp']}, "
                                        f"{seller['address']}"),
                         ("Покупатель:", f"{buyer['name']}, ИНН {buyer['inn']}"
                                         f"{', КПП ' + buyer['kpp'] if buyer['kpp'] else ''}, {buyer['address']}"),
                         ("Основание:", f"Договор № {doc['contract_number']} от {day(doc['contract_signed_on'])}")):
        sheet.text(left, y, label, size=8)
        y = max(y + 4.5, sheet.para(left + 25, y, value, width - 25, size=8, face="bold"))
    y += 2
    rows = [["№", "Наименование услуги", "Кол-во", "Ед.", "Цена без НДС", "Ставка НДС", "Сумма НДС", "Сумма"]]
    for ln in doc["lines"]:
        rows.append([str(ln["line_no"]), ln["name"], number(ln.get("quantity")), ln.get("unit_name") or "",
                     number(ln.get("price")), ln["vat_rate"], money(ln["vat"]), money(ln["amount"])])
    w = [8, 62, 18, 10, 22, 17, 20, 23]
    k = width / sum(w)
    y = sheet.table(left, y, [v * k for v in w], rows, size=7.5,
                    aligns=["c", "l", "r", "c", "r", "c", "r", "r"])
    y += 5
    exempt = all(ln["vat_rate"] == "без НДС" for ln in doc["lines"])
    for label, value in (("Итого без НДС:", money(doc["amount_net"])),
                         ("НДС:" if not exempt else "Без налога (НДС)", money(doc["vat"]) if not exempt else "—"),
                         ("Всего к оплате:", money(doc["amount"]))):
        sheet.text(left + width - 40, y, label, size=9, face="bold", align="right")
        sheet.text(left + width, y, value, size=9, face="bold", align="right")
        y += 5
    y += 2
    sheet.para(left, y, f"Всего наименований {len(doc['lines'])}, на сумму {money(doc['amount'])} руб.", width,
               size=8)
    y += 6
    if doc.get("due_on"):
        sheet.text(left, y, f"Оплатить до {day(doc['due_on'])} (условия оплаты договора).", size=9, face="bold")
        y += 8
    qr_text = payment_string(data)
    if qr_text:
        try:
            symbol = payment_qr(qr_text)
            sheet.bitmap(left, y, 32, symbol.size, symbol.bits)
            sheet.para(left + 36, y + 4, "QR-код для оплаты (ГОСТ Р 56042-2014): отсканируйте в приложении банка",
                       width - 36, size=8)
            y += 36
        except QrTooLong:
            pass
    signer = data["signer"]
    y += 4
    for label in ("Руководитель", "Бухгалтер"):
        sheet.text(left, y, label, size=9, face="bold")
        sheet.line(left + 30, y + 1, left + 90, y + 1, 0.2)
        sheet.text(left + 95, y, signer["short"], size=9)
        y += 9
    if doc.get("status") == "cancelled":
        sheet.text(sheet.width / 2, 9, f"АННУЛИРОВАН: {doc.get('cancel_reason', '')}", size=9, face="bold",
                   align="center")
    return sheet.finish()
