"""416-FZ penalties of one document, vectors computed by hand (formula in each comment; key rates of the
real table: 4.50 % from 22.03.2021, 5.50 % from 15.06.2021, 7.50 % from 19.09.2022, 4.25 % from 27.07.2020)."""

from datetime import date
from decimal import Decimal

import pytest

from aquabill.billing_core.penalties.calc import (
    HOUSING_CODE_155,
    Payment,
    RowKind,
    calculate_penalty,
)
from aquabill.legal_entities.penalties import (
    HOA_SCALE,
    MANAGEMENT_COMPANY_SCALE,
    OTHER_SCALE,
    breakdown,
    document_penalty,
    scale_for,
)

DEBT = Decimal("123456.78")
DUE = date(2021, 2, 10)  # day 1 of delay: 11.02.2021; day 90: 11.05.2021; day 91: 12.05.2021
PAID = [Payment(date(2021, 4, 20), Decimal("50000.00"))]  # day 69 of delay, key rate 4.50 %
ON = date(2021, 6, 20)  # the rest is late to 19.06.2021 (day 129), key rate on 20.06.2021: 5.50 %


def rows(result):
    return [(r.kind, r.date_from, r.date_to, r.days, r.base, r.denominator, r.rate) for r in result.rows]


def test_management_company_1_300_then_1_170_from_day_61_then_1_130_from_day_91():
    # ч. 6.4: days 1–60 1/300, 61–90 1/170, from 91 1/130; day 61 = 12.04.2021, day 91 = 12.05.2021
    found = document_penalty("management_company", DEBT, DUE, PAID, ON)
    rest = DEBT - Decimal("50000.00")  # 73 456.78
    assert rows(found.result) == [
        # the paid part from the day after the due date (no grace), its payment day's key rate
        (RowKind.ACCRUAL, date(2021, 2, 11), date(2021, 4, 11), 60, Decimal("50000.00"), 300, Decimal("4.50")),
        (RowKind.ACCRUAL, date(2021, 4, 12), date(2021, 4, 20), 9, Decimal("50000.00"), 170, Decimal("4.50")),
        # the rest, the key rate of the calculation day
        (RowKind.ACCRUAL, date(2021, 2, 11), date(2021, 4, 11), 60, rest, 300, Decimal("5.50")),
        (RowKind.ACCRUAL, date(2021, 4, 12), date(2021, 5, 11), 30, rest, 170, Decimal("5.50")),
        (RowKind.ACCRUAL, date(2021, 5, 12), date(2021, 6, 19), 39, rest, 130, Decimal("5.50")),
    ]
    # 50000 × 4.5 × 60 / 30000 = 450; 50000 × 4.5 × 9 / 17000 = 119.117647…;
    # 73456.78 × 5.5 × 60 / 30000 = 808.024580; 73456.78 × 5.5 × 30 / 17000 = 712.962865…;
    # 73456.78 × 5.5 × 39 / 13000 = 1212.036870; Σ 3302.141962 → 3302.14
    assert found.total == Decimal("3302.14")
    assert found.days == 129


def test_hoa_has_30_days_of_grace_then_1_300_then_1_130_from_day_91():
    # ч. 6.3: days 1–30 nothing, 31–90 1/300, from 91 1/130; day 31 = 13.03.2021
    found = document_penalty("hoa", DEBT, DUE, PAID, ON)
    rest = DEBT - Decimal("50000.00")
    assert rows(found.result) == [
        (RowKind.GRACE, date(2021, 2, 11), date(2021, 3, 12), 30, Decimal("50000.00"), None, None),
        (RowKind.ACCRUAL, date(2021, 3, 13), date(2021, 4, 20), 39, Decimal("50000.00"), 300, Decimal("4.50")),
        (RowKind.GRACE, date(2021, 2, 11), date(2021, 3, 12), 30, rest, None, None),
        (RowKind.ACCRUAL, date(2021, 3, 13), date(2021, 5, 11), 60, rest, 300, Decimal("5.50")),
        (RowKind.ACCRUAL, date(2021, 5, 12), date(2021, 6, 19), 39, rest, 130, Decimal("5.50")),
    ]
    # 50000 × 4.5 × 39 / 30000 = 292.5; 73456.78 × 5.5 × 60 / 30000 = 808.024580;
    # 73456.78 × 5.5 × 39 / 13000 = 1212.036870; Σ 2312.561450 → 2312.56
    assert found.total == Decimal("2312.56")
    assert HOA_SCALE.grace_days == 30


def test_other_subscriber_pays_1_130_from_day_one():
    found = document_penalty("other", DEBT, DUE, PAID, ON)
    assert [(r.date_from, r.date_to, r.days, r.denominator) for r in found.result.rows] == [
        (date(2021, 2, 11), date(2021, 4, 20), 69, 130), (date(2021, 2, 11), date(2021, 6, 19), 129, 130)]
    # 50000 × 4.5 × 69 / 13000 = 1194.230769…; 73456.78 × 5.5 × 129 / 13000 = 4009.045031…; Σ 5203.2758 → 5203.28
    assert found.total == Decimal("5203.28")


