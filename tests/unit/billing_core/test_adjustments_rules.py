"""Pure rules of adjustments: splitting a debt into instalments, the schedule's months, and the checks of
one-off charge documents and installment agreements."""

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.base.errors import DomainError
from aquabill.billing_core.adjustments.installments import check_agreement, schedule_periods, split_debt
from aquabill.billing_core.adjustments.one_off import OneOff, check_one_off
from aquabill.billing_core.periods import Period

MARCH = Period(2024, 3)


@pytest.mark.parametrize(("debt", "months", "expected"), [
    ("1000.00", 3, ["333.33", "333.33", "333.34"]),
    ("200.00", 3, ["66.66", "66.66", "66.68"]),
    ("0.05", 5, ["0.01"] * 5),
    ("1234.56", 1, ["1234.56"]),
    ("100.00", 4, ["25.00"] * 4),
    ("999.99", 12, ["83.33"] * 11 + ["83.36"]),
])
def test_split_debt_is_exact_with_the_residual_last(debt, months, expected):
    parts = split_debt(D(debt), months)
    assert parts == [D(x) for x in expected] and sum(parts) == D(debt)


def test_schedule_crosses_the_year():
    assert [str(p) for p in schedule_periods(Period(2024, 11), 4)] == ["2024-11", "2024-12", "2025-01", "2025-02"]


@pytest.mark.parametrize(("doc", "field"), [
    (OneOff(MARCH, 1, "volume", total=D("10")), "basis"),
    (OneOff(MARCH, 1, "account", total=D("10")), "account_id"),
    (OneOff(MARCH, 1, "account", account_id=1, house_id=1, total=D("10")), "house_id"),
    (OneOff(MARCH, 1, "account", account_id=1, rate=D("10")), "total"),
    (OneOff(MARCH, 1, "area", account_id=1, total=D("10")), "account_id"),
    (OneOff(MARCH, 1, "area"), "total"),
    (OneOff(MARCH, 1, "residents", total=D("10"), rate=D("1")), "total"),
    (OneOff(MARCH, 1, "area", total=D("10.001")), "total"),
    (OneOff(MARCH, 1, "area", total=D("0")), "total"),
    (OneOff(MARCH, 1, "area", total=D("NaN")), "total"),
    (OneOff(MARCH, 1, "area", rate=D("0.00001")), "rate"),
    (OneOff(MARCH, 1, "area", total=D("10"), note="х" * 501), "note"),
])
def test_one_off_checks(doc, field):
    with pytest.raises(DomainError) as refused:
        check_one_off(doc)
    assert refused.value.field == field


@pytest.mark.parametrize("doc", [
    OneOff(MARCH, 1, "area", total=D("1000.00")),
    OneOff(MARCH, 1, "residents", house_id=3, rate=D("12.3456")),
    OneOff(MARCH, 1, "account", account_id=7, total=D("-150.5")),  # a one-off credit
])
def test_one_off_accepted(doc):
    check_one_off(doc)


@pytest.mark.parametrize(("changes", "field"), [
    ({"number": ""}, "number"),
    ({"number": "Р" * 33}, "number"),
    ({"debt": D("10.001")}, "debt"),
    ({"debt": D("0")}, "debt"),
    ({"debt": D("-5")}, "debt"),
    ({"months": 0}, "months"),
    ({"months": 121}, "months"),
    ({"debt": D("0.02"), "months": 3}, "months"),
    ({"first_period": Period(2024, 2)}, "first_period"),
])
def test_agreement_checks(changes, field):
    terms = {"number": "Р-1", "debt": D("1000.00"), "months": 3, "signed_on": date(2024, 3, 10),
             "first_period": MARCH, "note": "", **changes}
    with pytest.raises(DomainError) as refused:
        check_agreement(**terms)
    assert refused.value.field == field
