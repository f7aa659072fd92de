from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.billing_core.money import money, to_kopecks, volume
from aquabill.billing_core.periods import Period, Segment, overlap_days, segments


@pytest.mark.parametrize("raw,expected", [("1.005", "1.01"), ("1.004", "1.00"), ("-1.005", "-1.01"),
                                          ("2.675", "2.68"), ("0.125", "0.13")])
def test_money_rounds_half_away_from_zero(raw, expected):
    assert money(D(raw)) == D(expected)


def test_volume_and_kopecks():
    assert volume(D("1.2345")) == D("1.235")
    assert to_kopecks(D("123.455")) == 12346


def test_period_arithmetic():
    p = Period.parse("2024-02")
    assert (p.days, p.first_day, p.last_day) == (29, date(2024, 2, 1), date(2024, 2, 29))
    assert p.next() == Period(2024, 3) and p.prev() == Period(2024, 1)
    assert Period(2024, 12).next() == Period(2025, 1) and Period(2025, 1).prev() == Period(2024, 12)
    assert str(Period.parse("03.2025")) == "2025-03"
    with pytest.raises(ValueError):
        Period.parse("2024-13")


def test_segments_split_on_change_days():
    p = Period(2024, 4)
    assert segments(p, []) == [Segment(date(2024, 4, 1), date(2024, 4, 30))]
    segs = segments(p, [date(2024, 4, 15), date(2024, 3, 1), date(2024, 4, 1), date(2024, 5, 1)])
    assert segs == [Segment(date(2024, 4, 1), date(2024, 4, 14)), Segment(date(2024, 4, 15), date(2024, 4, 30))]
    assert [s.days for s in segs] == [14, 16]


def test_overlap_days():
    assert overlap_days(date(2024, 4, 10), date(2024, 4, 20), date(2024, 4, 1), date(2024, 4, 30)) == 11
    assert overlap_days(date(2024, 3, 10), None, date(2024, 4, 1), date(2024, 4, 30)) == 30
    assert overlap_days(date(2024, 5, 1), None, date(2024, 4, 1), date(2024, 4, 30)) == 0
