"""The rule calendar of the penalty run: per-rouble sums that, summed over the parts of a debt and rounded
once, give `calculate_penalty`'s total (the run's SQL does the same sums over all accounts)."""

import random
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from aquabill.billing_core.money import money
from aquabill.billing_core.penalties import (
    FEDERAL_RULES,
    KEY_RATES,
    KeyRate,
    Moratorium,
    Payment,
    PenaltyRules,
    PenaltyScope,
    RateDate,
    calculate_penalty,
    due_date,
)
from aquabill.billing_core.penalties.calendar import DIVISOR, EARLY_WEIGHT, LATE_WEIGHT, build_calendar


def via_calendar(f, rest_f, group, month, amount, payments, calc_date, scope):
    """What the run's SQL computes for one account × month of origin (f, rest_f: the calendar's rows)."""
    n300 = n130 = D(0)
    rest = amount
    for p in sorted(payments, key=lambda p: p.paid_on):
        if p.paid_on >= calc_date:
            continue
        used = min(p.amount, max(rest, D(0)))
        rest -= used
        a, b = f.get((group, month, p.paid_on), (D(0), D(0)))
        n300 += used * a
        n130 += used * b
    if rest > 0 and scope is PenaltyScope.ALL_DEBTS and (group, month) in rest_f:
        a, b = rest_f[(group, month)]
        n300 += rest * a
        n130 += rest * b
    return money((n300 * EARLY_WEIGHT + n130 * LATE_WEIGHT) / DIVISOR)


@pytest.mark.parametrize("rate_date", list(RateDate))
@pytest.mark.parametrize("scope", list(PenaltyScope))
def test_calendar_agrees_with_the_calculator(rate_date, scope):
    rnd = random.Random(f"{rate_date}{scope}")
    calc_date = date(2023, 3, 1)
    months = [date(2020 + k // 12, k % 12 + 1, 1) for k in range(0, 36)]
    dues = {m: due_date(m, 10) for m in months}
    deferral = (Moratorium(date(2022, 12, 1), date(2023, 1, 15), "отсрочка"),)
    cal = build_calendar(calc_date, dues, rules=FEDERAL_RULES, key_rates=KEY_RATES, rate_date=rate_date,
                         groups={1: deferral})
    f = {(g, m, d): (a, b) for g, m, d, a, b in cal.f_rows}
    rest_f = {(g, m): (a, b) for g, m, a, b in cal.rest_rows}
    for _ in range(300):
        month = rnd.choice(months)
        group = rnd.choice((0, 1))
        amount = D(rnd.randint(100, 500000)) / 100
        pays = [Payment(dues[month] + timedelta(days=rnd.randint(-20, 900)), D(rnd.randint(100, 300000)) / 100)
                for _ in range(rnd.randint(0, 3))]
        rules = FEDERAL_RULES if group == 0 else PenaltyRules(FEDERAL_RULES.moratoria + deferral,
                                                               FEDERAL_RULES.rate_rules)
        expected = calculate_penalty(amount, dues[month], pays, calc_date, rate_date=rate_date, scope=scope,
                                     rules=rules).total
        assert via_calendar(f, rest_f, group, month, amount, pays, calc_date, scope) == expected


def test_months_not_late_by_day_31_are_left_out():
    cal = build_calendar(date(2024, 3, 1), {date(2024, 1, 1): date(2024, 2, 10)}, rules=PenaltyRules(),
                         key_rates=(KeyRate(date(1900, 1, 1), D(6)),), rate_date=RateDate.PAYMENT_DAY)
    assert cal.f_rows == [] and cal.rest_rows == []
