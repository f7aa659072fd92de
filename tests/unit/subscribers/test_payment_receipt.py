"""The 54-FZ receipt lines of an online payment and what the payer types (pure)."""

from decimal import Decimal as D

import pytest

from aquabill.base.errors import Invalid
from aquabill.subscribers.acquirer import Receipt, ReceiptItem
from aquabill.subscribers.payment_receipt import (
    ADVANCE_TEXT,
    PENALTY_TEXT,
    Due,
    DueLine,
    cancel_text,
    check_amount,
    mask_contact,
    parse_contact,
    receipt_items,
    refund_items,
)

COLD, SEWAGE = ("cold_water", "Холодное водоснабжение"), ("sewage", "Водоотведение")
# October: cold 300, sewage 200; November: cold 310, sewage 210 (allocation order: month, then service order)
DUE = Due((DueLine(*COLD, D("300.00")), DueLine(*SEWAGE, D("200.00")), DueLine(*COLD, D("310.00")),
           DueLine(*SEWAGE, D("210.00"))))


def vat(code: str) -> str:
    return {"sewage": "22"}.get(code, "none")


def lines(items):
    return [(i.description, str(i.amount), i.vat, i.payment_mode, i.payment_subject) for i in items]


def test_the_whole_debt_is_one_line_per_service():
    assert DUE.total == D("1020.00")
    assert lines(receipt_items(DUE, D("1020.00"), vat)) == [
        ("Холодное водоснабжение", "610.00", "none", "full_payment", "service"),
        ("Водоотведение", "410.00", "22", "full_payment", "service")]


def test_a_part_covers_the_oldest_debts_first():
    assert lines(receipt_items(DUE, D("400.00"), vat)) == [
        ("Холодное водоснабжение", "300.00", "none", "full_payment", "service"),
        ("Водоотведение", "100.00", "22", "full_payment", "service")]


def test_the_accounts_advance_covers_the_oldest_debt_before_the_payment():
    due = Due(DUE.lines, advance=D("350.00"))
    assert due.total == D("670.00")
    # the advance takes October's cold water and 50 of its sewage; the payment covers the rest in order
    assert lines(receipt_items(due, D("670.00"), vat)) == [
        ("Водоотведение", "360.00", "22", "full_payment", "service"),
        ("Холодное водоснабжение", "310.00", "none", "full_payment", "service")]


def test_penalties_come_after_the_services_and_the_rest_is_an_advance():
    due = Due((DueLine(*COLD, D("100.00")),), penalty=D("12.34"))
    items = receipt_items(due, D("200.00"), lambda code: "20")
    assert lines(items) == [("Холодное водоснабжение", "100.00", "20", "full_payment", "service"),
                            (PENALTY_TEXT, "12.34", "none", "full_payment", "another"),
                            (ADVANCE_TEXT, "87.66", "20/120", "advance", "payment")]
    assert sum(i.amount for i in items) == D("200.00")


def test_nothing_due_is_all_advance():
    assert lines(receipt_items(Due(()), D("500.00"), lambda code: "none")) == [
        (ADVANCE_TEXT, "500.00", "none", "advance", "payment")]


def test_a_refund_takes_the_last_lines_first():
    receipt = Receipt((ReceiptItem("Холодное водоснабжение", D("300.00"), "none"),
                       ReceiptItem("Водоотведение", D("200.00"), "none"),
                       ReceiptItem(ADVANCE_TEXT, D("50.00"), "none", "advance", "payment")), "a@b.ru")
    assert lines(refund_items(receipt, D("100.00"))) == [
        ("Водоотведение", "50.00", "none", "full_payment", "service"),
        (ADVANCE_TEXT, "50.00", "none", "advance", "payment")]
    assert sum(i.amount for i in refund_items(receipt, D("550.00"))) == D("550.00")


@pytest.mark.parametrize("raw, expected", [
    ("Ivanov@Mail.RU ", ("ivanov@mail.ru", None)),
    ("8 (916) 123-45-67", (None, "+79161234567")),
    ("+7 916 123 45 67", (None, "+79161234567")),
])
def test_a_receipt_contact_is_an_email_or_a_mobile(raw, expected):
    assert parse_contact(raw) == expected


@pytest.mark.parametrize("raw", ["", "ivanov@", "12345", "+7 916 123 45 67 8"])
def test_a_bad_or_missing_contact_is_refused(raw):
    with pytest.raises(Invalid) as exc:
        parse_contact(raw)
    assert exc.value.field == "contact"


@pytest.mark.parametrize("raw, ok", [("1.00", True), ("700000.00", True), ("0.99", False), ("700000.01", False),
                                     ("10.005", False), ("NaN", False)])
def test_amount_bounds(raw, ok):
    if ok:
        assert check_amount(D(raw)) == D(raw)
    else:
        with pytest.raises(Invalid):
            check_amount(D(raw))


def test_cancellation_reasons_in_russian():
    assert cancel_text("payment_network", "insufficient_funds") == "Недостаточно средств"
    assert cancel_text("yoo_kassa", "something_new") == "Платёж отменён (причина: something_new)"


def test_a_contact_is_masked_for_a_public_page():
    assert mask_contact("ivanov@mail.ru") == "iv***@mail.ru"
    assert mask_contact("+79161234567") == "+7 916 ***-**-67"
    assert mask_contact(None) == ""
