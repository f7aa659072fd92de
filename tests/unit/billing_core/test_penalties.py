"""Penalties (art. 155 part 14 of the Housing Code): every expected figure is worked out by hand in the
comments (amount × rate% × days / (100 × 300 or 130)), rounded once at the end."""

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.billing_core.penalties import (
    FEDERAL_RULES,
    KeyRate,
    Moratorium,
    Payment,
    PenaltyRules,
    PenaltyScope,
    RateDate,
    RowKind,
    calculate_penalty,
    due_date,
    rate_on,
)

NO_RULES = PenaltyRules()
FLAT_6 = (KeyRate(date(1900, 1, 1), D("6")),)


@pytest.mark.parametrize("day,expected", [
    (date(2016, 1, 1), D("11.00")), (date(2019, 7, 28), D("7.50")), (date(2019, 7, 29), D("7.25")),
    (date(2022, 2, 27), D("9.50")), (date(2022, 2, 28), D("20.00")), (date(2024, 10, 28), D("21.00")),
    (date(2026, 11, 23), D("14.00")),
])
def test_rate_on(day, expected):
    assert rate_on(day) == expected


def test_rate_before_table_is_an_error():
    with pytest.raises(ValueError):
        rate_on(date(2015, 12, 31))


@pytest.mark.parametrize("period,day,expected", [
    (date(2019, 5, 1), None, date(2019, 6, 10)), (date(2025, 12, 1), None, date(2026, 1, 10)),
    (date(2026, 1, 31), None, date(2026, 2, 10)), (date(2026, 2, 1), None, date(2026, 3, 15)),
    (date(2025, 5, 1), 25, date(2025, 6, 25)),
    (date(2026, 5, 1), 25, date(2026, 6, 15)),  # from 01.03.2026 a contract no longer sets the day
])
def test_due_date(period, day, expected):
    assert due_date(period, day) == expected


# Debt 3000 due 10.01.2019, flat 6 %. Day n of delay = 10.01.2019 + n: day 30 = 09.02, day 31 = 10.02,
# day 90 = 10.04, day 91 = 11.04. The calculation date itself is not counted.
@pytest.mark.parametrize("calc_date,expected", [
    (date(2019, 2, 10), D("0.00")),  # last day counted = day 30: grace only
    (date(2019, 2, 11), D("0.60")),  # day 31: 3000 × 6 × 1 / 30000 = 0.60
    (date(2019, 4, 11), D("36.00")),  # days 31–90: 3000 × 6 × 60 / 30000 = 36.00
    # + day 91 at 1/130: 3000 × 6 × 1 / 13000 = 1.384615… → 37.384615… → 37.38
    (date(2019, 4, 12), D("37.38")),
])
def test_day_30_31_and_90_91_boundaries(calc_date, expected):
    result = calculate_penalty(D(3000), date(2019, 1, 10), [], calc_date, rules=NO_RULES, key_rates=FLAT_6)
    assert result.total == expected


def test_fraction_changes_on_day_91():
    result = calculate_penalty(D(3000), date(2019, 1, 10), [], date(2019, 4, 12), rules=NO_RULES,
                               key_rates=FLAT_6)
    assert [(r.kind, r.date_from, r.date_to, r.days, r.fraction) for r in result.rows] == [
        (RowKind.GRACE, date(2019, 1, 11), date(2019, 2, 9), 30, None),
        (RowKind.ACCRUAL, date(2019, 2, 10), date(2019, 4, 10), 60, "1/300"),
        (RowKind.ACCRUAL, date(2019, 4, 11), date(2019, 4, 11), 1, "1/130")]


# Debt 1000 due 10.01.2019, flat 6 %, 400 paid on 01.03.2019 (day 50), calculated on 11.03.2019 (last day
# counted 10.03 = day 59). Paid part 400: days 31–50 = 10.02…01.03 = 20 days: 400 × 6 × 20 / 30000 = 1.60.
# Rest 600: days 31–59 = 10.02…10.03 = 29 days: 600 × 6 × 29 / 30000 = 3.48. Total 5.08
# (the same as 1000 × 20 days = 4.00 plus 600 × 9 days = 1.08).
@pytest.mark.parametrize("scope,expected", [(PenaltyScope.ALL_DEBTS, D("5.08")),
                                            (PenaltyScope.PAID_DEBTS_ONLY, D("1.60"))])
