"""A report's period: the first and the last day, inclusive. The pages offer a month or a quarter (the tax
period of VAT is a quarter, Tax Code art. 163), the API takes any two days within one year."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from aquabill.base.errors import Invalid

MAX_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[QqКк]([1-4])$")


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    date_from: date
    date_to: date

    @property
    def label(self) -> str:
        return f"{self.date_from:%d.%m.%Y} — {self.date_to:%d.%m.%Y}"

    @property
    def slug(self) -> str:
        return f"{self.date_from:%Y%m%d}-{self.date_to:%Y%m%d}"


def month(year: int, number: int) -> ReportPeriod:
    return ReportPeriod(date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1]))


def quarter(year: int, number: int) -> ReportPeriod:
    first = 3 * (number - 1) + 1
    return ReportPeriod(date(year, first, 1), month(year, first + 2).date_to)


def _day(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid(f"Неверная дата «{raw.strip()[:20]}»: ожидается ГГГГ-ММ-ДД", field=field) from None


def make_period(date_from: date, date_to: date) -> ReportPeriod:
    if date_to < date_from:
        raise Invalid("Конец периода раньше его начала", field="to")
    if (date_to - date_from).days >= MAX_DAYS:
        raise Invalid(f"Период отчёта — не длиннее {MAX_DAYS} дней", field="to")
    if date_from.year < 2000 or date_to.year > 2099:
        raise Invalid("Период отчёта — в пределах 2000–2099 годов", field="from")
    return ReportPeriod(date_from, date_to)


def parse_period(raw_from: str = "", raw_to: str = "", *, quarter_text: str = "", month_text: str = "",
                 default: ReportPeriod | None = None) -> ReportPeriod:
    """The period from `from`/`to` (ГГГГ-ММ-ДД), or a quarter «2026-Q1», or a month «2026-03»; `default`
    when nothing is given."""
    if quarter_text.strip():
        m = _QUARTER.match(quarter_text.strip())
        if m is None or not 2000 <= int(m[1]) <= 2099:
            raise Invalid("Квартал: ожидается ГГГГ-Q1 … ГГГГ-Q4 (2000–2099 годы)", field="quarter")
        return make_period(*_bounds(quarter(int(m[1]), int(m[2]))))
    if month_text.strip():
        m = _MONTH.match(month_text.strip())
        if m is None or not 1 <= int(m[2]) <= 12 or not 2000 <= int(m[1]) <= 2099:
            raise Invalid("Месяц: ожидается ГГГГ-ММ (2000–2099 годы)", field="month")
        return make_period(*_bounds(month(int(m[1]), int(m[2]))))
    if not raw_from.strip() and not raw_to.strip():
        if default is None:
            raise Invalid("Укажите период: даты «с» и «по»", field="from")
        return default
    if not raw_from.strip() or not raw_to.strip():
        raise Invalid("Укажите обе даты периода: «с» и «по»", field="from" if not raw_from.strip() else "to")
    return make_period(_day(raw_from, "from"), _day(raw_to, "to"))


def _bounds(p: ReportPeriod) -> tuple[date, date]:
    return p.date_from, p.date_to


def current_quarter(today: date) -> ReportPeriod:
    return quarter(today.year, (today.month - 1) // 3 + 1)


def previous_quarter(today: date) -> ReportPeriod:
    q = (today.month - 1) // 3
    return quarter(today.year, q) if q else quarter(today.year - 1, 4)
