"""What an SMS costs before it is sent: its parts and their price.

A text written only in the GSM 03.38 default alphabet goes as 7-bit characters: 160 in a single part, 153 per
part of a split message (the rest of each part carries the concatenation header, 3GPP TS 23.040 §9.2.3.24.1);
a character of the alphabet's extension table (`^{}\\[~]|€` and form feed) takes two. Anything else — Cyrillic
among it — goes as UCS-2: 70 characters in a single part, 67 per part when split (a character outside the
Basic Multilingual Plane, an emoji, takes two UTF-16 units). The same rule as `channels/sms/parts.py` (the
adapter's), kept here because the domain does not import adapters.
"""

from __future__ import annotations

from decimal import Decimal
from math import ceil

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}  # (a single part, each part of a split message)


def sms_encoding(text: str) -> str:
    return "gsm7" if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text) else "ucs2"


def sms_parts(text: str) -> int:
    """The number of parts (billed messages) `text` is sent as; 0 for an empty text."""
    encoding = sms_encoding(text)
    if encoding == "gsm7":
        units = sum(2 if c in GSM_EXTENSION else 1 for c in text)
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    single, split = LIMITS[encoding]
    return 0 if units == 0 else 1 if units <= single else ceil(units / split)


def sms_cost(text: str, price: Decimal) -> Decimal:
    """What `text` costs at `price` per part (the tenant's setting)."""
    return (price * sms_parts(text)).quantize(Decimal("0.01"))