def test_partial_payment(scope, expected):
    result = calculate_penalty(D(1000), date(2019, 1, 10), [Payment(date(2019, 3, 1), D(400))],
                               date(2019, 3, 11), scope=scope, rules=NO_RULES, key_rates=FLAT_6)
    assert result.total == expected


def test_payments_in_time_or_after_calculation_date():
    # paid in full on the due date: no delay at all
    paid = calculate_penalty(D(1000), date(2019, 1, 10), [Payment(date(2019, 1, 10), D(1000))],
                             date(2019, 6, 1), rules=NO_RULES, key_rates=FLAT_6)
    assert paid.rows == () and paid.total == D("0.00")
    # a payment on the calculation date is not counted: the same as no payment (days 31–59 on 1000:
    # 1000 × 6 × 29 / 30000 = 5.80)
    later = calculate_penalty(D(1000), date(2019, 1, 10), [Payment(date(2019, 3, 11), D(1000))],
                              date(2019, 3, 11), rules=NO_RULES, key_rates=FLAT_6)
    assert later.total == D("5.80")


# Real key rates: debt 10000 for May 2019, due 10.06.2019; day 31 = 11.07.2019; the key rate goes from
# 7.50 to 7.25 on 29.07.2019. 4000 paid on 20.07.2019 (day 40), calculated on 11.08.2019 (last day 10.08,
# day 61).
# - PAYMENT_DAY: 4000 at 7.50 (rate of 20.07) × 10 days (11.07…20.07) / 30000 = 10.00;
#   6000 at 7.25 (rate of 11.08) × 31 days (11.07…10.08) / 30000 = 44.95; total 54.95.
# - CALCULATION_DAY: 4000 × 7.25 × 10 / 30000 = 9.666…; 6000 × 7.25 × 31 / 30000 = 44.95; 54.616… → 54.62.
# - EACH_DAY: 4000 × 7.50 × 10 / 30000 = 10.00; 6000 × 7.50 × 18 (11.07…28.07) / 30000 = 27.00;
#   6000 × 7.25 × 13 (29.07…10.08) / 30000 = 18.85; total 55.85.
@pytest.mark.parametrize("mode,expected", [(RateDate.PAYMENT_DAY, D("54.95")),
                                           (RateDate.CALCULATION_DAY, D("54.62")),
                                           (RateDate.EACH_DAY, D("55.85"))])
def test_key_rate_change_in_the_middle_of_the_delay(mode, expected):
    result = calculate_penalty(D(10000), due_date(date(2019, 5, 1)), [Payment(date(2019, 7, 20), D(4000))],
                               date(2019, 8, 11), rate_date=mode)
    assert result.total == expected


# Debt 1000 for January 2020, due 10.02.2020; day 31 = 12.03.2020; moratorium of Decree 424 from
# 06.04.2020 to 31.12.2020; calculated on 16.01.2021 at the rate of that day (4.25).
# 12.03…05.04.2020 = 25 days (days 31–55) at 1/300: 1000 × 4.25 × 25 / 30000 = 3.541666…
# 01.01…15.01.2021 = 15 days; 01.01.2021 is day 326 (20 days to 01.03.2020 in a leap year + 306), so
# 1/130: 1000 × 4.25 × 15 / 13000 = 4.903846…; total 8.445512… → 8.45.
def test_moratorium_crossing():
    result = calculate_penalty(D(1000), due_date(date(2020, 1, 1)), [], date(2021, 1, 16),
                               rate_date=RateDate.CALCULATION_DAY)
    assert [(r.kind, r.date_from, r.date_to, r.days, r.fraction) for r in result.rows] == [
        (RowKind.GRACE, date(2020, 2, 11), date(2020, 3, 11), 30, None),
        (RowKind.ACCRUAL, date(2020, 3, 12), date(2020, 4, 5), 25, "1/300"),
        (RowKind.MORATORIUM, date(2020, 4, 6), date(2020, 5, 10), 35, None),
        (RowKind.MORATORIUM, date(2020, 5, 11), date(2020, 12, 31), 235, None),
        (RowKind.ACCRUAL, date(2021, 1, 1), date(2021, 1, 15), 15, "1/130")]
    assert result.total == D("8.45")


