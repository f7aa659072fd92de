"""Settlement and street names with an optional kind prefix: «г. Тестовск», «ул Речная», «пр-т Мира».

The first word is taken as the kind when it is one of the abbreviations below (with or without the dot,
any case, also glued to the name: «г.Тестовск») and a name follows it; it is stored in the canonical form
on the right. Otherwise the whole text is the name and the kind is the default («г.» for settlements,
«ул.» for streets). Names are matched exactly after trimming and collapsing spaces.
"""

from __future__ import annotations

import re
from typing import NamedTuple

SETTLEMENT_KINDS = {
    "г": "г.", "город": "г.", "пгт": "пгт", "рп": "рп", "п": "п.", "пос": "пос.", "посёлок": "пос.",
    "поселок": "пос.", "с": "с.", "село": "с.", "д": "д.", "дер": "д.", "деревня": "д.", "ст": "ст.",
    "станица": "ст-ца", "ст-ца": "ст-ца", "х": "х.", "хутор": "х.", "сл": "сл.", "слобода": "сл.",
    "снт": "снт", "мкр": "мкр.",
}
STREET_KINDS = {
    "ул": "ул.", "улица": "ул.", "пр-т": "пр-т", "пр-кт": "пр-т", "просп": "пр-т", "проспект": "пр-т",
    "пер": "пер.", "переулок": "пер.", "пл": "пл.", "площадь": "пл.", "б-р": "б-р", "бульвар": "б-р",
    "ш": "ш.", "шоссе": "ш.", "наб": "наб.", "набережная": "наб.", "проезд": "проезд", "пр-д": "проезд",
    "туп": "туп.", "тупик": "туп.", "мкр": "мкр.", "микрорайон": "мкр.", "кв-л": "кв-л", "квартал": "кв-л",
    "тер": "тер.", "аллея": "аллея", "линия": "линия", "тракт": "тракт", "спуск": "спуск",
}
DEFAULT_SETTLEMENT_KIND = "г."
DEFAULT_STREET_KIND = "ул."
KIND_MAX, NAME_MAX = 16, 200

_HEAD = re.compile(r"^([^\s.]+)(\.?)\s*(.*)$", re.S)


class Place(NamedTuple):  # a tuple: hashed and compared in C, used as a dict key per imported line
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def split_kind(raw: str, kinds: dict[str, str], default: str) -> Place:
    text = " ".join(raw.split())
    if not text:
        raise ValueError("пустое название")
    m = _HEAD.match(text)
    if m and m.group(3) and m.group(1).lower() in kinds:
        place = Place(kinds[m.group(1).lower()], m.group(3))
    else:
        place = Place(default, text)
    if len(place.name) > NAME_MAX:
        raise ValueError(f"слишком длинное название (больше {NAME_MAX} знаков)")
    return place


def settlement(raw: str) -> Place:
    return split_kind(raw, SETTLEMENT_KINDS, DEFAULT_SETTLEMENT_KIND)


def street(raw: str) -> Place:
    return split_kind(raw, STREET_KINDS, DEFAULT_STREET_KIND)
