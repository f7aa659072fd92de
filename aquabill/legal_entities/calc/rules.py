"""The norms of the legal entities' calculation as pure functions (the SQL of `compute` applies the same constants;
the unit tests pin both to these).

Sources, as verified on 2026-12-07 with the stored pages (consultant.ru, cons_doc_LAW_151600):
- Rules of commercial metering of water and sewage, Government Decree 776 of 04.09.2013 («Правила организации
  коммерческого учета воды, сточных вод»):
  p. 14 (verified): metering is by calculation a) without a meter, unauthorised connection or use included;
  b) when the meter is faulty; c) when readings are not submitted for more than 6 months;
  p. 15 (verified): the calculation methods — a) the throughput capacity of the connection, b) the average monthly
  (daily, hourly) volume, c) the guaranteed volume, d) the sum of volumes;
  p. 16 (verified in its opening words and case «г»): the capacity method — round-the-clock flow through the full
  cross-section of the pipe at the connection point at 1.2 m/s — applies to unauthorised connection / use, and
  when readings are not submitted for more than 6 months (case «г»); its cases for a missing meter and for a meter
  faulty longer than the average method allows are stated as the author remembers the text, not verified;
  p. 17 (NOT verified — from memory of the text): the average daily volume is taken from the meter's readings of
  the last year, or of the actual shorter period the meter worked, and is applied for at most 60 days after the
  meter failed (its verification lapsing counts as a fault), after which the capacity method applies;
  p. 23 (NOT verified — from memory): the volume of wastewater discharged equals the volume of water supplied
  unless the contract sets otherwise; the contract's share is `contract_points.discharge_share`.
  Wastewater by capacity (checked 2026-12-07): p. 15 «а» / p. 16 name the capacity method for the devices
  «используемых для присоединения к централизованным системам водоснабжения» — water, verified in the
  consultant.ru text; that p. 16 also covers wastewater could NOT be verified. What was found, from a secondary
  source only (panor.ru, «Юридические аспекты пользования системами ливневых канализаций», quoting the Rules):
  p. 24 — with unauthorised use of the centralised sewer system the volume of wastewater is calculated «с
  использованием метода учета пропускной способности канализационных сетей» by the Ministry of Construction's
  methodological guidelines (their formula not read). So: an outlet without a sewage meter on a site with no
  supply point (nothing to take «sewage = water» from) is billed by the capacity of its pipe, with the p. 16
  formula (full cross-section, 1.2 m/s, round the clock) — the nearest rule we have; to be confirmed against the
  guidelines. Without the pipe's diameter the contract is not billed (a problem of the run).
- Surface (storm) wastewater: a contract of kind 'stormwater' is billed by area × precipitation × runoff
  coefficient only (`stormwater_m3`); its outlets («Ливневый выпуск») are not sewage outlets and get no lines.
- Rules of cold water supply and sewage, Government Decree 644 of 29.07.2013: the tariffs and the monthly
  billing period of the contracts (not re-read here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

# Decree 776 p. 16: the speed of water in the capacity method, m/s, and round-the-clock flow
CAPACITY_SPEED_M_S = Decimal("1.2")
SECONDS_PER_DAY = 86400
# Decree 776 p. 17 (unverified, see above): days the average volume may stand in for a faulty meter
AVERAGE_MAX_DAYS = 60
# Decree 776 p. 14 «в» / p. 16 «г» (verified): months without readings after which the capacity method applies;
# until then the missing days are billed by the average volume
NO_READINGS_MONTHS = 6
# Decree 776 p. 17 (unverified): the average is taken over the readings of the last year (or a shorter actual
# period of the meter's work)
AVERAGE_BASIS_MONTHS = 12
VOLUME_Q = Decimal("0.001")  # volumes are kept in m³ to the litre
KOPECK = Decimal("0.01")


def round_volume(v: Decimal) -> Decimal:
    return v.quantize(VOLUME_Q, rounding=ROUND_HALF_UP)


def round_money(v: Decimal) -> Decimal:
    """The one rounding of money: a line's amount = volume × price, half-up to the kopeck."""
    return v.quantize(KOPECK, rounding=ROUND_HALF_UP)


def capacity_daily_m3(diameter_mm: int) -> Decimal:
    """Decree 776 p. 16: π·d²/4 (m²) × 1.2 m/s × 86 400 s — the pipe's daily throughput, m³, to the litre."""
    area = Decimal(repr(math.pi)) * (Decimal(diameter_mm) / 1000) ** 2 / 4
    return round_volume(area * CAPACITY_SPEED_M_S * SECONDS_PER_DAY)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the last day of a shorter month), as PostgreSQL's date + interval."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


@dataclass(frozen=True, slots=True)
class Piece:
    method: str  # average | capacity
    reason: str  # no_readings | no_readings_6m | failed | failed_60d
    date_from: date
    date_to: date


def gap_pieces(gap_from: date, gap_to: date, last_on: date, broken_from: date | None) -> list[Piece]:
    """The days [gap_from, gap_to] of a meter after its last usable reading (`last_on`): by the average while
    readings are merely missing (up to 6 months after the last one), by capacity after that; from the day the
    meter is faulty (`broken_from`) by the average for 60 days, by capacity after."""
    no_readings_end = add_months(last_on, NO_READINGS_MONTHS)  # the last day of the average for missing readings
    broken = broken_from or date.max
    raw = [
        ("average", "no_readings", gap_from, min(gap_to, broken - timedelta(days=1), no_readings_end)),
        ("capacity", "no_readings_6m", max(gap_from, no_readings_end + timedelta(days=1)),
         min(gap_to, broken - timedelta(days=1))),
    ]
    if broken_from is not None:
        raw += [("average", "failed", max(gap_from, broken_from),
                 min(gap_to, broken_from + timedelta(days=AVERAGE_MAX_DAYS - 1))),
                ("capacity", "failed_60d", max(gap_from, broken_from + timedelta(days=AVERAGE_MAX_DAYS)), gap_to)]
    return [Piece(m, r, a, b) for m, r, a, b in raw if a <= b]


def average_basis(last_on: date, first_on: date) -> tuple[date, date]:
    """The days whose readings give the average: (from, to] — the year before the last usable reading, or the
    shorter period since the meter's first reading (its installation)."""
    return max(add_months(last_on, -AVERAGE_BASIS_MONTHS), first_on), last_on


def split_days(date_from: date, date_to: date, cuts: list[date]) -> list[tuple[date, date]]:
    """[date_from, date_to] cut before each day of `cuts` inside it (a tariff or a contract version starting)."""
    starts = sorted({date_from, *(c for c in cuts if date_from < c <= date_to)})
    ends = [s - timedelta(days=1) for s in starts[1:]] + [date_to]
    return list(zip(starts, ends, strict=True))


def meter_part(diff: Decimal, prev_on: date, read_on: date, s: date, e: date) -> Decimal:
    """The volume of days [s, e] of a reading interval (prev_on, read_on] with consumption `diff`, rounded
    cumulatively from the interval's start so that its parts always add up to `diff` exactly."""
    n = (read_on - prev_on).days
    return (round_volume(diff * (e - prev_on).days / n)
            - round_volume(diff * ((s - prev_on).days - 1) / n))


def stormwater_m3(area_m2: Decimal, mm: Decimal, coefficient: Decimal, days: int, month_days: int) -> Decimal:
    """Surface wastewater of a month: area × precipitation (mm / 1000) × runoff coefficient, for `days` of it."""
    return round_volume(area_m2 * mm / 1000 * coefficient * days / month_days)
