"""VAT on a cash-desk receipt (pure): the tag 1199 value of a line, dated by the day of settlement, and the VAT
sum shown to the cashier.

The cash point's `vat` setting (cash_points.vat) says how the utility's own services are taxed:
- 'none' → 1199 = 6 «НДС не облагается» (an organisation on the simplified system, Tax Code art. 346.11 p. 2,
  or exempt under art. 145);
- '20' or '22' → the GENERAL rate in force on the day of settlement (Tax Code art. 164 p. 3): 20 % (1199 = 1)
  until 31.12.2025, 22 % (1199 = 11) from 01.01.2026 — Federal Law 425-FZ of 28.11.2025 amending art. 164
  p. 3. The values 11 and 12 of tag 1199 come from FNS order ЕД-7-20/1050@ of 08.12.2025 amending
  ЕД-7-20/662@ (FFD-1.2-TAGS.md, sources KL/YK). So a point set to '20' in 2025 goes on working in 2026;
- '10' → 2 (10 %), '0' → 5 (0 %);
- the calculated rates '10/110' → 4, '20/120' / '22/122' → the calculated general rate of the day: 3 (20/120)
  until 31.12.2025, 12 (22/122) from 01.01.2026.
A prepayment (an advance: 1214 = 1) is taxed at the calculated rate (Tax Code art. 164 p. 4): 20 → 20/120,
22 → 22/122, 10 → 10/110; 0 % and «без НДС» stay as they are.

The register computes the VAT it prints itself (FF46h with the tax sum «FF…FF»); `vat_amount` is only what the
page shows: amount × rate / (100 + rate) for a price that includes VAT, rounded once, half-up to the kopeck.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")
# the general rate became 22 % on this day (Federal Law 425-FZ of 28.11.2025, Tax Code art. 164 p. 3)
GENERAL_22_FROM = date(2026, 1, 1)
POINT_VAT = ("none", "0", "10", "20", "22", "10/110", "20/120", "22/122")  # cash_points_vat (t0030)

# tag 1199 value → (rate in percent, calculated: the rate is r/(100+r) of the sum, caption)
TAG_1199: dict[int, tuple[Decimal | None, str]] = {
    1: (Decimal(20), "НДС 20 %"),
    2: (Decimal(10), "НДС 10 %"),
    3: (Decimal(20), "НДС 20/120"),
    4: (Decimal(10), "НДС 10/110"),
    5: (Decimal(0), "НДС 0 %"),
    6: (None, "Без НДС"),
    7: (Decimal(5), "НДС 5 %"),
    8: (Decimal(7), "НДС 7 %"),
    9: (Decimal(5), "НДС 5/105"),
    10: (Decimal(7), "НДС 7/107"),
    11: (Decimal(22), "НДС 22 %"),
    12: (Decimal(22), "НДС 22/122"),
}
NO_VAT = 6


def general_tag(on: date, *, calculated: bool = False) -> int:
    """The general rate's 1199 value on the day of settlement: 1 (20 %) / 3 (20/120) until 31.12.2025,
    11 (22 %) / 12 (22/122) from 01.01.2026."""
    if on >= GENERAL_22_FROM:
        return 12 if calculated else 11
    return 3 if calculated else 1


def vat_tag(point_vat: str, on: date, *, advance: bool = False) -> int:
    """The 1199 value of a line sold at a point with VAT setting `point_vat` on the day `on`; `advance`: the
    line is a prepayment (calculated rate, Tax Code art. 164 p. 4)."""
    if point_vat not in POINT_VAT:
        raise ValueError(f"unknown cash point VAT setting {point_vat!r}")
    if point_vat == "none":
        return NO_VAT
    if point_vat == "0":
        return 5
    if point_vat in ("10", "10/110"):
        return 4 if advance or point_vat == "10/110" else 2
    # '20', '22', '20/120', '22/122': the general rate of the day
    return general_tag(on, calculated=advance or "/" in point_vat)


def vat_caption(tag: int) -> str:
    return TAG_1199[tag][1]


def vat_amount(amount: Decimal, tag: int) -> Decimal | None:
    """The VAT included in `amount` at the 1199 rate `tag` (None: «без НДС»), rounded once, half-up."""
    rate = TAG_1199[tag][0]
    if rate is None:
        return None
    return (amount * rate / (100 + rate)).quantize(KOPECK, rounding=ROUND_HALF_UP)
