"""Sberbank-style registry: the columns a layout may name, the agent's `RegistryLayout`, what reading a
registry gives (payments, rows, the trailer, the results) and the readers of its own cells (time, meter
reading). The reader itself is `sberbank_parser`; the entry points are in `sberbank`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import NamedTuple

from aquabill.billing_core.periods import Period
from aquabill.channels.bank_files.common import LineError

# Column names a layout may use. `payer_address` is one cell with the name and the address together.
TEXT_COLUMNS = ("branch", "office", "cashier", "payer", "address", "payer_address")
KNOWN_COLUMNS = frozenset({
    "date", "time", "operation_id", "account", "period", "amount", "commission", "transferred", "skip",
    *TEXT_COLUMNS,
})
REQUIRED_COLUMNS = ("date", "operation_id", "account", "amount")
DEFAULT_COLUMNS = (
    "date", "time", "branch", "cashier", "operation_id", "account", "payer_address", "period", "amount",
    "commission",
)
TRAILER_FIELDS = frozenset({"count", "amount", "commission", "transferred", "skip"})


@dataclass(frozen=True, slots=True)
class RegistryLayout:
    """How one agent writes its registry (from the agent's contract)."""

    columns: tuple[str, ...] = DEFAULT_COLUMNS
    separator: str = ";"
    encoding: str | None = None  # None: detected (UTF-8 if valid, else windows-1251)
    readings: bool = True  # cells after the last column are meter readings `serial:value`
    trailer_prefix: str = "="
    trailer: tuple[str, ...] = ("count", "amount", "commission", "transferred")  # fields after the prefix
    trailer_required: bool = False

    def __post_init__(self) -> None:
        unknown = [c for c in self.columns if c not in KNOWN_COLUMNS]
        if unknown:
            raise ValueError(f"Неизвестные столбцы реестра: {', '.join(unknown)}")
        missing = [c for c in REQUIRED_COLUMNS if c not in self.columns]
        if missing:
            raise ValueError(f"В описании реестра нет обязательных столбцов: {', '.join(missing)}")
        named = [c for c in self.columns if c != "skip"]
        if len(named) != len(set(named)):
            raise ValueError("Столбец реестра указан дважды")
        if any(f not in TRAILER_FIELDS for f in self.trailer):
            raise ValueError("Неизвестное поле итоговой строки реестра")
        if not self.separator:
            raise ValueError("Не указан разделитель полей реестра")


DEFAULT_LAYOUT = RegistryLayout()


@dataclass(frozen=True, slots=True)
class MeterReading:
    serial: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class RegistryPayment:
    line: int
    paid_on: date
    paid_time: time | None
    operation_id: str  # the agent's unique operation number: the idempotency key upstream
    account: str  # personal account number as the payer gave it
    amount: Decimal  # paid by the payer, rubles
    commission: Decimal = Decimal("0.00")
    transferred: Decimal | None = None  # amount transferred to the utility, when the registry has it
    period: Period | None = None
    branch: str = ""
    office: str = ""
    cashier: str = ""
    payer: str = ""
    address: str = ""
    payer_address: str = ""
    readings: tuple[MeterReading, ...] = ()


class RegistryRow(NamedTuple):
    """A kept payment line as a plain tuple: the fields of `RegistryPayment`, in its order."""

    line: int
    paid_on: date
    paid_time: time | None
    operation_id: str
    account: str
    amount: Decimal
    commission: Decimal
    transferred: Decimal | None
    period: Period | None
    branch: str
    office: str
    cashier: str
    payer: str
    address: str
    payer_address: str
    readings: tuple[MeterReading, ...]


@dataclass(frozen=True, slots=True)
class RegistryTrailer:
    line: int
    count: int | None
    amount: Decimal | None
    commission: Decimal | None
    transferred: Decimal | None


@dataclass(frozen=True, slots=True)
class RegistryParseResult:
    checksum: str  # sha256 of the raw bytes
    encoding: str
    payments: tuple[RegistryPayment, ...]
    errors: tuple[LineError, ...]  # refused lines
    warnings: tuple[LineError, ...] = ()  # kept lines with a problem that does not touch the money
    file_errors: tuple[str, ...] = ()  # the registry as a whole must be rejected
    trailer: RegistryTrailer | None = None
    lines_read: int = 0  # payment lines (kept and refused), trailer and blank lines excluded

    @property
    def accepted(self) -> bool:
        return not self.file_errors

    @property
    def operation_ids(self) -> tuple[str, ...]:
        return tuple(p.operation_id for p in self.payments)

    @property
    def total_amount(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    @property
    def total_commission(self) -> Decimal:
        return sum((p.commission for p in self.payments), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class RegistryRows:
    """`read_registry`'s result: as `RegistryParseResult`, with the kept lines as `RegistryRow` tuples."""

    checksum: str
    encoding: str
    rows: list[RegistryRow]
    errors: tuple[LineError, ...]
    warnings: tuple[LineError, ...] = ()
    file_errors: tuple[str, ...] = ()
    trailer: RegistryTrailer | None = None
    lines_read: int = 0

    @property
    def accepted(self) -> bool:
        return not self.file_errors


_TIME = re.compile(r"^(\d{1,2})[:.-](\d{2})(?:[:.-](\d{2}))?$")
_READING_VALUE = re.compile(r"^\d+(?:[.,]\d+)?$")


def parse_time(raw: str) -> time:
    m = _TIME.match(raw.strip())
    if not m:
        raise ValueError(f"время «{raw.strip()}» не распознано: ожидается ЧЧ:ММ:СС")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(f"время «{raw.strip()}» не существует")
    return time(h, mi, s)


def parse_reading(raw: str) -> MeterReading:
    """`serial:value` (value with `.` or `,`)."""
    serial, sep, value = raw.strip().rpartition(":")
    serial, value = serial.strip(), value.strip()
    if not sep or not serial or not _READING_VALUE.match(value):
        raise ValueError(f"показание «{raw.strip()}» не распознано: ожидается «номер счётчика:значение»")
    return MeterReading(serial, Decimal(value.replace(",", ".")))

