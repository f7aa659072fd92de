"""Russian formatting of the numbers, dates and months in the charges' explanations (explain_text.py), and the
arithmetic of a formula as it is written: a formula is a sum of terms, each a product of factors shown with
their units; its value is computed from the numbers as shown, so the text says «=» only when what it shows
gives the charged amount, and «≈» otherwise (an average or a house volume shown to the litre)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from aquabill.billing_core.periods import Period

NBSP = "\u00a0"  # between a number and its unit
GROUP = "\u202f"  # groups thousands: «1 062,81» (as the pages' ru_num)
MINUS = "−"
MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь",
          "декабрь")


def num(value: Decimal | int | Fraction, places: int = 3, keep: int = 0) -> str:
    """A number rounded to `places` decimals, trailing zeros dropped down to `keep` decimals, with a decimal
    comma and thousands grouped: 7.500 → «7,5», 1062.81 → «1 062,81», −3 → «−3»."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    q = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = MINUS if q < 0 else ""
    whole, _, frac = f"{abs(q):f}".partition(".")
    frac = frac.rstrip("0")
    frac = frac + "0" * (keep - len(frac)) if len(frac) < keep else frac
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    whole = GROUP.join([whole, *groups])
    return sign + whole + ("," + frac if frac else "")


def rub(value: Decimal) -> str:
    return num(value, 2, 2) + f"{NBSP}₽"


def signed_rub(value: Decimal) -> str:
    return ("+" if value > 0 else "") + rub(value)


def price(value: Decimal) -> str:
    """A tariff: kopecks always, up to 4 decimals as set."""
    return num(value, 4, 2) + f"{NBSP}₽"


def m3(value: Decimal | Fraction, places: int = 3) -> str:
    return num(value, places) + f"{NBSP}м³"


def signed_m3(value: Decimal) -> str:
    return ("+" if value > 0 else "") + m3(value)


def day(d: date, year: int | None = None) -> str:
    """«15.10» in the given year, «15.10.2026» otherwise."""
    return d.strftime("%d.%m") if d.year == year else d.strftime("%d.%m.%Y")


def span(start: date, end: date, year: int | None = None) -> str:
    return f"{day(start, year)}–{day(end, year)}"


def month(period: Period) -> str:
    """«ноябрь 2026»."""
    return f"{MONTHS[period.month - 1]} {period.year}"


def plural(n: int, one: str, few: str, many: str) -> str:
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def months_word(n: int) -> str:
    return f"{n} {plural(n, 'месяц', 'месяца', 'месяцев')}"


def days_word(n: int) -> str:
    return f"{n} {plural(n, 'день', 'дня', 'дней')}"


@dataclass(frozen=True, slots=True)
class Factor:
    """A number in a formula: its value as shown, and how it is shown."""

    value: Fraction
    shown: str

    @classmethod
    def of(cls, value: Decimal | int, shown: str) -> Factor:
        return cls(Fraction(Decimal(value)), shown)

    @classmethod
    def share(cls, part: int, whole: int) -> Factor:
        """A share of days (or of area): «20/30»."""
        return cls(Fraction(part, whole), f"{part}/{whole}")


Term = list[Factor]


def value_of(terms: list[Term], tail: Term) -> Fraction:
    total = Fraction(0)
    for term in terms:
        product = Fraction(1)
        for f in term:
            product *= f.value
        total += product
    for f in tail:
        total *= f.value
    return total


def _product(term: Term) -> str:
    """Factors joined by «×»; a factor shown as «/ x» divides."""
    out = term[0].shown
    for f in term[1:]:
        out += (" " if f.shown.startswith("/ ") else " × ") + f.shown
    return out


def written(terms: list[Term], tail: Term) -> str:
    """«a × b + c × d» (in brackets when followed by the tail) «× tail…»."""
    body = " + ".join(_product(term) for term in terms)
    if tail:
        if len(terms) > 1:
            body = f"({body})"
        body = " × ".join([body, *(f.shown for f in tail)])
    return body


def equation(terms: list[Term], tail: Term, amount: Decimal) -> str:
    """The formula, «=» or «≈», and the amount charged."""
    exact = value_of(terms, tail)
    shown = Decimal(exact.numerator) / Decimal(exact.denominator)
    sign = "=" if shown.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == amount else "≈"
    return f"{written(terms, tail)} {sign} {rub(amount)}"
