"""Billing periods (months) and their split into day segments."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from aquabill.base.errors import InvalidValue


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A billing month."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 2200:
            raise InvalidValue(f"Недопустимый расчётный период: {self.year}-{self.month:02d}", field="period")

    @classmethod
    def parse(cls, text: str) -> Period:
        """`YYYY-MM` (also accepts `MM.YYYY`)."""
        text = text.strip()
        try:
            m, y = text.split(".") if "." in text else reversed(text.split("-"))
            year, month = int(y), int(m)
        except ValueError as exc:
            raise InvalidValue(f"Период «{text}» не распознан: ожидается ГГГГ-ММ", field="period") from exc
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def prev(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Segment:
    """Days [start, end] inclusive inside one period."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def segments(period: Period, change_days: Iterable[date]) -> list[Segment]:
    """Split the month at each day on which something changes (the change applies from that day)."""
    cuts = sorted({d for d in change_days if period.first_day < d <= period.last_day})
    bounds = [period.first_day, *cuts]
    result = []
    for i, start in enumerate(bounds):
        end = bounds[i + 1] - timedelta(days=1) if i + 1 < len(bounds) else period.last_day
        result.append(Segment(start, end))
    return result


def overlap_days(a_start: date, a_end: date | None, b_start: date, b_end: date) -> int:
    """Days of [a_start, a_end] (open end: None) inside [b_start, b_end], inclusive bounds."""
    end = b_end if a_end is None else min(a_end, b_end)
    start = max(a_start, b_start)
    return max(0, (end - start).days + 1)