def test_decree_474_rate_and_497_moratorium_apply_to_both():
    # debt 10 000 due 10.03.2022, unpaid on 01.11.2022 (key rate 7.50 %):
    # 11.03–31.03 (21 days, 1/300, Decree 474: fixed 9.5 %) = 10000 × 9.5 × 21 / 30000 = 66.5;
    # 01.04–01.10 Decree 497's moratorium (cut on day 61 = 10.05, day 91 = 09.06 and where 474's wording changes,
    # 01.08); 02.10–31.10 (30 days, past day 90 → 1/130, the lower of 9.5 and 7.5)
    # = 10000 × 7.5 × 30 / 13000 = 173.076923…; Σ 239.576923 → 239.58
    found = document_penalty("management_company", Decimal("10000.00"), date(2022, 3, 10), [], date(2022, 11, 1))
    assert [(r.kind, r.days, r.denominator, r.rate) for r in found.result.rows] == [
        (RowKind.ACCRUAL, 21, 300, Decimal("9.5")), (RowKind.MORATORIUM, 39, None, None),
        (RowKind.MORATORIUM, 30, None, None),
        (RowKind.MORATORIUM, 53, None, None), (RowKind.MORATORIUM, 62, None, None),
        (RowKind.ACCRUAL, 30, 130, Decimal("7.5"))]
    assert found.total == Decimal("239.58")


def test_decree_424_moratorium_covers_managing_organisations_and_hoas_only():
    # debt 1 000 due 10.12.2020, unpaid on 11.01.2021 (key rate 4.25 %)
    mc = document_penalty("management_company", Decimal("1000.00"), date(2020, 12, 10), [], date(2021, 1, 11))
    # 11.12–31.12 moratorium; 01.01–10.01: 1000 × 4.25 × 10 / 30000 = 1.416… → 1.42
    assert [(r.kind, r.days) for r in mc.result.rows] == [(RowKind.MORATORIUM, 21), (RowKind.ACCRUAL, 10)]
    assert mc.total == Decimal("1.42")
    # an HOA: days 1–30 (11.12–09.01) are its grace anyway; day 31 = 10.01.2021 to 10.02.2021 (32 days):
    # 1000 × 4.25 × 32 / 30000 = 4.5333… → 4.53
    hoa = document_penalty("hoa", Decimal("1000.00"), date(2020, 12, 10), [], date(2021, 2, 11))
    assert [(r.kind, r.days) for r in hoa.result.rows][-1] == (RowKind.ACCRUAL, 32)
    assert hoa.total == Decimal("4.53")
    other = document_penalty("other", Decimal("1000.00"), date(2020, 12, 10), [], date(2021, 1, 11))
    # 11.12–10.01, 31 days: 1000 × 4.25 × 31 / 13000 = 10.1346… → 10.13
    assert other.total == Decimal("10.13")


def test_paid_in_time_or_not_yet_due_accrues_nothing():
    in_time = document_penalty("other", DEBT, DUE, [Payment(DUE, DEBT)], ON)
    assert in_time.total == Decimal("0.00") and in_time.result.rows == ()
    assert document_penalty("other", DEBT, DUE, [], date(2021, 2, 11)).total == Decimal("0.00")  # on = day 1


def test_no_scale_before_the_law_and_unknown_category():
    assert scale_for("other", date(2015, 12, 30)) is None
    assert scale_for("other", date(2015, 12, 31)) is OTHER_SCALE  # day 1 of delay 01.01.2016
    assert scale_for("management_company", date(2026, 1, 10)) is MANAGEMENT_COMPANY_SCALE
    assert scale_for("hoa", date(2026, 1, 10)) is HOA_SCALE
    assert document_penalty("other", DEBT, date(2015, 11, 10), [], ON).total == Decimal("0.00")
    with pytest.raises(ValueError):
        scale_for("population", DUE)


def test_housing_code_scale_is_the_default_and_keeps_its_grace():
    a = calculate_penalty(DEBT, DUE, PAID, ON)
    b = calculate_penalty(DEBT, DUE, PAID, ON, scale=HOUSING_CODE_155)
    assert a == b and a.rows[0].kind is RowKind.GRACE and HOUSING_CODE_155.grace_days == 30
    assert MANAGEMENT_COMPANY_SCALE.grace_days == 0 and OTHER_SCALE.grace_days == 0


def test_breakdown_rows_are_json_ready():
    found = document_penalty("management_company", DEBT, DUE, PAID, ON)
    first = breakdown(found.result)[0]
    assert first == {"part": "оплата 20.04.2021", "kind": "accrual", "kind_name": "начисление",
                     "date_from": "2021-02-11", "date_to": "2021-04-11", "days": 60, "debt": "50000.00",
                     "rate": "4.50", "fraction": "1/300", "amount": "450.00", "exact": "450.000000"}
    second = breakdown(found.result)[1]
    assert (second["days"], second["fraction"], second["amount"], second["exact"]) == (9, "1/170", "119.12",
                                                                                       "119.117647")
