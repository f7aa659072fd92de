"""Meter reading validation: capacity, meter life, decrease, rollover through zero, implausible jumps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class ReadingStatus(StrEnum):
    ACCEPTED = "accepted"  # used by billing
    FLAGGED = "flagged"  # plausible format but suspicious: held until an operator confirms it
    REJECTED = "rejected"  # never used; the reason says why


@dataclass(frozen=True, slots=True)
class MeterSpec:
    digits: int  # integer digits of the register
    fraction_digits: int
    installed_on: date
    initial_reading: Decimal
    removed_on: date | None = None
    reversible: bool = False

    @property
    def capacity(self) -> Decimal:
        """The register wraps to zero at this value."""
        return Decimal(10) ** self.digits


@dataclass(frozen=True, slots=True)
class KnownReading:
    read_on: date
    value: Decimal


@dataclass(frozen=True, slots=True)
class ReadingCheck:
    status: ReadingStatus
    consumption: Decimal | None = None  # since the previous reading (or the initial one)
    rollover: bool = False
    reason: str = ""


DEFAULT_MAX_DAILY_M3 = Decimal("2.5")  # a generous ceiling for one dwelling; tenant-configurable


def check_reading(
    meter: MeterSpec,
    value: Decimal,
    read_on: date,
    previous: KnownReading | None,
    following: KnownReading | None = None,
    *,
    max_daily_m3: Decimal = DEFAULT_MAX_DAILY_M3,
) -> ReadingCheck:
    """Classify a new reading against the meter and its neighbours in time.

    `previous` is the latest accepted reading before `read_on` (None: compare with the initial
    reading at installation); `following` is the earliest accepted one after it, if any.
    """
    if value < 0:
        return _reject("Показание не может быть отрицательным")
    if value >= meter.capacity:
        return _reject(f"Показание {value} превышает разрядность счётчика ({meter.digits} знаков до запятой)")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > meter.fraction_digits:
        return _reject(f"Слишком много знаков после запятой: счётчик показывает {meter.fraction_digits}")
    if read_on < meter.installed_on:
        return _reject(f"Дата показания раньше установки счётчика ({meter.installed_on:%d.%m.%Y})")
    if meter.removed_on is not None and read_on > meter.removed_on:
        return _reject(f"Дата показания позже снятия счётчика ({meter.removed_on:%d.%m.%Y})")

    base = previous or KnownReading(meter.installed_on, meter.initial_reading)
    if previous is not None and read_on == previous.read_on and value != previous.value:
        return _reject(f"На {read_on:%d.%m.%Y} уже есть показание {previous.value}")
    days = max(1, (read_on - base.read_on).days)
    ceiling = max_daily_m3 * days
    if following is not None and following.value < value and not meter.reversible:
        wrap = meter.capacity - value + following.value
        if wrap > max_daily_m3 * max(1, (following.read_on - read_on).days):
            return _reject(f"Показание больше последующего ({following.value} на {following.read_on:%d.%m.%Y})")

    delta = value - base.value
    if delta >= 0:
        if delta > ceiling:
            return ReadingCheck(ReadingStatus.FLAGGED, delta, reason=(
                f"Неправдоподобный расход {delta} м³ за {days} дн. (больше {ceiling} м³): требуется проверка"))
        return ReadingCheck(ReadingStatus.ACCEPTED, delta)
    if meter.reversible:
        return ReadingCheck(ReadingStatus.ACCEPTED, delta)
    wrap = meter.capacity - base.value + value
    if wrap <= ceiling:
        return ReadingCheck(ReadingStatus.ACCEPTED, wrap, rollover=True)
    return _reject(f"Показание {value} меньше предыдущего ({base.value} на {base.read_on:%d.%m.%Y})")


def _reject(reason: str) -> ReadingCheck:
    return ReadingCheck(ReadingStatus.REJECTED, reason=reason)
