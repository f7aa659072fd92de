"""What an explanation is built from: a charge row as the run wrote it (with the inputs it kept, t0025), its day
segments, and the reference facts around it (meters, coefficients and their decrees, the settings of the
average, the house's common-property figures). Plain data, read by explain.py, used by explain_text.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from aquabill.billing_core.periods import Period

COMPUTED = ("meter", "norm", "average", "substitute", "common")
SEGMENT_FIELDS = ("meter_id", "read_from", "value_from", "read_to", "value_to", "last_read_on", "broken_from",
                  "avg_volume", "avg_months", "norm", "persons", "absent")
_DATES = {"read_from", "read_to", "last_read_on", "broken_from"}
_NUMBERS = {"value_from", "value_to", "avg_volume", "norm", "persons", "absent"}


@dataclass(frozen=True, slots=True)
class Segment:
    """Days [start, end] of one charge row with the inputs of its method (None where not kept)."""

    start: date
    end: date
    volume: Decimal | None = None  # the segment's own volume (several segments); None: the row's
    meter_id: int | None = None
    read_from: date | None = None
    value_from: Decimal | None = None
    read_to: date | None = None
    value_to: Decimal | None = None
    last_read_on: date | None = None
    broken_from: date | None = None
    avg_volume: Decimal | None = None
    avg_months: int | None = None
    norm: Decimal | None = None
    persons: Decimal | None = None
    absent: Decimal | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class Meter:
    id: int
    serial: str
    installed_on: date
    failed_on: date | None
    verified_until: date | None
    digits: int
    reversible: bool


@dataclass(frozen=True, slots=True)
class Coefficient:
    service_kind: str
    value: Decimal
    valid_from: date
    source: str
    basis: str


@dataclass(frozen=True, slots=True)
class CommonFigures:
    """A house's common-property cold water of one run and month (common_property_volumes)."""

    building_volume: Decimal | None
    individual_volume: Decimal | None
    norm: Decimal | None
    common_area: Decimal | None
    capped: bool
    volume: Decimal
    total_area: Decimal | None


@dataclass
class Facts:
    """The reference facts of one account's month."""

    meters: dict[int, Meter] = field(default_factory=dict)
    coefficients: list[Coefficient] = field(default_factory=list)
    avg_periods: int = 3
    avg_min_months: int = 3
    common: dict[tuple[int | None, date], CommonFigures] = field(default_factory=dict)  # (run, month) → figures

    def coefficient(self, kind: str, value: Decimal, on: date) -> Coefficient | None:
        """The coefficient row that gave `value` for the service kind on that day (the tenant's on a tie)."""
        rows = [c for c in self.coefficients if c.service_kind == kind and c.valid_from <= on]
        rows.sort(key=lambda c: (c.valid_from, c.source == "tenant"))
        if rows and rows[-1].value == value:
            return rows[-1]
        same = [c for c in rows if c.value == value]
        return same[-1] if same else None

    def coefficient_exists(self, kind: str, on: date) -> bool:
        return any(c.service_kind == kind and c.valid_from <= on for c in self.coefficients)


@dataclass(frozen=True, slots=True)
class Row:
    """A charge row of the month (or, inside a recalculation, a recomputed row of the corrected month)."""

    service_code: str
    service_name: str
    service_kind: str
    method: str
    volume: Decimal
    tariff: Decimal
    coefficient: Decimal
    amount: Decimal
    days: int
    period: Period  # the month computed
    segments: tuple[Segment, ...] = ()
    area: Decimal | None = None
    run_id: int | None = None
    id: int | None = None
    note: str = ""
    corrects_period: Period | None = None
    source: str | None = None
    inputs: dict[str, Any] | None = None


def _date(v: Any) -> date | None:
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(str(v))


def _number(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def segment_of(values: dict[str, Any], start: date, end: date, volume: Any = None) -> Segment:
    kw: dict[str, Any] = {}
    for name in SEGMENT_FIELDS:
        v = values.get(name)
        kw[name] = _date(v) if name in _DATES else _number(v) if name in _NUMBERS else (
            int(v) if v is not None else None)
    return Segment(start=start, end=end, volume=_number(volume), **kw)


def segments_of(values: dict[str, Any], days: int) -> tuple[Segment, ...]:
    """The day segments of a row: several kept in `inputs`, one in the columns, or none (older rows)."""
    merged = values.get("segments") or (values.get("inputs") or {}).get("segments")  # (a recomputed line: at the top)
    if merged:
        return tuple(segment_of(s, _date(s["from"]), _date(s["to"]), s.get("volume")) for s in merged)
    start = _date(values.get("seg_from"))
    if start is None:
        return ()
    return (segment_of(values, start, start + timedelta(days=max(days, 1) - 1)),)


def row_of(values: dict[str, Any], *, period: Period, service: dict[str, Any]) -> Row:
    """A Row from a charges row (or a recomputed line kept in a recalculation's inputs) and its service."""
    corrects = values.get("corrects_period")
    return Row(
        service_code=service["code"], service_name=service["name"], service_kind=service["kind"],
        method=values["method"], volume=_number(values.get("volume")) or Decimal(0),
        tariff=_number(values.get("tariff")) or Decimal(0),
        coefficient=_number(values.get("coefficient")) or Decimal(1), amount=_number(values["amount"]),
        days=int(values.get("days") or 0), period=period,
        segments=segments_of(values, int(values.get("days") or 0)), area=_number(values.get("area")),
        run_id=values.get("run_id"), id=values.get("id"), note=values.get("note") or "",
        corrects_period=Period.of(_date(corrects)) if corrects else None, source=values.get("source"),
        inputs=values.get("inputs"))
