"""What the cashier typed or scanned into the one search field (pure): a receipt's Code 128 barcode, a receipt's
QR payment string (GOST R 56042), an account number, or words of an address / a holder's name.

The barcode (see `aquabill/channels/print/code128.py`, `receipt_barcode`) is 26 digits:
`AAAAAAAAAAAA` the account number zero-padded to 12, `MMYY` the receipt's month, `SSSSSSSSSS` the sum to pay
in kopecks, zero-padded to 10. A scanner types the digits and Enter; the padding hides how many leading
zeros the account number itself has, so `account_candidates` lists every number it may stand for.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aquabill.billing_core.payments.qr import QrError, parse_payment_string, payment_hint
from aquabill.billing_core.periods import Period

BARCODE_LENGTH = 26
ACCOUNT_DIGITS, SUM_DIGITS = 12, 10


class CodeError(ValueError):
    """The input looks like a receipt's code but cannot be read; the message is Russian."""


@dataclass(frozen=True, slots=True)
class Scanned:
    """What the input says: `kind` 'barcode' | 'qr' | 'number' | 'text'."""

    kind: str
    text: str  # the input, trimmed (for 'text' and 'number' the search string)
    account: str | None = None  # the account number the code names (barcode: the 12 digits, zero-padded)
    period: Period | None = None
    amount: Decimal | None = None  # the receipt's sum to pay


def parse_barcode(digits: str) -> Scanned:
    """The 26 digits of a receipt's barcode → account (12 digits as printed), month, sum."""
    if len(digits) != BARCODE_LENGTH or not (digits.isascii() and digits.isdigit()):
        raise CodeError(f"Штрихкод квитанции — {BARCODE_LENGTH} цифр, а отсканировано {len(digits)}")
    account, mm, yy, kopecks = digits[:12], int(digits[12:14]), int(digits[14:16]), int(digits[16:])
    if not 1 <= mm <= 12:
        raise CodeError(f"В штрихкоде неверный месяц {mm:02d}: это не штрихкод квитанции")
    return Scanned("barcode", digits, account=account, period=Period(2000 + yy, mm),
                   amount=(Decimal(kopecks) / 100).quantize(Decimal("0.01")))


def account_candidates(padded: str) -> list[str]:
    """The account numbers a zero-padded barcode account may be: `000000100127` → `100127`, `0100127`,
    `00100127`, …, `000000100127` (an all-zero field gives nothing)."""
    core = padded.lstrip("0")
    if not core:
        return []
    return [padded[i:] for i in range(len(padded) - len(core), -1, -1)]


def classify(raw: str) -> Scanned:
    """What the search field holds; a malformed QR or barcode is a `CodeError` with the reason."""
    text = raw.strip().removeprefix("\ufeff")
    if not text:
        return Scanned("text", "")
    if text.startswith("ST0001"):
        try:
            hint = payment_hint(parse_payment_string(text))
        except QrError as exc:
            raise CodeError(str(exc)) from exc
        if not hint.account:
            raise CodeError("В QR-коде квитанции нет лицевого счёта (PersAcc)")
        return Scanned("qr", text, account=hint.account, period=hint.period, amount=hint.amount)
    compact = text.replace(" ", "")
    if compact.isascii() and compact.isdigit():
        if len(compact) == BARCODE_LENGTH:
            return parse_barcode(compact)
        return Scanned("number", compact)
    return Scanned("text", text[:200])
