"""Exact money and volume arithmetic. Rounding is stated here, once.

- Money: kopecks (2 decimals), ties away from zero (Decimal ROUND_HALF_UP). PostgreSQL's round(numeric, 2)
  follows the same rule, so the set-based runs use `round(x, 2)` and agree with this module to the kopeck.
- Volumes: cubic metres to 3 decimals (litres), same tie rule (`round(x, 3)` in SQL).
- Prices and norms keep up to 4 decimals as given by the tariff decisions; only results are rounded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")
LITRE = Decimal("0.001")
MONEY_SCALE = 2
VOLUME_SCALE = 3


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)


def volume(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(LITRE, rounding=ROUND_HALF_UP)


def to_kopecks(amount: Decimal) -> int:
    return int(money(amount) * 100)
