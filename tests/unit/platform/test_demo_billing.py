"""The demo's tariffs: the listed values with a change on 1 July each year, extended while the demo lives; each
date's tariffs cite one invented order, marked as the demo's."""

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.demo.billing import tariff_basis, tariff_rows


@pytest.mark.parametrize("today,last", [(date(2026, 11, 23), date(2026, 7, 1)), (date(2025, 2, 1), date(2026, 7, 1)),
                                        (date(2028, 3, 1), date(2028, 7, 1))])
def test_tariffs_change_each_first_of_july(today, last):
    rows = tariff_rows(today)
    assert {group for _, group, _, _ in rows} == {"population"}
    cold = [(price, day) for code, _, price, day in rows if code == "cold_water"]
    assert cold[:4] == [(D("45.12"), date(2024, 1, 1)), (D("48.73"), date(2024, 7, 1)), (D("53.12"), date(2025, 7, 1)),
                        (D("57.37"), date(2026, 7, 1))]
    assert cold[-1][1] == last and all(d.month == 7 and d.day == 1 for _, d in cold[1:])
    prices = [p for p, _ in cold]
    assert prices == sorted(prices)
    assert [(p, d) for code, _, p, d in rows if code == "common_cold"] == cold  # common property: cold water's price
    assert {code for code, _, _, _ in rows} == {"cold_water", "sewage", "common_cold"}


def test_each_date_cites_its_invented_order():
    assert tariff_basis(date(2024, 1, 1)) == "Приказ Управления по тарифам Энской области от 20.11.2023 № 56-вк (демо)"
    assert tariff_basis(date(2026, 7, 1)) == "Приказ Управления по тарифам Энской области от 20.05.2026 № 41-вк (демо)"
    bases = {tariff_basis(d) for _, _, _, d in tariff_rows(date(2028, 3, 1))}
    assert len(bases) == len({d for _, _, _, d in tariff_rows(date(2028, 3, 1))})  # one order per date
