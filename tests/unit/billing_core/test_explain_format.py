"""Russian formatting of the charges' explanations and the arithmetic of a formula as it is written."""

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.explain_format import Factor, day, equation, month, num, plural, price, rub

NB, G = "\u00a0", "\u202f"


@pytest.mark.parametrize(("value", "places", "keep", "shown"), [
    (D("7.500"), 3, 0, "7,5"), (D("145.200"), 3, 0, "145,2"), (D("12"), 3, 0, "12"), (D("1062.805"), 2, 2, f"1{G}062,81"),
    (D("-3"), 2, 2, "−3,00"), (D("1234567.1"), 3, 0, f"1{G}234{G}567,1"), (D("0.0004"), 3, 0, "0"),
])
def test_numbers(value, places, keep, shown):
    assert num(value, places, keep) == shown


def test_money_prices_dates_months():
    assert rub(D("361.5")) == f"361,50{NB}₽" and price(D("48.2")) == f"48,20{NB}₽" and price(D("48.2037")) == f"48,2037{NB}₽"
    assert day(date(2026, 10, 15), 2026) == "15.10" and day(date(2025, 10, 15), 2026) == "15.10.2025"
    assert month(Period(2026, 11)) == "ноябрь 2026"
    assert [plural(n, "день", "дня", "дней") for n in (1, 2, 5, 11, 21, 22, 112)] == [
        "день", "дня", "дней", "дней", "день", "дня", "дней"]


def test_equation_says_equal_only_when_the_numbers_shown_give_the_amount():
    terms = [[Factor.of(D("7.5"), "7,5 м³"), Factor.share(20, 30)]]
    tail = [Factor.of(D("48.20"), "48,20 ₽")]
    assert equation(terms, tail, D("241.00")) == f"7,5 м³ × 20/30 × 48,20 ₽ = 241,00{NB}₽"
    # an average of 7.1234… m³ shown as 7,123: the amount of the exact volume differs by a kopeck
    assert equation([[Factor.of(D("7.123"), "7,123 м³")]], tail, D("343.35")).endswith(f"≈ 343,35{NB}₽")
    two = [[Factor.of(1, "1 чел."), Factor.share(14, 30)], [Factor.of(2, "2 чел."), Factor.share(16, 30)]]
    assert equation(two, tail, D("73.91")) == f"(1 чел. × 14/30 + 2 чел. × 16/30) × 48,20 ₽ = 73,91{NB}₽"
