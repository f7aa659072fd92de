"""Penalty (пени) on one debt under art. 155 part 14 of the Housing Code, to the day — or under another
scale of the same shape (`PenaltyScale`: Federal Law 416-FZ for organisations, legal_entities/penalties.py).

Day n of delay is `due + n` (the due date itself is the last day to pay). Art. 155 (`HOUSING_CODE_155`,
the default): days 1–30 nothing; days 31–90: 1/300 of the rate per day; from day 91: 1/130. Moratorium
days accrue nothing.

The debt is split into parts: each payment after the due date is a part that was late from day 1 to
its payment date (the payment day itself counts, the debt shrinks from the next day); what is still
unpaid is a part late up to the day before the calculation date. A payment on or before the due date
shrinks the debt with no delay; payments on or after the calculation date are not counted. Each part
is cut where the fraction, a moratorium, a federal rule or (in `EACH_DAY` mode) the key rate changes;
each piece is one row of the breakdown. Rows keep exact amounts; the total is rounded once (money.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from aquabill.billing_core.money import money
from aquabill.billing_core.penalties.rates import KEY_RATES, KeyRate, changes_between, rate_on
from aquabill.billing_core.penalties.rules import FEDERAL_RULES, PenaltyRules, payment_due

GRACE_DAYS = 30  # days 1–30 of delay: no penalty
LOW_FRACTION_LAST_DAY = 90  # days 31–90: 1/300; from day 91: 1/130
DENOMINATOR_EARLY = 300
DENOMINATOR_LATE = 130


@dataclass(frozen=True, slots=True)
class ScaleStep:
    from_day: int  # the first day of delay (1 = the day after the due date) the fraction applies from
    denominator: int  # the fraction of the rate per day is 1/denominator


@dataclass(frozen=True, slots=True)
class PenaltyScale:
    """The days-of-delay scale of a penalty: before the first step nothing accrues (a grace period),
    from each step's day its fraction of the rate, until the next step."""

    steps: tuple[ScaleStep, ...]  # ascending by from_day, the first from_day >= 1
    source: str = ""

    @property
    def grace_days(self) -> int:
        return self.steps[0].from_day - 1

    def denominator_on(self, day_of_delay: int) -> int | None:
        found = [s.denominator for s in self.steps if s.from_day <= day_of_delay]
        return found[-1] if found else None


# art. 155 part 14 of the Housing Code in the wording of Law 307-FZ of 03.11.2015
HOUSING_CODE_155 = PenaltyScale(
    (ScaleStep(GRACE_DAYS + 1, DENOMINATOR_EARLY), ScaleStep(LOW_FRACTION_LAST_DAY + 1, DENOMINATOR_LATE)),
    "ч. 14 ст. 155 ЖК РФ")


class RateDate(StrEnum):
    """Which day's key rate the penalty of a part uses (before the federal rules are applied)."""

    PAYMENT_DAY = "payment_day"  # a paid part: its payment date; the unpaid rest: the calculation date
    CALCULATION_DAY = "calculation_day"  # every part: the calculation date
    EACH_DAY = "each_day"  # the key rate in force on each day of delay


class PenaltyScope(StrEnum):
    ALL_DEBTS = "all_debts"  # paid parts and the unpaid rest
    PAID_DEBTS_ONLY = "paid_debts_only"  # only parts already paid (the unpaid rest accrues when paid)


class RowKind(StrEnum):
    GRACE = "grace"  # before the scale's first step (art. 155 ЖК: days 1–30)
    MORATORIUM = "moratorium"
    ACCRUAL = "accrual"


@dataclass(frozen=True, slots=True)
class Payment:
    paid_on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PenaltyRow:
    part: str  # "оплата 01.01.2020" or "остаток"
    kind: RowKind
    date_from: date
    date_to: date  # inclusive
    days: int
    base: Decimal  # the part of the debt
    denominator: int | None  # 300, 170 or 130 (the scale's); None when nothing accrues
    rate: Decimal | None  # percent per annum after the federal rules
    amount: Decimal  # exact, not rounded

    @property
    def fraction(self) -> str | None:
        return None if self.denominator is None else f"1/{self.denominator}"


