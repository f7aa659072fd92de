"""The payment string of a receipt QR code, GOST R 56042-2014 (pure: no I/O).

`ST` + version `0001` + encoding digit (`1` windows-1251, `2` UTF-8, `3` KOI8-R), then the separator
(normally `|`) and `Key=Value` pairs. Mandatory, in this order: Name, PersonalAcc, BankName, BIC,
CorrespAcc. `Sum` is in kopecks; `PersAcc` is the subscriber's personal account with the utility and
`PaymPeriod` the paid-for month: together they identify a manual payment made from a receipt.

Parsing is lenient where bank apps are (a trailing separator, unknown keys, mandatory keys out of order)
and strict about what the money depends on (the header, mandatory keys, digits of accounts and `Sum`).
Building always writes the mandatory keys first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from aquabill.billing_core.money import KOPECK
from aquabill.billing_core.payments.periods import format_payment_period, parse_payment_period
from aquabill.billing_core.periods import Period

FORMAT_ID = "ST"
VERSION = "0001"
HEADER_LENGTH = 7  # "ST0001" + encoding digit; the separator follows
MANDATORY = ("Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc")
TECH_CODE_HOUSING = "02"  # ЖКХ in the TechCode list

_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_DIGITS = re.compile(r"^\d+$")
# key → (allowed lengths, Russian caption); values must be digits of one of those lengths
_DIGIT_FIELDS: dict[str, tuple[tuple[int, ...], str]] = {
    "PersonalAcc": ((20,), "счёт получателя"),
    "BIC": ((9,), "БИК банка"),
    "CorrespAcc": ((20,), "корреспондентский счёт"),
    "PayeeINN": ((10, 12), "ИНН получателя"),
    "PayerINN": ((10, 12), "ИНН плательщика"),
    "KPP": ((9,), "КПП получателя"),
}
_CAPTIONS = {"Name": "наименование получателя", "PersonalAcc": "счёт получателя", "BankName": "банк получателя",
             "BIC": "БИК банка", "CorrespAcc": "корреспондентский счёт"}


class QrEncoding(Enum):
    CP1251 = "1"
    UTF8 = "2"
    KOI8R = "3"

    @property
    def codec(self) -> str:
        return {"1": "cp1251", "2": "utf-8", "3": "koi8-r"}[self.value]


class QrError(ValueError):
    """The string is not a usable GOST R 56042 payment string; `problems` lists every reason (Russian)."""

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("QR-код оплаты не принят: " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class PaymentQr:
    encoding: QrEncoding
    separator: str
    fields: tuple[tuple[str, str], ...]  # in the order of the string

    def get(self, key: str, default: str = "") -> str:
        return next((v for k, v in self.fields if k == key), default)

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)

    @property
    def name(self) -> str:
        return self.get("Name")

    @property
    def personal_acc(self) -> str:
        return self.get("PersonalAcc")

    @property
    def bic(self) -> str:
        return self.get("BIC")

    @property
    def amount(self) -> Decimal | None:
        """`Sum` (kopecks) in rubles."""
        raw = self.get("Sum")
        return (Decimal(int(raw)) / 100).quantize(KOPECK) if raw else None

    @property
    def pers_acc(self) -> str:
        """The subscriber's personal account with the utility (`PersAcc`)."""
        return self.get("PersAcc")

    @property
    def period(self) -> Period | None:
        raw = self.get("PaymPeriod")
        return parse_payment_period(raw) if raw else None

    @property
    def payer_name(self) -> str:
        return " ".join(p for p in (self.get("LastName"), self.get("FirstName"), self.get("MiddleName")) if p)

    @property
    def mandatory_first(self) -> bool:
        """Whether the mandatory keys come first and in the standard's order (bank apps expect it)."""
        return tuple(k for k, _ in self.fields[: len(MANDATORY)]) == MANDATORY


@dataclass(frozen=True, slots=True)
class ManualPaymentHint:
    """What a scanned receipt says about whose payment it is."""

    account: str | None
    period: Period | None
    amount: Decimal | None
    payer_name: str
    purpose: str


def payment_hint(qr: PaymentQr) -> ManualPaymentHint:
    return ManualPaymentHint(account=qr.pers_acc or None, period=qr.period, amount=qr.amount,
                             payer_name=qr.payer_name, purpose=qr.get("Purpose"))


# ---- parsing --------------------------------------------------------------------------------------------

def _header(head: str) -> tuple[QrEncoding, list[str]]:
    problems: list[str] = []
    if not head.startswith(FORMAT_ID):
        raise QrError([f"строка не начинается с «{FORMAT_ID}{VERSION}»: это не платёжный QR-код по ГОСТ Р 56042"])
    if len(head) < HEADER_LENGTH + 1:
        raise QrError(["строка обрывается на заголовке: нет реквизитов"])
    if head[2:6] != VERSION:
        problems.append(f"версия формата «{head[2:6]}» не поддерживается (ожидается {VERSION})")
    try:
        encoding = QrEncoding(head[6])
    except ValueError:
        raise QrError([*problems, f"кодировка «{head[6]}» не из 1 (windows-1251), 2 (UTF-8), 3 (КОИ8-Р)"]) \
            from None
    return encoding, problems


