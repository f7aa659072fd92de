"""How a printing is cut into bundles (pure): accounts come in print order (`select_accounts`: settlement,
street, house, flat) with their house; a bundle is a house ('house') or N accounts in a row ('count'). Each
bundle gets a title (the house's address, or the first and last houses of the range) and a file name
`NNN-<slug>.pdf` (the title in Latin letters, for any print house's file system)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aquabill.base.errors import Invalid

DEFAULT_SIZE = 500
MAX_SIZE = 10_000
_LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                  ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t",
                   "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))


@dataclass(frozen=True, slots=True)
class Bundle:
    no: int
    title: str
    account_ids: list[int]
    file_name: str

    def as_dict(self) -> dict[str, Any]:
        return {"no": self.no, "title": self.title, "ids": self.account_ids, "file_name": self.file_name}


def bundle_policy(raw: Any) -> tuple[str, int | None]:
    """'house' → ('house', None); a number N (or its text) → ('count', N); nothing → ('count', 500)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "count", DEFAULT_SIZE
    if isinstance(raw, str) and raw.strip().lower() in ("house", "дом"):
        return "house", None
    try:
        size = int(str(raw).strip()) if not isinstance(raw, bool) else None
    except ValueError:
        size = None
    if size is None or not 1 <= size <= MAX_SIZE:
        raise Invalid(f"Пачка: «по дому» или число квитанций в файле от 1 до {MAX_SIZE:_}".replace("_", " "),
                      field="bundle")
    return "count", size


def slug(title: str, limit: int = 48) -> str:
    """The title in lower-case Latin letters, digits and hyphens."""
    latin = "".join(_LATIN.get(ch, ch) for ch in title.lower())
    return re.sub(r"[^a-z0-9]+", "-", latin).strip("-")[:limit].strip("-") or "receipts"


def cut(rows: list[tuple[int, int, str]], by: str, size: int | None) -> list[Bundle]:
    """Bundles of the accounts `rows` = (account_id, house_id, house address) in print order."""
    groups: list[list[tuple[int, int, str]]] = []
    for row in rows:
        if groups and (groups[-1][-1][1] == row[1] if by == "house" else len(groups[-1]) < (size or DEFAULT_SIZE)):
            groups[-1].append(row)
        else:
            groups.append([row])
    bundles = []
    for no, group in enumerate(groups, start=1):
        first, last = group[0][2], group[-1][2]
        title = first if first == last else f"{first} — {last}"
        bundles.append(Bundle(no, title, [r[0] for r in group], f"{no:03d}-{slug(first)}.pdf"))
    return bundles
