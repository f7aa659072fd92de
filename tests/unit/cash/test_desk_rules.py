"""The cash desk's pure rules: VAT dated by the day of settlement, the receipt's barcode and QR read back, the
search field's kinds, receipt lines and their FFD tags, change, the commission's rounding, how a payment is
split over the dues, and the INN check of a supplier."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.billing_core.payments.qr import build_payment_string
from aquabill.billing_core.periods import Period
from aquabill.cash.codes import CodeError, account_candidates, classify, parse_barcode
from aquabill.cash.dues import DueLine, Dues, chosen, split
from aquabill.cash.lines import (
    ADVANCE,
    AGENT,
    COMMISSION,
    PENALTY,
    SERVICE,
    Part,
    Supplier,
    change_of,
    method_of,
    receipt_lines,
    register_items,
    total_of,
)
from aquabill.cash.outcomes import error_text, moment
from aquabill.cash.services import commission, inn_ok
from aquabill.cash.vat import vat_amount, vat_tag
from aquabill.channels.print.code128 import receipt_barcode

NOV = Period(2026, 11)


@pytest.mark.parametrize(("point_vat", "on", "advance", "tag"), [
    ("none", date(2026, 3, 1), False, 6),
    ("20", date(2025, 12, 31), False, 1),  # 20 % until 31.12.2025
    ("20", date(2026, 1, 1), False, 11),  # 22 % from 01.01.2026 (425-FZ)
    ("22", date(2025, 12, 31), False, 1),  # the rate of the day, whatever the setting says
    ("22", date(2026, 12, 7), False, 11),
    ("22", date(2026, 12, 7), True, 12),  # an advance: the calculated rate 22/122
    ("20", date(2025, 6, 1), True, 3),  # 20/120
    ("20/120", date(2026, 2, 1), False, 12),
    ("22/122", date(2025, 2, 1), False, 3),
    ("10", date(2026, 2, 1), False, 2),
    ("10", date(2026, 2, 1), True, 4),
    ("10/110", date(2026, 2, 1), False, 4),
    ("0", date(2026, 2, 1), False, 5),
    ("0", date(2026, 2, 1), True, 5),
    ("none", date(2026, 2, 1), True, 6),
])
def test_vat_tag_is_dated_by_the_day_of_settlement(point_vat, on, advance, tag):
    assert vat_tag(point_vat, on, advance=advance) == tag


@pytest.mark.parametrize(("amount", "tag", "vat"), [
    (D("812.40"), 11, D("146.50")),  # 812.40 × 22 / 122 = 146.4983…
    (D("100.00"), 1, D("16.67")),  # 100 × 20 / 120 = 16.666…
    (D("0.05"), 11, D("0.01")),  # 0.009016… rounds half-up to 0.01
    (D("100.00"), 12, D("18.03")),
    (D("100.00"), 5, D("0.00")),
    (D("100.00"), 6, None),
])
def test_vat_amount_rounds_once_half_up(amount, tag, vat):
    assert vat_amount(amount, tag) == vat


def test_barcode_of_the_receipt_reads_back():
    digits = receipt_barcode("00100127", 11, 2026, D("3540.00"))
    assert digits == "000000100127" "1126" "0000354000"
    scanned = parse_barcode(digits)
    assert (scanned.kind, scanned.account, scanned.period, scanned.amount) == (
        "barcode", "000000100127", NOV, D("3540.00"))
    assert account_candidates(scanned.account)[:3] == ["100127", "0100127", "00100127"]
    assert account_candidates(scanned.account)[-1] == "000000100127"
    assert account_candidates("000000000000") == []


@pytest.mark.parametrize(("raw", "message"), [
    ("00000010012713260000354000", "неверный месяц 13"),
    ("0000001001271126000035400", None),  # 25 digits: a number, not a barcode
])
def test_barcode_errors(raw, message):
    if message is None:
        assert classify(raw).kind == "number"
        return
    with pytest.raises(CodeError, match=message):
        classify(raw)


def test_classify_the_search_field():
    qr = build_payment_string({"Name": "МУП Водоканал", "PersonalAcc": "40702810900000000001",
                               "BankName": "ПАО Сбербанк", "BIC": "044525225", "CorrespAcc": "30101810400000000225",
                               "Sum": D("812.40"), "PersAcc": "00100127", "PaymPeriod": NOV})
    scanned = classify(qr + "\r\n")
    assert (scanned.kind, scanned.account, scanned.period, scanned.amount) == ("qr", "00100127", NOV, D("812.40"))
    assert classify(" 00100127 ").kind == "number" and classify("00100127").text == "00100127"
    assert classify("Ленина 1").kind == "text"
    assert classify("").kind == "text"
    with pytest.raises(CodeError, match="не принят"):
        classify("ST00012|Name=x")
    no_account = build_payment_string({"Name": "МУП", "PersonalAcc": "40702810900000000001", "BankName": "Банк",
                                       "BIC": "044525225", "CorrespAcc": "30101810400000000225"})
    with pytest.raises(CodeError, match="PersAcc"):
        classify(no_account)


@pytest.mark.parametrize(("month", "on", "method"), [
    (Period(2026, 11), date(2026, 12, 7), 4),  # the previous month: paid in full
    (Period(2026, 12), date(2026, 12, 7), 4),  # the current month (billed early)
    (Period(2026, 10), date(2026, 12, 7), 7),  # older arrears: оплата кредита
    (Period(2025, 12), date(2026, 1, 15), 4),
    (Period(2025, 11), date(2026, 1, 15), 7),
    (None, date(2026, 12, 7), 1),  # an advance: предоплата 100 %
])
def test_payment_method_of_a_month(month, on, method):
    assert method_of(month, on) == method


def test_receipt_lines_carry_the_ffd_tags():
    parts = [Part(SERVICE, D("812.40"), NOV, 3, "Холодное водоснабжение"),
             Part(SERVICE, D("100.00"), Period(2026, 9), 4, "Водоотведение"),
             Part(PENALTY, D("12.34")), Part(ADVANCE, D("75.26")), Part(SERVICE, D("0.00"), NOV, 5, "Пусто")]
    lines = receipt_lines(parts, account_number="00100127", point_vat="22", on=date(2026, 12, 7))
    assert [x["name"] for x in lines] == [
        "Холодное водоснабжение, 11.2026, л/с 00100127", "Водоотведение, 09.2026, л/с 00100127",
        "Пени за несвоевременную оплату, л/с 00100127", "Аванс за коммунальные услуги, л/с 00100127"]
    assert [(x["vat"], x["subject"], x["method"], x["measure"]) for x in lines] == [
        (11, 4, 4, 0), (11, 4, 7, 0), (6, 13, 4, 0), (12, 4, 1, 0)]
    assert [x["vat_sum"] for x in lines] == ["146.50", "18.03", None, "13.57"]
    assert total_of(lines) == D("1000.00")
    items = register_items(lines)
    assert items[0] == {"name": "Холодное водоснабжение, 11.2026, л/с 00100127", "price": "812.40", "quantity": "1",
                        "amount": "812.40", "vat": 11, "subject": 4, "method": 4, "measure": 0, "agent": None}


def test_long_names_are_cut_to_128():
    long = Part(SERVICE, D("1.00"), NOV, 1, "Очень длинное название услуги " * 10)
    name = receipt_lines([long], account_number="00100127", point_vat="none", on=date(2026, 12, 7))[0]["name"]
    assert len(name) == 128 and name.endswith("…")


def test_third_party_lines_have_the_agent_tags():
    supplier = Supplier("ООО «ЭкоСервис»", "7707083893", "+78001234567")
    lines = receipt_lines([Part(AGENT, D("500.00"), text="Вывоз ТКО, л/с 555"),
                           Part(COMMISSION, D("10.00"), text="Комиссия за приём платежа: Вывоз ТКО")],
                          account_number="", point_vat="none", on=date(2026, 12, 7), supplier=supplier)
    agent, fee = lines
    assert (agent["subject"], agent["method"], agent["vat"]) == (10, 4, 6)
    assert agent["agent"] == {"sign": 4, "supplier": {"name": "ООО «ЭкоСервис»", "inn": "7707083893",
                                                      "phones": ["+78001234567"]}}
    assert (fee["subject"], fee["method"], fee["vat"], fee["agent"]) == (11, 4, 6, None)
    assert agent["name"] == "Вывоз ТКО, л/с 555"


@pytest.mark.parametrize(("given", "total", "change"), [
    (D("1000.00"), D("812.40"), D("187.60")), (D("812.40"), D("812.40"), D("0.00")), (None, D("5.00"), D("0.00"))])
def test_change(given, total, change):
    assert change_of(given, total) == change


def test_change_refuses_too_little():
    with pytest.raises(ValueError):
        change_of(D("100.00"), D("100.01"))


@pytest.mark.parametrize(("amount", "percent", "minimum", "fee"), [
    (D("500.00"), D("1"), D("10.00"), D("10.00")),  # 5.00 < the minimum
    (D("1234.50"), D("1"), D("10.00"), D("12.35")),  # 12.345 → 12.35 (half-up, once)
    (D("1234.40"), D("1"), D("10.00"), D("12.34")),
    (D("333.33"), D("1.5"), D("0"), D("5.00")),  # 4.99995 → 5.00
    (D("100.00"), D("0"), D("0"), D("0.00")),
    (D("100.00"), D("0"), D("15.00"), D("15.00")),
])
def test_commission_rounding(amount, percent, minimum, fee):
    assert commission(amount, percent, minimum) == fee


@pytest.mark.parametrize(("inn", "ok"), [
    ("7707083893", True), ("7707083894", False), ("500100732259", True), ("500100732258", False),
    ("0007083893", False), ("770708389", False), ("77070838931", False), ("abcdefghij", False)])
def test_inn_check(inn, ok):
    assert inn_ok(inn) is ok


DUES = Dues((DueLine(Period(2026, 10), 1, "cold_water", "Холодное водоснабжение", D("300.00")),
             DueLine(Period(2026, 10), 2, "sewage", "Водоотведение", D("200.00")),
             DueLine(NOV, 1, "cold_water", "Холодное водоснабжение", D("310.00"))),
            penalty=D("15.00"), advance=D("50.00"))


def test_dues_total_and_split_in_allocation_order():
    assert DUES.total == D("775.00")  # 810 + 15 − 50
    parts = split(DUES, D("1000.00"))
    # the advance covers the oldest 50 first; then debts, the penalty, the rest is an advance
    assert [(p.kind, str(p.month) if p.month else None, p.amount) for p in parts] == [
        (SERVICE, "2026-10", D("250.00")), (SERVICE, "2026-10", D("200.00")), (SERVICE, "2026-11", D("310.00")),
        (PENALTY, None, D("15.00")), (ADVANCE, None, D("225.00"))]
    assert sum(p.amount for p in parts) == D("1000.00")
    partial = split(DUES, D("400.00"))
    assert [(p.kind, p.amount) for p in partial] == [(SERVICE, D("250.00")), (SERVICE, D("150.00"))]


def test_chosen_lines_are_paid_in_full():
    parts = chosen(DUES, ["2026-11:1", "penalty", "2026-11:1"])
    assert [(p.kind, p.amount, p.service_id) for p in parts] == [(SERVICE, D("310.00"), 1), (PENALTY, D("15.00"), None)]
    with pytest.raises(KeyError):
        chosen(DUES, ["2026-09:1"])


def test_agent_errors_in_russian():
    assert error_text({"code": "card_declined", "message": "Недостаточно средств"}) == \
        "Оплата картой отклонена: Недостаточно средств"
    assert error_text({"code": "register_error", "message": "Нет бумаги"}) == "Ошибка кассы: Нет бумаги"
    assert error_text({"code": "no_register"}).startswith("Касса не отвечает")
    assert error_text(None) == "Касса сообщила об ошибке"
    assert moment("2026-12-07T10:15:00+03:00").utcoffset().total_seconds() == 3 * 3600
    assert moment("not a time") is None
