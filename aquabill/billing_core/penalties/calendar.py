"""The rule calendar of a penalty run: what one rouble of debt accrues, per month of origin and last day
of delay, as exact sums of daily rates — small tables the set-based run joins to the debts.

For a debt of month m (due date D) and a part of it late up to day L, `calc.calculate_penalty` adds, for
each day x of D+31 … L that is neither a moratorium nor a deferral day, base × rate(x) / (100 × 300) for
x ≤ D+90 and base × rate(x) / (100 × 130) after. So per rouble of base the part's penalty is
    (f300 / 30000 + f130 / 13000),  f300 = Σ rate(x) over x in D+31 … min(L, D+90),  f130 = Σ over D+91 … L,
with rate(x) = `rules.effective_rate(x, key)` and the key rate of the part chosen by `RateDate`:
  PAYMENT_DAY — a paid part: the key rate on its payment day L; the unpaid rest: on the calculation date;
  CALCULATION_DAY — the key rate on the calculation date; EACH_DAY — the key rate on day x.
Both sums are exact decimals (rates have two places), so the run rounds once:
    total = round((13 × Σ base × f300 + 30 × Σ base × f130) / 390000, 2)   (money.py's rule, half up).
`f_rows` gives (group, month, L, f300, f130) for every L in D+31 … calc_date − 1 (the key of a paid part
depends on L only); `rest_rows` gives (group, month, f300, f130) for the unpaid rest (L = calc_date − 1,
its own key). A group is a set of deferrals (extra no-penalty days for part of the housing stock);
group 0 has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from aquabill.billing_core.penalties.calc import (
    DENOMINATOR_EARLY,
    GRACE_DAYS,
    LOW_FRACTION_LAST_DAY,
    RateDate,
)
from aquabill.billing_core.penalties.rates import KeyRate, rate_on
from aquabill.billing_core.penalties.rules import Moratorium, PenaltyRules, RateRuleKind

ZERO = Decimal(0)
# total = (EARLY_WEIGHT × Σ base·f300 + LATE_WEIGHT × Σ base·f130) / DIVISOR  (= /30000 + /13000)
EARLY_WEIGHT, LATE_WEIGHT, DIVISOR = 13, 30, 390000
assert DENOMINATOR_EARLY * 100 * EARLY_WEIGHT == DIVISOR


@dataclass(frozen=True, slots=True)
class Calendar:
    f_rows: list[tuple[int, date, date, Decimal, Decimal]]  # group, month, last day L, f300, f130
    rest_rows: list[tuple[int, date, Decimal, Decimal]]  # group, month, f300, f130


class NoKeyRate(ValueError):
    pass


def _key(day: date, key_rates: tuple[KeyRate, ...]) -> Decimal:
    try:
        return rate_on(day, key_rates)
    except ValueError as exc:
        raise NoKeyRate(f"Нет ключевой ставки на {day:%d.%m.%Y}: добавьте её в таблицу ключевых ставок") from exc


def build_calendar(calc_date: date, dues: dict[date, date], *, rules: PenaltyRules, key_rates: tuple[KeyRate, ...],
                   rate_date: RateDate, groups: dict[int, Iterable[Moratorium]] | None = None) -> Calendar:
    """Tables for the months of origin in `dues` (month → due date), as of `calc_date` (its day is not
    counted), for group 0 and each group of deferrals in `groups` (extra no-penalty date ranges)."""
    groups = {0: (), **(groups or {})}
    last = calc_date - timedelta(days=1)
    dues = {m: d for m, d in dues.items() if d + timedelta(days=GRACE_DAYS + 1) <= last}
    if not dues:
        return Calendar([], [])
    start = min(dues.values()) + timedelta(days=GRACE_DAYS + 1)
    n = (last - start).days + 1
    days = [start + timedelta(days=i) for i in range(n)]
    rules_on = [rules.rate_rule_on(x) for x in days]
    federal_off = [rules.in_moratorium(x) for x in days]
    rest_key = None if rate_date is RateDate.EACH_DAY else _key(calc_date, key_rates)
    if rate_date is RateDate.PAYMENT_DAY:
        part_keys = [_key(x, key_rates) for x in days]  # a part paid on L: the key of L
    elif rate_date is RateDate.CALCULATION_DAY:
        part_keys = [rest_key] * n
    else:
        part_keys = [None] * n
    daily_keys = [_key(x, key_rates) for x in days] if rate_date is RateDate.EACH_DAY else None

    def idx(day: date) -> int:  # position in the cumulative arrays (0 = the day before `start`)
        return (day - start).days + 1

    f_rows: list[tuple[int, date, date, Decimal, Decimal]] = []
    rest_rows: list[tuple[int, date, Decimal, Decimal]] = []
    for g, extra in groups.items():
        extra = tuple(extra)
        off = [federal_off[i] or any(m.start <= x <= m.end for m in extra) for i, x in enumerate(days)]
        cums: dict[Decimal | None, list[Decimal]] = {}

        def cum(key: Decimal | None, off=off, cums=cums) -> list[Decimal]:
            found = cums.get(key)
            if found is None:
                found, acc = [ZERO], ZERO
                for i in range(n):
                    if not off[i]:
                        k = daily_keys[i] if key is None else key
                        rule = rules_on[i]
                        acc += k if rule is None else rule.rate if rule.kind is RateRuleKind.FIXED else min(rule.rate, k)
                    found.append(acc)
                cums[key] = found
            return found

        for m, due in sorted(dues.items()):
            low_end = idx(due + timedelta(days=LOW_FRACTION_LAST_DAY))
            grace_end = idx(due + timedelta(days=GRACE_DAYS))
            first = due + timedelta(days=GRACE_DAYS + 1)

            def sums(c: list[Decimal], i: int, low_end=low_end, grace_end=grace_end) -> tuple[Decimal, Decimal]:
                f300 = c[min(i, low_end)] - c[grace_end]
                f130 = c[i] - c[low_end] if i > low_end else ZERO
                return f300, f130

            for i in range(idx(first), n + 1):
                f300, f130 = sums(cum(part_keys[i - 1]), i)
                f_rows.append((g, m, days[i - 1], f300, f130))
            f300, f130 = sums(cum(rest_key), n)
            rest_rows.append((g, m, f300, f130))
    return Calendar(f_rows, rest_rows)