@dataclass(frozen=True, slots=True)
class PenaltyResult:
    rows: tuple[PenaltyRow, ...]
    total: Decimal  # rounded once to kopecks

    @property
    def exact_total(self) -> Decimal:
        return sum((r.amount for r in self.rows), Decimal(0))


def due_date(period: date, day: int | None = None) -> date:
    """Last day to pay for a billing month (`period` = any day of it): the dated rule of art. 155 part 1
    (`rules.payment_due`, the same one the receipt prints) — the 10th or the contract's `day` until
    28.02.2026, the 15th from 01.03.2026."""
    return payment_due(period, day).on


def _parts(amount: Decimal, due: date, payments: Iterable[Payment], calc_date: date,
           scope: PenaltyScope) -> list[tuple[str, Decimal, date, date]]:
    """(label, base, last day of delay, rate reference date) per late part."""
    rest = amount
    parts: list[tuple[str, Decimal, date, date]] = []
    for p in sorted(payments, key=lambda p: p.paid_on):
        if rest <= 0 or p.paid_on >= calc_date:
            break
        used = min(p.amount, rest)
        rest -= used
        if p.paid_on > due and used > 0:
            parts.append((f"оплата {p.paid_on:%d.%m.%Y}", used, p.paid_on, p.paid_on))
    if rest > 0 and scope is PenaltyScope.ALL_DEBTS:
        parts.append(("остаток", rest, calc_date - timedelta(days=1), calc_date))
    return parts


def calculate_penalty(amount: Decimal, due: date, payments: Iterable[Payment], calc_date: date, *,
                      rate_date: RateDate = RateDate.PAYMENT_DAY,
                      scope: PenaltyScope = PenaltyScope.ALL_DEBTS,
                      rules: PenaltyRules = FEDERAL_RULES,
                      key_rates: tuple[KeyRate, ...] = KEY_RATES,
                      scale: PenaltyScale = HOUSING_CODE_155) -> PenaltyResult:
    """Penalty on a debt of `amount` payable by `due`, with `payments` against it, as of `calc_date`
    (days of delay up to the day before it). `rules` are the federal rules or a tenant's override;
    `scale` the grace days and fractions (art. 155 of the Housing Code unless told)."""
    first = due + timedelta(days=1)
    low_from = due + timedelta(days=scale.steps[0].from_day)
    step_starts = {due + timedelta(days=s.from_day) for s in scale.steps}
    rows: list[PenaltyRow] = []
    for label, base, last, ref in _parts(amount, due, payments, calc_date, scope):
        if last < first:
            continue
        cuts = step_starts | rules.boundaries()
        if rate_date is RateDate.EACH_DAY:
            cuts |= set(changes_between(first, last, key_rates))
        starts = sorted({first} | {c for c in cuts if first < c <= last})
        for i, start in enumerate(starts):
            end = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else last
            days = (end - start).days + 1
            if start < low_from:
                rows.append(PenaltyRow(label, RowKind.GRACE, start, end, days, base, None, None, Decimal(0)))
                continue
            if rules.in_moratorium(start):
                rows.append(PenaltyRow(label, RowKind.MORATORIUM, start, end, days, base, None, None,
                                       Decimal(0)))
                continue
            denominator = scale.denominator_on((start - due).days)
            assert denominator is not None  # start >= low_from: the first step applies
            key = rate_on(start if rate_date is RateDate.EACH_DAY
                          else calc_date if rate_date is RateDate.CALCULATION_DAY else ref, key_rates)
            rate = rules.effective_rate(start, key)
            value = base * rate * days / (100 * denominator)
            rows.append(PenaltyRow(label, RowKind.ACCRUAL, start, end, days, base, denominator, rate, value))
    result_rows = tuple(rows)
    return PenaltyResult(result_rows, money(sum((r.amount for r in result_rows), Decimal(0))))
