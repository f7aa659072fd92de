from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.billing_core.metering.validation import KnownReading, MeterSpec, ReadingStatus, check_reading

METER = MeterSpec(digits=5, fraction_digits=3, installed_on=date(2024, 1, 10), initial_reading=D("12.000"))


def prev(day, value):
    return KnownReading(day, D(value))


def test_first_reading_counts_from_the_initial_one():
    r = check_reading(METER, D("15.500"), date(2024, 2, 10), None)
    assert (r.status, r.consumption, r.rollover) == (ReadingStatus.ACCEPTED, D("3.500"), False)


def test_normal_increase():
    r = check_reading(METER, D("120.25"), date(2024, 5, 20), prev(date(2024, 4, 20), "112.75"))
    assert r.status is ReadingStatus.ACCEPTED and r.consumption == D("7.50")


def test_rollover_through_zero_is_accepted_when_plausible():
    # 5 digits: 99 990 → 00 004 means 99 999.999… wraps: 100000 - 99990 + 4 = 14 m³ in 30 days
    r = check_reading(METER, D("4"), date(2024, 6, 30), prev(date(2024, 5, 31), "99990"))
    assert (r.status, r.consumption, r.rollover) == (ReadingStatus.ACCEPTED, D("14"), True)


def test_decrease_is_rejected_when_rollover_is_implausible():
    # 500 → 480 would be a wrap of 99 980 m³ in 30 days: a typo, not a rollover
    r = check_reading(METER, D("480"), date(2024, 6, 30), prev(date(2024, 5, 31), "500"))
    assert r.status is ReadingStatus.REJECTED and "меньше предыдущего" in r.reason


def test_reversible_meter_may_decrease():
    meter = MeterSpec(5, 3, date(2024, 1, 1), D("0"), reversible=True)
    r = check_reading(meter, D("480"), date(2024, 6, 30), prev(date(2024, 5, 31), "500"))
    assert r.status is ReadingStatus.ACCEPTED and r.consumption == D("-20")


@pytest.mark.parametrize("value,reason", [
    ("100000", "разрядность"), ("-1", "отрицательным"), ("12.3456", "после запятой"),
])
def test_format_errors(value, reason):
    r = check_reading(METER, D(value), date(2024, 3, 1), None)
    assert r.status is ReadingStatus.REJECTED and reason in r.reason


def test_dates_outside_meter_life():
    assert "раньше установки" in check_reading(METER, D("13"), date(2024, 1, 9), None).reason
    removed = MeterSpec(5, 3, date(2024, 1, 10), D("12"), removed_on=date(2024, 3, 1))
    assert "позже снятия" in check_reading(removed, D("13"), date(2024, 3, 2), None).reason
    assert check_reading(removed, D("13"), date(2024, 3, 1), None).status is ReadingStatus.ACCEPTED


def test_implausible_jump_is_flagged_not_accepted():
    # 2.5 m³/day ceiling × 31 days = 77.5 m³; 200 m³ is flagged for review
    r = check_reading(METER, D("300"), date(2024, 3, 31), prev(date(2024, 2, 29), "100"))
    assert r.status is ReadingStatus.FLAGGED and r.consumption == D("200") and "проверка" in r.reason


def test_same_day_different_value_is_rejected():
    r = check_reading(METER, D("101"), date(2024, 3, 31), prev(date(2024, 3, 31), "100"))
    assert r.status is ReadingStatus.REJECTED


def test_backdated_reading_larger_than_the_following_one_is_rejected():
    r = check_reading(METER, D("150"), date(2024, 3, 15), prev(date(2024, 2, 28), "100"),
                      following=prev(date(2024, 3, 31), "120"))
    assert r.status is ReadingStatus.REJECTED and "последующего" in r.reason