def parse_payment_string(data: str | bytes) -> PaymentQr:
    """Read the payment string from a QR code: text, or the raw bytes in the header's encoding."""
    if isinstance(data, bytes):
        data = data.removeprefix(b"\xef\xbb\xbf")
        encoding, problems = _header(data[: HEADER_LENGTH + 1].decode("ascii", errors="replace"))
        try:
            text = data.decode(encoding.codec)
        except UnicodeDecodeError as exc:
            raise QrError([f"байты не в кодировке {encoding.codec}, указанной в заголовке "
                           f"(байт {exc.start + 1})"]) from exc
    else:
        text = data.removeprefix("\ufeff")
        encoding, problems = _header(text)
    text = text.rstrip("\r\n")
    separator = text[HEADER_LENGTH]
    if separator.isalnum() or separator in "=":
        raise QrError([*problems, f"после заголовка ожидается разделитель (обычно «|»), а стоит «{separator}»"])
    fields: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, part in enumerate(text[HEADER_LENGTH + 1:].split(separator), start=1):
        if not part.strip():
            continue  # a trailing (or doubled) separator
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or not _KEY.match(key):
            problems.append(f"реквизит {number} «{part[:40]}» не вида «Ключ=Значение»")
            continue
        if key in seen:
            problems.append(f"реквизит «{key}» повторяется")
            continue
        seen.add(key)
        fields.append((key, value.strip()))
    qr = PaymentQr(encoding, separator, tuple(fields))
    problems.extend(_check(qr))
    if problems:
        raise QrError(problems)
    return qr


def _check(qr: PaymentQr) -> list[str]:
    problems: list[str] = []
    values = qr.as_dict()
    missing = [f"{k} ({_CAPTIONS[k]})" for k in MANDATORY if not values.get(k)]
    if missing:
        problems.append("нет обязательных реквизитов: " + ", ".join(missing))
    for key, (sizes, caption) in _DIGIT_FIELDS.items():
        value = values.get(key)
        if not value or (key == "CorrespAcc" and value == "0"):  # "0": the bank has no corr. account
            continue
        if not _DIGITS.match(value) or len(value) not in sizes:
            wanted = " или ".join(str(s) for s in sizes)
            problems.append(f"{key} ({caption}) «{value}»: нужно {wanted} цифр")
    raw_sum = values.get("Sum")
    if raw_sum is not None and not _DIGITS.match(raw_sum):
        problems.append(f"Sum «{raw_sum}»: сумма указывается в копейках, только цифрами")
    raw_period = values.get("PaymPeriod")
    if raw_period:
        try:
            parse_payment_period(raw_period)
        except ValueError as exc:
            problems.append(f"PaymPeriod: {exc}")
    return problems


# ---- building -------------------------------------------------------------------------------------------

def build_payment_string(
    fields: Mapping[str, str | Decimal | Period],
    *,
    encoding: QrEncoding = QrEncoding.UTF8,
    separator: str = "|",
) -> str:
    """The payment string for a receipt. `Sum` is given as Decimal rubles (or a str of kopecks),
    `PaymPeriod` as a Period (or a str); empty optional values are left out; mandatory keys go first."""
    problems: list[str] = []
    pairs: dict[str, str] = {}
    for key, value in fields.items():
        if not _KEY.match(key):
            problems.append(f"недопустимое имя реквизита «{key}»")
            continue
        if key == "Sum" and isinstance(value, Decimal):
            if value < 0 or value != value.quantize(KOPECK):
                problems.append(f"Sum {value}: сумма должна быть неотрицательной, с точностью до копеек")
                continue
            text = str(int(value * 100))
        elif isinstance(value, Period):
            text = format_payment_period(value)
        elif isinstance(value, str):
            text = " ".join(value.split())  # no line breaks inside a value
        else:
            problems.append(f"реквизит «{key}»: значение {value!r} не строка")
            continue
        if separator in text:
            problems.append(f"реквизит «{key}» содержит разделитель «{separator}»")
            continue
        if text:
            pairs[key] = text
    ordered = [k for k in MANDATORY if k in pairs] + [k for k in pairs if k not in MANDATORY]
    result = f"{FORMAT_ID}{VERSION}{encoding.value}" + "".join(f"{separator}{k}={pairs[k]}" for k in ordered)
    if encoding is not QrEncoding.UTF8:
        try:
            result.encode(encoding.codec)
        except UnicodeEncodeError as exc:
            problems.append(f"символ «{result[exc.start]}» не представим в кодировке {encoding.codec}")
    if not problems:
        problems.extend(_check(PaymentQr(encoding, separator, tuple((k, pairs[k]) for k in ordered))))
    if problems:
        raise QrError(problems)
    return result


def encode_payment_string(text: str) -> bytes:
    """The bytes to put into the QR code: the string in the encoding its header names."""
    encoding, problems = _header(text)
    if problems:
        raise QrError(problems)
    try:
        return text.encode(encoding.codec)
    except UnicodeEncodeError as exc:
        raise QrError([f"символ «{text[exc.start]}» не представим в кодировке {encoding.codec}"]) from exc
