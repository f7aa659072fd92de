"""How the allocation will cover one payment of an account, as a pure rule shared by the receipts that must name
it in advance (the cash desk's receipt lines, the online payment's receipt): the account's advance (and credits)
covers the oldest debts first (allocation steps 4–5), the payment covers what is left of each debt in the order
given (oldest month first, then the tenant's service order; step 5), then the penalty balance (step 6); what is
still left is an advance (step 6). Sums are kopecks exact: nothing is rounded here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Cover:
    debts: tuple[Decimal, ...]  # the part of each debt (in the order given) the payment pays, 0 where none
    penalty: Decimal  # the part of the penalty balance it pays
    advance: Decimal  # what is left: an advance


def cover(debts: Sequence[Decimal], penalty: Decimal, advance: Decimal, amount: Decimal) -> Cover:
    """The parts of a payment of `amount` (they add up to `amount` exactly); a negative penalty or advance
    counts as none."""
    skip, left = max(advance, ZERO), amount

    def take(debt: Decimal) -> Decimal:
        nonlocal skip, left
        used = min(skip, debt)
        skip -= used
        part = min(debt - used, left)
        left -= part
        return part

    parts = tuple(take(debt) for debt in debts)
    penalty_part = take(max(penalty, ZERO))
    return Cover(parts, penalty_part, left)
