"""What each import KIND expects: its columns, how a cell is parsed, the row's natural key and the
cross-column checks. `parse_rows` turns a CSV table into typed rows plus per-line errors (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from aquabill.billing_core.imports import addresses
from aquabill.billing_core.imports.addresses import Place
from aquabill.billing_core.imports.csvfile import (
    CsvFileError,
    CsvTable,
    clean_text,
    parse_date,
    parse_decimal,
    parse_int,
)

READING_SOURCES = ("import", "operator", "portal", "bot", "controller", "bank")
DEFAULT_TARIFF_GROUP = "population"


# ---- typed rows ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HouseRow:
    settlement: Place
    street: Place
    house: str
    built_year: int | None
    floors: int | None
    improvement: str | None


@dataclass(frozen=True, slots=True)
class AccountRow:
    account_number: str
    settlement: Place
    street: Place
    house: str
    apartment: str
    area_m2: Decimal | None
    residents: Decimal | None
    holder: str
    opened_on: date
    phone: str | None


@dataclass(frozen=True, slots=True)
class ParameterRow:
    account_number: str
    parameter: str
    value: str  # checked against the parameter's type when the types are known (loader)
    valid_from: date


@dataclass(frozen=True, slots=True)
class TariffRow:
    service: str
    tariff_group: str
    price: Decimal
    valid_from: date
    basis: str = ""  # the act that set the value; empty: keep the stored one (a new row: none)


@dataclass(frozen=True, slots=True)
class NormRow:
    service: str
    improvement: str
    volume: Decimal
    valid_from: date
    basis: str = ""  # the act that set the value; empty: keep the stored one (a new row: none)


@dataclass(frozen=True, slots=True)
class MeterRow:
    account_number: str
    service: str
    serial: str
    digits: int
    installed_on: date
    initial_reading: Decimal
    verified_until: date | None
    removed_on: date | None


@dataclass(frozen=True, slots=True)
class ReadingRow:
    serial: str
    read_on: date
    value: Decimal
    source: str


# ---- cell parsers (raise ValueError with a Russian message) --------------------------------------------

def _text(max_len: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = clean_text(raw)
        if len(value) > max_len:
            raise ValueError(f"слишком длинное значение (больше {max_len} знаков)")
        return value

    return parse


def _code(max_len: int) -> Callable[[str], str]:
    """Codes and numbers (account, house, serial): trimmed, inner spaces collapsed."""
    return _text(max_len)


def _decimal(scale: int, below: int, minimum: Decimal | None = Decimal(0)) -> Callable[[str], Decimal]:
    return lambda raw: parse_decimal(raw, scale=scale, below=Decimal(below), minimum=minimum)


def _int(low: int, high: int) -> Callable[[str], int]:
    return lambda raw: parse_int(raw, low=low, high=high)


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(f"«{raw}» — допустимо: {', '.join(options)}")
        return value

    return parse


def _residents(raw: str) -> Decimal:
    return Decimal(parse_int(raw, low=0, high=999))


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    required: bool = False  # the column must be in the header and the cell must not be empty
    default: Any = None  # value of an empty cell of an optional column
    repeats: bool = False  # few distinct values (addresses, dates, codes): parse each distinct text once


@dataclass(frozen=True)
class KindSpec:
    kind: str
    title: str  # Russian, for messages
    row_type: type
    columns: tuple[Column, ...]
    key: Callable[[Any], tuple]  # natural key: two lines with the same key describe the same object
    check: Callable[[Any], None] = lambda row: None  # cross-column rules

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _check_meter(row: MeterRow) -> None:
    if row.removed_on is not None and row.removed_on < row.installed_on:
        raise ValueError("дата снятия счётчика раньше даты установки")
    if row.initial_reading >= Decimal(10) ** row.digits:
        raise ValueError(f"начальное показание {row.initial_reading} не помещается в {row.digits} разрядов")


SPECS: dict[str, KindSpec] = {s.kind: s for s in (
    KindSpec("houses", "дома", HouseRow, (
        Column("settlement", addresses.settlement, True, repeats=True),
        Column("street", addresses.street, True, repeats=True),
        Column("house", _code(32), True, repeats=True),
        Column("built_year", _int(1700, 2100), repeats=True),
        Column("floors", _int(1, 200), repeats=True),
        Column("improvement", _text(32), repeats=True),
    ), key=lambda r: (r.settlement, r.street, r.house)),
    KindSpec("accounts", "лицевые счета", AccountRow, (
        Column("account_number", _code(32), True),
        Column("settlement", addresses.settlement, True, repeats=True),
        Column("street", addresses.street, True, repeats=True),
        Column("house", _code(32), True, repeats=True),
        Column("apartment", _code(32), default="", repeats=True),
        Column("area_m2", _decimal(2, 10**8)),
        Column("residents", _residents, repeats=True),
        Column("holder", _text(300), default=""),
        Column("opened_on", parse_date, True, repeats=True),
        Column("phone", _text(20)),
    ), key=lambda r: (r.account_number,)),
    KindSpec("parameters", "параметры лицевых счетов", ParameterRow, (
        Column("account_number", _code(32), True),
        Column("parameter", lambda raw: _code(32)(raw).lower(), True, repeats=True),
        Column("value", _text(1000), True),
        Column("valid_from", parse_date, True, repeats=True),
    ), key=lambda r: (r.account_number, r.parameter, r.valid_from)),
    KindSpec("tariffs", "тарифы", TariffRow, (
        Column("service", _code(32), True, repeats=True),
        Column("tariff_group", _code(32), default=DEFAULT_TARIFF_GROUP, repeats=True),
        Column("price", _decimal(4, 10**8), True),
        Column("valid_from", parse_date, True, repeats=True),
        Column("basis", _text(500), default="", repeats=True),
    ), key=lambda r: (r.service, r.tariff_group, r.valid_from)),
    KindSpec("norms", "нормативы", NormRow, (
        Column("service", _code(32), True, repeats=True),
        Column("improvement", _code(32), True, repeats=True),
        Column("volume", _decimal(4, 10**6), True),
        Column("valid_from", parse_date, True, repeats=True),
        Column("basis", _text(500), default="", repeats=True),
    ), key=lambda r: (r.service, r.improvement, r.valid_from)),
    KindSpec("meters", "счётчики", MeterRow, (
        Column("account_number", _code(32), True),
        Column("service", _code(32), True, repeats=True),
        Column("serial", _code(64), True),
        Column("digits", _int(1, 12), True, repeats=True),
        Column("installed_on", parse_date, True, repeats=True),
        Column("initial_reading", _decimal(3, 10**11), default=Decimal(0)),
        Column("verified_until", parse_date, repeats=True),
        Column("removed_on", parse_date, repeats=True),
    ), key=lambda r: (r.serial, r.service, r.installed_on), check=_check_meter),
    KindSpec("readings", "показания", ReadingRow, (
        Column("serial", _code(64), True),
        Column("read_on", parse_date, True, repeats=True),
        Column("value", _decimal(4, 10**11, minimum=None), True),
        Column("source", _choice(READING_SOURCES), default="import", repeats=True),
    ), key=lambda r: (r.serial, r.read_on, r.value)),
)}
KINDS = tuple(SPECS)


# ---- parsing a table -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    error: str


@dataclass
class ParsedRows:
    kind: str
    lines: int = 0  # data records read (blank lines are not counted)
    rows: list[tuple[int, Any]] = field(default_factory=list)  # (line, typed row), first of each key
    errors: list[LineError] = field(default_factory=list)
    repeated: list[tuple[int, int]] = field(default_factory=list)  # (line, earlier identical line)
    ignored_columns: tuple[str, ...] = ()


def spec_of(kind: str) -> KindSpec:
    spec = SPECS.get(kind)
    if spec is None:
        raise CsvFileError(f"Неизвестный вид загрузки «{kind}»: допустимо {', '.join(KINDS)}")
    return spec


def check_header(spec: KindSpec, columns: tuple[str, ...]) -> tuple[str, ...]:
    """Raise when required columns are missing; return the columns that will be ignored."""
    missing = [c for c in spec.required if c not in columns]
    if missing:
        raise CsvFileError(f"Нет обязательных столбцов: {', '.join(missing)}. Файл «{spec.kind}» "
                           f"({spec.title}) содержит столбцы: {', '.join(c.name for c in spec.columns)}")
    known = {c.name for c in spec.columns}
    return tuple(c for c in columns if c not in known)


class _Failed(str):
    """A cached parse failure (its message)."""


def row_parser(spec: KindSpec) -> Callable[[dict[str, str]], Any]:
    """A function turning one record's cells into a typed row; ValueError with a Russian message naming the
    column. Cells of `repeats` columns are parsed once per distinct text."""
    columns = [(c.name, c.parse, c.required, c.default, {} if c.repeats else None) for c in spec.columns]
    row_type, check = spec.row_type, spec.check

    def parse(cells: dict[str, str]) -> Any:
        values: dict[str, Any] = {}
        for name, fn, required, default, cache in columns:
            raw = cells.get(name, "")
            if not raw:
                if required:
                    raise ValueError(f"Не заполнен столбец {name}")
                values[name] = default
                continue
            if cache is None:
                try:
                    values[name] = fn(raw)
                except ValueError as exc:
                    raise ValueError(f"Столбец {name}: {exc}") from exc
                continue
            try:
                value = cache[raw]
            except KeyError:
                try:
                    value = fn(raw)
                except ValueError as exc:
                    value = _Failed(str(exc))
                cache[raw] = value
            if isinstance(value, _Failed):
                raise ValueError(f"Столбец {name}: {value}")
            values[name] = value
        row = row_type(**values)
        check(row)
        return row

    return parse


def parse_rows(kind: str, table: CsvTable) -> ParsedRows:
    spec = spec_of(kind)
    result = ParsedRows(kind, ignored_columns=check_header(spec, table.columns))
    first: dict[tuple, tuple[int, Any]] = {}
    parse_row = row_parser(spec)
    for record in table.records:
        result.lines += 1
        if record.extra:
            result.errors.append(LineError(record.line, f"Значений больше, чем столбцов в заголовке "
                                                        f"({len(table.columns)})"))
            continue
        try:
            row = parse_row(record.cells)
        except ValueError as exc:
            result.errors.append(LineError(record.line, _capitalise(str(exc))))
            continue
        key = spec.key(row)
        earlier = first.get(key)
        if earlier is None:
            first[key] = (record.line, row)
            result.rows.append((record.line, row))
        elif earlier[1] == row:
            result.repeated.append((record.line, earlier[0]))
        else:
            result.errors.append(LineError(record.line, f"Строка повторяет строку {earlier[0]} "
                                                        "(тот же объект) с другими значениями"))
    return result


def _capitalise(message: str) -> str:
    return message[:1].upper() + message[1:]
