"""What the bank-file readers share: decoding, the file checksum, line errors, money and date cells.

Pure functions over bytes and text; every message is Russian and addressed to the operator."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

BOM = b"\xef\xbb\xbf"


class BankFileError(ValueError):
    """The file as a whole cannot be read (encoding, wrong format): nothing is taken from it."""


@dataclass(frozen=True, slots=True)
class LineError:
    """A refused line (or document starting at `line`); line numbers count physical lines from 1."""

    line: int
    message: str
    text: str = ""  # the raw line, kept so that nothing is lost

    def __str__(self) -> str:
        return f"Строка {self.line}: {self.message}"


def checksum(data: bytes) -> str:
    """sha256 of the raw file bytes, hex: the same file loaded twice has the same checksum."""
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding used. Without `encoding`: a UTF-8 BOM or valid UTF-8 means UTF-8,
    anything else is read as windows-1251 (cp1251 text is practically never valid UTF-8)."""
    if encoding is not None:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise BankFileError(f"Файл не читается в кодировке {encoding}: {exc}") from exc
    if data.startswith(BOM):
        try:
            return data[len(BOM):].decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            raise BankFileError(f"Файл с меткой UTF-8 повреждён (байт {exc.start + 4})") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251"), "cp1251"
    except UnicodeDecodeError as exc:
        raise BankFileError("Кодировка файла не распознана: ожидается windows-1251 или UTF-8 "
                            f"(недопустимый байт {exc.start + 1})") from exc


AMOUNT_PATTERN = re.compile(r"^[+-]?\d+(?:[.,]\d{1,2})?$")  # what `parse_amount` takes
_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")


def parse_amount(raw: str, what: str = "сумма") -> Decimal:
    """`1234.56`, `1234,56` or `1234` → Decimal with 2 places; at most kopecks, no thousands separators."""
    text = raw.strip()
    if not AMOUNT_PATTERN.match(text):
        raise ValueError(f"{what} «{raw.strip()}» не число с точностью до копеек")
    try:
        return Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes it
        raise ValueError(f"{what} «{text}» не число") from exc


def parse_ru_date(raw: str, what: str = "дата") -> date:
    """`DD.MM.YYYY` (also `/` or `-` between the parts)."""
    m = _DATE.match(raw.strip())
    if not m:
        raise ValueError(f"{what} «{raw.strip()}» не распознана: ожидается ДД.ММ.ГГГГ")
    d, mo, y = (int(g) for g in m.groups())
    try:
        return date(y, mo, d)
    except ValueError as exc:
        raise ValueError(f"{what} «{raw.strip()}» не существует") from exc
