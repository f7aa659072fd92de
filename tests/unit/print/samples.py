"""Receipts built by hand for the print tests (no database): a realistic one with a payee and its QR."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal as D

from aquabill.billing_core.payments.qr import QrEncoding, build_payment_string
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import PayeeRequisites, Receipt, ReceiptLine
from aquabill.channels.print import ReceiptLayout

PAYEE = PayeeRequisites(name="МУП «Водоканал г. Приозёрска»", personal_acc="40702810900000000001",
                        bank_name="ПАО Сбербанк", bic="044525225", corresp_acc="30101810400000000225",
                        inn="7707083893", kpp="773601001", address="188760, г. Приозёрск, ул. Калинина, д. 11",
                        phone="+7 (813) 793-12-34", email="abonent@vodokanal.example")
ADDRESS = ("188760, Ленинградская обл., Приозерский р-н, г. Приозёрск, ул. Героев Советского Союза "
           "Маргелова, д. 112, корп. 3, кв. 147")
LAYOUT = ReceiptLayout(tenant_name="МУП «Водоканал г. Приозёрска»", header_text="Водоснабжение и водоотведение",
                       notes="Показания счётчиков передавайте с 15 по 25 число.",
                       footer_text="188760, г. Приозёрск, ул. Калинина, д. 11",
                       contact_lines="Абонентский отдел: +7 (813) 793-12-35\nАварийная служба: +7 (813) 793-00-01")
MONEY = ("opening", "charged", "recalculated", "paid", "closing")


def _line(name: str, code: str, vol: str, tariff: str, opening: str, charged: str, recalc: str,
          paid: str) -> ReceiptLine:
    o, c, r, p = D(opening), D(charged), D(recalc), D(paid)
    return ReceiptLine(name, code, D(vol), D(tariff), o, c, r, p, o + c + r - p)


def receipt(number: str = "00100123", *, encoding: QrEncoding = QrEncoding.UTF8, payee: bool = True,
            address: str = ADDRESS, extra_kopecks: int = 0) -> Receipt:
    period = Period(2026, 5)
    lines = [_line("Холодное водоснабжение", "cold_water", "6.000", "52.3400", "1200.00", "314.04", "0.00",
                   "1200.00"),
             _line("Водоотведение", "sewage", "10.000", "38.1100", "800.00", "381.10", "-45.20", "800.00")]
    totals = {k: sum((getattr(x, k) for x in lines), D("0.00")) for k in MONEY}
    penalty = {"opening": D("12.40"), "charged": D("3.10"), "storno": D("0.00"), "paid": D("0.00"),
               "closing": D("15.50")}
    due = totals["closing"] + penalty["closing"] + D(extra_kopecks) / 100
    account = {"id": 1, "number": number, "holder": "Константинопольская Анастасия Владимировна",
               "address": address, "area_m2": D("52.40")}
    r = Receipt(period, account, PAYEE if payee else None, lines, totals, penalty, due, pay_by=date(2026, 6, 15),
                pay_by_text="Оплатите до 15.06.2026 включительно: до 15-го числа месяца, следующего за расчётным.")
    if not payee:
        return dataclasses.replace(r, qr_problem="Не заданы реквизиты получателя платежа")
    qr = build_payment_string({
        "Name": PAYEE.name, "PersonalAcc": PAYEE.personal_acc, "BankName": PAYEE.bank_name, "BIC": PAYEE.bic,
        "CorrespAcc": PAYEE.corresp_acc, "PayeeINN": PAYEE.inn, "KPP": PAYEE.kpp, "Sum": due, "PersAcc": number,
        "PaymPeriod": period, "Purpose": f"Оплата за 05.2026, л/с {number}", "PayerAddress": address},
        encoding=encoding)
    return dataclasses.replace(r, qr=qr)
