"""Intermediate payments' bills, pure: the share rounded once, the due day (31 and days past the month's length →
its last day), the purpose text, the allowed issue days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aquabill.base.errors import Invalid
from aquabill.legal_entities.contracts import check_payment_terms
from aquabill.legal_entities.issue.intermediate import (
    check_issue_day,
    part_due_on,
    percent_text,
    plan_parts,
    previous_month,
    purpose,
)

DEC = date(2026, 12, 1)


def test_the_worked_example():
    terms = check_payment_terms(10, [("35", 18), ("50", 31)])
    first, second = plan_parts(Decimal("12345.67"), terms, DEC)
    # 12 345.67 × 35 % = 4 320.9845 → 4 320.98; × 50 % = 6 172.835 → 6 172.84 (half-up)
    assert (first.part, first.amount, first.due_on) == (1, Decimal("4320.98"), date(2026, 12, 18))
    assert (second.part, second.amount, second.due_on) == (2, Decimal("6172.84"), date(2026, 12, 31))
    assert purpose(first, DEC, "ВК-1") == "Промежуточный платёж 35 % за декабрь 2026 г. по договору № ВК-1 до 18.12.2026"


@pytest.mark.parametrize(("period", "day", "due"), [
    (date(2026, 2, 1), 31, date(2026, 2, 28)), (date(2028, 2, 1), 30, date(2028, 2, 29)),
    (date(2026, 4, 1), 31, date(2026, 4, 30)), (date(2026, 4, 1), 15, date(2026, 4, 15)),
    (date(2026, 1, 1), 1, date(2026, 1, 1))])
def test_due_day_within_the_month(period, day, due):
    assert part_due_on(period, day) == due


@pytest.mark.parametrize(("percent", "shown"), [("35.00", "35"), ("50.00", "50"), ("33.50", "33,5"),
                                                ("12.25", "12,25")])
def test_percent_text(percent, shown):
    assert percent_text(Decimal(percent)) == shown


def test_issue_days():
    assert previous_month(date(2027, 1, 1)) == DEC
    assert check_issue_day(DEC, None) == DEC
    assert check_issue_day(DEC, date(2026, 11, 1)) == date(2026, 11, 1)
    assert check_issue_day(DEC, date(2026, 12, 31)) == date(2026, 12, 31)
    for bad in (date(2026, 10, 31), date(2027, 1, 1)):
        with pytest.raises(Invalid, match="с 01.11.2026 по 31.12.2026"):
            check_issue_day(DEC, bad)
    with pytest.raises(Invalid, match="первое число"):
        check_issue_day(date(2026, 12, 2), None)
    assert check_issue_day(date(2000, 1, 1), None) == date(2000, 1, 1)
    for typo in (date(1, 1, 1), date(9999, 12, 1)):
        with pytest.raises(Invalid, match="Период: с 01.2000 по 12.2099"):
            check_issue_day(typo, None)
