"""How many SMS parts a text takes (pure): what a message costs and whether it fits one part.

A text written only in the GSM 03.38 default alphabet goes as 7-bit characters: 160 in a single part, 153 per
part when split (the rest of each part carries the concatenation header); a character of the alphabet's
extension table (`^{}\\[~]|€` and form feed) takes two. Anything else — Cyrillic among it — goes as UCS-2:
70 characters in a single part, 67 per part when split (a character outside the Basic Multilingual Plane,
an emoji, takes two UTF-16 units).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}  # (single part, each part of a split message)


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: str  # "gsm7" | "ucs2"
    units: int  # septets (gsm7) or UTF-16 code units (ucs2)
    parts: int  # 0 for an empty text


def count_parts(text: str) -> Segments:
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        encoding, units = "gsm7", sum(2 if c in GSM_EXTENSION else 1 for c in text)
    else:
        encoding, units = "ucs2", sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    single, split = LIMITS[encoding]
    parts = 0 if units == 0 else 1 if units <= single else ceil(units / split)
    return Segments(encoding, units, parts)


def sms_parts(text: str) -> int:
    """The number of parts (billed messages) `text` is sent as."""
    return count_parts(text).parts
