"""Choosing an executor for a request (pure): among the active executors of a division who cover the
request's territory and are below their cap, the least loaded; ties by user id.

Territory: an executor lists houses and/or streets. One who covers the request's house comes before one who
covers its street, who comes before one with no territory at all (works anywhere in the division). An
executor with a territory that does not cover the request's house or street is not a candidate. A request
without a house can go to any executor of the division.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    user_id: int
    division_id: int
    cap: int  # open requests at most
    load: int  # open requests now (assigned or in work)
    active: bool = True
    houses: frozenset[int] = field(default_factory=frozenset)
    streets: frozenset[int] = field(default_factory=frozenset)

    @property
    def has_territory(self) -> bool:
        return bool(self.houses or self.streets)


def coverage(c: Candidate, house_id: int | None, street_id: int | None) -> int | None:
    """0: covers the house itself, 1: its street, 2: no territory (anywhere); None: does not cover it."""
    if house_id is None and street_id is None:
        return 2 if not c.has_territory else 1
    if house_id is not None and house_id in c.houses:
        return 0
    if street_id is not None and street_id in c.streets:
        return 1
    return None if c.has_territory else 2


def choose_executor(candidates: list[Candidate], *, division_id: int | None, house_id: int | None = None,
                    street_id: int | None = None, exclude: frozenset[int] = frozenset()) -> Candidate | None:
    """The executor to assign, or None when nobody fits (all busy to their cap, excluded or elsewhere)."""
    ranked = []
    for c in candidates:
        if not c.active or c.user_id in exclude or c.load >= c.cap:
            continue
        if division_id is not None and c.division_id != division_id:
            continue
        level = coverage(c, house_id, street_id)
        if level is None:
            continue
        ranked.append(((level, c.load, c.user_id), c))
    return min(ranked, key=lambda x: x[0])[1] if ranked else None
