"""Reading a CSV file from an old system: encoding, separator, header, records with line numbers, and the
cell formats (dates, decimals, integers). Pure functions; every message is in Russian for the user."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

SEPARATORS = (";", ",", "\t")
BOM = "\ufeff"


class CsvFileError(ValueError):
    """The file as a whole cannot be read (encoding, header): nothing is loaded."""


@dataclass(frozen=True, slots=True)
class Record:
    line: int  # physical line where the record starts; the header is line 1
    cells: dict[str, str]  # normalised column name → stripped cell text ("" when missing)
    extra: bool = False  # more cells than columns, some of them non-empty


@dataclass(frozen=True, slots=True)
class CsvTable:
    separator: str
    columns: tuple[str, ...]
    records: list[Record]


def decode(data: bytes) -> str:
    """UTF-8 with or without a BOM."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvFileError("Файл не в кодировке UTF-8: сохраните его как «CSV UTF-8» "
                           f"(ошибка в байте {exc.start + 1})") from exc
    return text.removeprefix(BOM)


def sniff_separator(header_line: str) -> str:
    """The separator that occurs most often in the header (`;` wins ties: decimal commas are common)."""
    counts = {sep: header_line.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ","


def normalise_column(name: str) -> str:
    """`Account Number ` → `account_number`."""
    return re.sub(r"[\s\-]+", "_", name.replace(BOM, "").strip().lower())


def read_table(data: bytes | str) -> CsvTable:
    text = decode(data) if isinstance(data, bytes) else data.removeprefix(BOM)
    first = next((ln for ln in text.splitlines() if ln.strip()), None)
    if first is None:
        raise CsvFileError("Файл пуст: нужна строка заголовка с названиями столбцов")
    separator = sniff_separator(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    columns: tuple[str, ...] | None = None
    width = 0
    records: list[Record] = []
    last = 0
    try:
        for cells in reader:
            start, last = last + 1, reader.line_num
            stripped = [c.strip() for c in cells]
            if not any(stripped):
                continue
            if columns is None:
                columns = tuple(normalise_column(c) for c in cells)
                _check_header(columns)
                width = len(columns)
                continue
            if len(stripped) < width:
                stripped += [""] * (width - len(stripped))
            extra = len(stripped) > width and any(stripped[width:])
            records.append(Record(start, dict(zip(columns, stripped, strict=False)), extra))
    except csv.Error as exc:
        raise CsvFileError(f"Строка {reader.line_num}: файл CSV повреждён ({exc})") from exc
    assert columns is not None
    return CsvTable(separator, columns, records)


def _check_header(columns: tuple[str, ...]) -> None:
    if any(not c for c in columns):
        raise CsvFileError("В заголовке есть пустое название столбца")
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            raise CsvFileError(f"Столбец «{c}» повторяется в заголовке")
        seen.add(c)


# ---- cell formats --------------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_RU = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_NUMBER = re.compile(r"^[+-]?(\d+)(?:[.,](\d+))?$")
_SPACES = str.maketrans("", "", " \t\u00a0\u202f")  # thousands separators
MIN_YEAR, MAX_YEAR = 1900, 2200


def parse_date(raw: str) -> date:
    """`YYYY-MM-DD` or `DD.MM.YYYY`."""
    raw = raw.strip()
    m = _ISO.match(raw)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    elif m := _RU.match(raw):
        d, mo, y = (int(g) for g in m.groups())
    else:
        raise ValueError(f"дата «{raw}» не распознана: ожидается ГГГГ-ММ-ДД или ДД.ММ.ГГГГ")
    try:
        value = date(y, mo, d)
    except ValueError as exc:
        raise ValueError(f"нет такой даты: «{raw}»") from exc
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"дата «{raw}» вне допустимого диапазона ({MIN_YEAR}–{MAX_YEAR} гг.)")
    return value


def parse_decimal(raw: str, *, scale: int, below: Decimal, minimum: Decimal | None = Decimal(0)) -> Decimal:
    """A plain decimal with `.` or `,` (spaces as thousands separators allowed); at most `scale` decimals,
    `minimum <= value < below`."""
    text = raw.translate(_SPACES)
    m = _NUMBER.match(text)
    if not m:
        raise ValueError(f"число «{raw}» не распознано")
    if m.group(2) and len(m.group(2).rstrip("0")) > scale:
        raise ValueError(f"в числе «{raw}» больше {scale} знаков после запятой")
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(f"число «{raw}» не распознано") from exc
    if minimum is not None and value < minimum:
        raise ValueError(f"число {raw} меньше {minimum}" if minimum else f"отрицательное число: {raw}")
    if abs(value) >= below:
        raise ValueError(f"слишком большое число: {raw}")
    return value


def parse_int(raw: str, *, low: int, high: int) -> int:
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"ожидается целое число, получено «{raw}»")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"число {value} вне допустимого диапазона {low}–{high}")
    return value


def clean_text(raw: str) -> str:
    """Trim and collapse runs of whitespace."""
    return " ".join(raw.split())
