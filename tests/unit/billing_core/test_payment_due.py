"""When a month's charges are due (art. 155 part 1 of the Housing Code, `penalties.rules.payment_due`):
the 10th (or the contract's day) for months paid before March 2026, the 15th for every tenant from March 2026
(a contract may no longer change it); and the receipt's sentence made from the same rule."""

from datetime import date

import pytest

from aquabill.billing_core.penalties.rules import payment_due
from aquabill.billing_core.receipts.assemble import pay_by_text


@pytest.mark.parametrize(("period", "contract_day", "due", "by_contract"), [
    (date(2026, 1, 1), None, date(2026, 2, 10), False),
    (date(2026, 1, 31), 10, date(2026, 2, 10), False),
    (date(2026, 1, 1), 20, date(2026, 2, 20), True),  # a contract's day counted before March 2026
    (date(2019, 1, 1), 31, date(2019, 2, 28), True),  # past the month's end: its last day
    (date(2026, 2, 1), 10, date(2026, 3, 15), False),  # paid in March 2026: the new rule
    (date(2026, 12, 1), 10, date(2027, 1, 15), False),  # the contract's 10th no longer counts
    (date(2026, 12, 1), 25, date(2027, 1, 15), False),
    (date(2027, 6, 1), None, date(2027, 7, 15), False),
])
def test_due_day_by_the_dated_rule(period, contract_day, due, by_contract):
    got = payment_due(period, contract_day)
    assert (got.on, got.by_contract) == (due, by_contract)


def test_the_receipts_sentence_comes_from_the_rule():
    assert pay_by_text(payment_due(date(2026, 12, 1), 10)) == (
        "Оплатите до 15.01.2027 включительно: до 15-го числа месяца, следующего за расчётным "
        "(ч. 1 ст. 155 ЖК РФ в редакции, действующей с 01.03.2026).")
    assert pay_by_text(payment_due(date(2026, 1, 1), 10)) == (
        "Оплатите до 10.02.2026 включительно: до 10-го числа месяца, следующего за расчётным (ч. 1 ст. 155 ЖК РФ).")
    assert pay_by_text(payment_due(date(2025, 11, 1), 20)) == (
        "Оплатите до 20.12.2025 включительно: до 20-го числа месяца, следующего за расчётным (срок по договору).")