# The 9.5 % of Decree 474 and its successors (debt 1000, rate of the calculation date).
@pytest.mark.parametrize("period,calc_date,rules,expected", [
    # 2024: lower of 9.5 and the key rate 16 → 9.5; day 31 = 12.03.2024, last day 31.03 → 20 days:
    # 1000 × 9.5 × 20 / 30000 = 6.333… → 6.33
    (date(2024, 1, 1), date(2024, 4, 1), FEDERAL_RULES, D("6.33")),
    # the same without federal rules: 1000 × 16 × 20 / 30000 = 10.666… → 10.67
    (date(2024, 1, 1), date(2024, 4, 1), NO_RULES, D("10.67")),
    # 2023: key rate 7.5 is lower than 9.5; day 31 = 13.03.2023, last day 31.03 → 19 days:
    # 1000 × 7.5 × 19 / 30000 = 4.75
    (date(2023, 1, 1), date(2023, 4, 1), FEDERAL_RULES, D("4.75")),
    # 2025–2026 (Decree 329): fixed 9.5 while the key rate is 21; day 31 = 13.03.2025, last day 30.04
    # → 49 days (days 31–79): 1000 × 9.5 × 49 / 30000 = 15.516… → 15.52
    (date(2025, 1, 1), date(2025, 5, 1), FEDERAL_RULES, D("15.52")),
    # December 2021, due 10.01.2022, day 31 = 10.02.2022, last day 28.02.2022; rate of 01.03.2022 = 20:
    # 10.02…27.02 (18 days, no rule yet): 1000 × 20 × 18 / 30000 = 12.00; 28.02 (fixed 9.5):
    # 1000 × 9.5 × 1 / 30000 = 0.3166…; total 12.3166… → 12.32
    (date(2021, 12, 1), date(2022, 3, 1), FEDERAL_RULES, D("12.32")),
])
def test_rate_cap_of_9_5(period, calc_date, rules, expected):
    result = calculate_penalty(D(1000), due_date(period), [], calc_date, rate_date=RateDate.CALCULATION_DAY,
                               rules=rules)
    assert result.total == expected


# Public vector P1 (shared/reference/penalty/TEST-VECTORS.md, aleoreh/penalty-calc-tricky): period 05.2019,
# debt 1000, 100 paid on 01.01.2020, calculated on 19.04.2024, key rate fixed at 9.5 %, moratoria as that
# project codes them (06.04.2020–01.01.2021 and 31.03.2022–01.10.2022, both ends inclusive).
# Debt 1000 to 01.01.2020: 60 days × 1000 × 9.5 / 30000 = 19.00; 115 days (09.09.2019…01.01.2020)
# × 1000 × 9.5 / 13000 = 84.038…; debt 900: 1569 days (02.01.2020…18.04.2024) − 271 − 185 moratorium
# days = 1113 × 900 × 9.5 / 13000 = 732.011…; (115000 + 1001700) × 9.5 / 13000 = 816.05 exactly,
# + 19.00 = 835.05.
P1_RATES = (KeyRate(date(1900, 1, 1), D("9.5")),)
P1_RULES = PenaltyRules(moratoria=(Moratorium(date(2020, 4, 6), date(2021, 1, 1), "P1"),
                                   Moratorium(date(2022, 3, 31), date(2022, 10, 1), "P1")))


def test_public_vector_p1():
    due = due_date(date(2019, 5, 1))
    assert due == date(2019, 6, 10)
    result = calculate_penalty(D(1000), due, [Payment(date(2020, 1, 1), D(100))], date(2024, 4, 19),
                               rules=P1_RULES, key_rates=P1_RATES)
    assert result.total == D("835.05")
    moratorium_days = sum(r.days for r in result.rows if r.kind is RowKind.MORATORIUM)
    assert moratorium_days == 271 + 185
    late = [r for r in result.rows if r.kind is RowKind.ACCRUAL and r.denominator == 130]
    assert sum(r.days for r in late if r.base == 900) == 210 + 453 + 565 == 1228  # 115 + 1113 on 900


def test_public_vector_p1_with_federal_moratoria_as_read_here():
    # Moratoria of FEDERAL_RULES end on 31.12.2020 and start on 01.04.2022: 2 more days on 900 →
    # (115000 + 900 × 1115) × 9.5 / 13000 = 1118500 × 9.5 / 13000 = 817.365… + 19.00 = 836.365… → 836.37
    result = calculate_penalty(D(1000), date(2019, 6, 10), [Payment(date(2020, 1, 1), D(100))],
                               date(2024, 4, 19), key_rates=P1_RATES)
    assert result.total == D("836.37")
