"""The demo's tariffs: the listed values with a change on 1 July each year, extended while the demo lives."""

from datetime import date

import pytest

from aquabill.demo.billing import tariff_rows


@pytest.mark.parametrize("today,last", [(date(2026, 11, 23), date(2026, 7, 1)), (date(2025, 2, 1), date(2026, 7, 1)),
                                        (date(2028, 3, 1), date(2028, 7, 1))])
def test_tariffs_change_each_first_of_july(today, last):
    rows = tariff_rows(today)
    cold = [(price, day) for code, price, day in rows if code == "cold_water"]
    assert cold[:4] == [("45.12", date(2024, 1, 1)), ("48.73", date(2024, 7, 1)), ("53.12", date(2025, 7, 1)),
                        ("57.37", date(2026, 7, 1))]
    assert cold[-1][1] == last and all(d.month == 7 and d.day == 1 for _, d in cold[1:])
    prices = [float(p) for p, _ in cold]
    assert prices == sorted(prices)
    assert [(p, d) for code, p, d in rows if code == "common_cold"] == cold  # common property: cold water's price
    assert {code for code, _, _ in rows} == {"cold_water", "sewage", "common_cold"}
