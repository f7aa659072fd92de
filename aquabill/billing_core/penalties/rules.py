"""Federal overrides of the penalty rate of art. 155 part 14 of the Housing Code, as dated rules.

A rule applies to the days of delay that fall inside its dates (both ends inclusive); which key rate it
is compared with is chosen by the calculation (see `calc.RateDate`). A tenant may pass its own
`PenaltyRules` (e.g. `FEDERAL_RULES` with a date moved, or a later decree added): nothing here is global.

Checked with the stored-pages search on 2026-11-23 (texts quoted by legal digests, not the official
publication itself):

Moratoria (no penalty accrues):
- Decree No. 424 of 02.04.2020, item 5: collection of penalties for late housing and utility payments
  suspended "с 06.04.2020 до 01.01.2021" (social.novo-sibirsk.ru; the Supreme Court Review No. 2 of
  30.04.2020 as summarised on gradkostroma.ru: "с 06.04.2020 до 01.01.2021"). "До 01.01.2021" read as
  exclusive: the last moratorium day is 31.12.2020. The open-source calculator of the public vector
  counts 01.01.2021 as well; pass an override for that reading.
- Decree No. 497 of 28.03.2022 (bankruptcy moratorium, art. 9.1 of Law 127-FZ): in force from its
  publication on 01.04.2022 for 6 months, i.e. 01.04.2022 … 01.10.2022 (garant.ru/article/1550075,
  pravo.ru/story/241812). The calculator of the public vector starts it on 31.03.2022 (one day more).
  Whether it covers a particular debtor (it does not cover debts arising after 01.04.2022 — "current"
  payments — in the courts' reading) is a legal choice left to the tenant's rules.

Rate (percent per annum):
- Decree No. 474 of 26.03.2022, original text: until 01.01.2023 penalties are computed from the key rate
  in force on 27.02.2022 (9.5 %), for relations from 28.02.2022 (respectrb.ru/node/42922, КонсультантПлюс;
  lenobl.ru prosecutor: "с 28.02.2022 по 31.12.2022 ... 9,5%").
- Decree No. 1681 of 23.09.2022 amended 474: the lower of 9.5 % and the key rate on the day of actual
  payment, for relations from 01.08.2022 (roskvartal.ru news 14606; the 01.08.2022 start from the
  Minstroy draft as reported by obcontrolrt.ru). Extended to 2023 by Decree No. 2479 of 28.12.2022
  (admgor.nnov.ru prosecutor notice) and to 2024 by Decree No. 2382 of 29.12.2023 (cherinfo.ru,
  Rospotrebnadzor notice: "минимального значения ... на 27 февраля 2022 г. и ... на день фактической
  оплаты"; interfax.ru/russia/938627), i.e. valid until 31.12.2024.
- 01.01.2025 …: no special order at first (infotsiolkovskiy.ru: "с 1 января 2025 года ... вернулся к
  прежним правилам"), then Decree No. 329 of 18.03.2025 extended it until 01.01.2027 for relations from
  01.01.2025 "ключевая ставка, действовавшая на 27 февраля 2022 года (9,5% годовых)" (elcode.ru digest
  of 19.03.2025; vmeste-rf.tv). NOT verified against the decree's text: whether 2025–2026 is a fixed
  9.5 % or again "the lower of 9.5 % and the key rate". Coded as fixed 9.5 %, as the digests say; with
  every key rate of 2025–2026 known here at 14 % or more, both readings give the same figures.
- From 01.01.2027 nothing is known: the ordinary key rate applies until a rule is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

RATE_ON_27_02_2022 = Decimal("9.5")


class RateRuleKind(StrEnum):
    FIXED = "fixed"  # the rule's rate, whatever the key rate
    LOWER_OF = "lower_of"  # min(the rule's rate, the key rate chosen by the calculation)


@dataclass(frozen=True, slots=True)
class Moratorium:
    start: date  # inclusive
    end: date  # inclusive
    source: str


@dataclass(frozen=True, slots=True)
class RateRule:
    start: date  # inclusive
    end: date | None  # inclusive; None: open-ended
    kind: RateRuleKind
    rate: Decimal  # percent per annum
    source: str

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class PenaltyRules:
    moratoria: tuple[Moratorium, ...] = ()
    rate_rules: tuple[RateRule, ...] = ()

    def in_moratorium(self, day: date) -> bool:
        return any(m.start <= day <= m.end for m in self.moratoria)

    def rate_rule_on(self, day: date) -> RateRule | None:
        """The rule for a day of delay; when rules overlap, the one starting last wins."""
        found = [r for r in self.rate_rules if r.covers(day)]
        return max(found, key=lambda r: r.start) if found else None

    def effective_rate(self, day: date, key_rate: Decimal) -> Decimal:
        """Percent per annum for a day of delay, given the key rate the calculation chose."""
        rule = self.rate_rule_on(day)
        if rule is None:
            return key_rate
        if rule.kind is RateRuleKind.FIXED:
            return rule.rate
        return min(rule.rate, key_rate)

    def boundaries(self) -> set[date]:
        """First days of a new state (a moratorium or rule starting or ending), to cut intervals."""
        days: set[date] = set()
        for m in self.moratoria:
            days |= {m.start, date.fromordinal(m.end.toordinal() + 1)}
        for r in self.rate_rules:
            days.add(r.start)
            if r.end is not None:
                days.add(date.fromordinal(r.end.toordinal() + 1))
        return days


FEDERAL_RULES = PenaltyRules(
    moratoria=(
        Moratorium(date(2020, 4, 6), date(2020, 12, 31), "Постановление Правительства РФ от 02.04.2020 № 424"),
        Moratorium(date(2022, 4, 1), date(2022, 10, 1), "Постановление Правительства РФ от 28.03.2022 № 497"),
    ),
    rate_rules=(
        RateRule(date(2022, 2, 28), date(2022, 7, 31), RateRuleKind.FIXED, RATE_ON_27_02_2022,
                 "Постановление Правительства РФ от 26.03.2022 № 474"),
        RateRule(date(2022, 8, 1), date(2022, 12, 31), RateRuleKind.LOWER_OF, RATE_ON_27_02_2022,
                 "Постановление № 474 в ред. Постановления от 23.09.2022 № 1681"),
        RateRule(date(2023, 1, 1), date(2023, 12, 31), RateRuleKind.LOWER_OF, RATE_ON_27_02_2022,
                 "Постановление № 474 в ред. Постановления от 28.12.2022 № 2479"),
        RateRule(date(2024, 1, 1), date(2024, 12, 31), RateRuleKind.LOWER_OF, RATE_ON_27_02_2022,
                 "Постановление № 474 в ред. Постановления от 29.12.2023 № 2382"),
        RateRule(date(2025, 1, 1), date(2026, 12, 31), RateRuleKind.FIXED, RATE_ON_27_02_2022,
                 "Постановление № 474 в ред. Постановления от 18.03.2025 № 329 (текст не сверен: 9,5% "
                 "фиксированно или меньшая из 9,5% и ключевой)"),
    ),
)


# ---- when a month's charges are due (art. 155 part 1 of the Housing Code) -------------------------------
#
# Until 28.02.2026: "ежемесячно до десятого числа месяца, следующего за истекшим месяцем, если иное не
# установлено договором управления многоквартирным домом либо решением общего собрания" — the 10th, or the
# day a contract sets (the tenant's billing setting `payment_due_day`).
# From 01.03.2026 (the amendment moving the deadline to the 15th; its number was not verified here): "до
# пятнадцатого числа месяца, следующего за истекшим месяцем", and a contract or a meeting may no longer set
# another day; payment documents by the 5th. Checked with the stored-pages search on 2026-12-06: rbc.ru
# rbcfreenews 6995b6649a7947f02bd325f1 (01.03.2026: "закон больше не допускает изменения срока ... договором
# управления"), finance.rambler.ru 56108313 (01.03.2026), news.mail.ru 70015581 (03.03.2026).
# Which rule a month falls under is decided by the first day of the month its charges are paid in (the one
# after the billing month): February 2026 is due on 15.03.2026. Regional digests disagree on February
# (resbash.ru 25.02.2026: "счета за февраль оплачиваются по старым правилам — до 10 марта"; radio1.ru
# 07.03.2026 and the St Petersburg housing inspectorate via news.mail.ru 69972721: "до 15 марта"); the
# later, official reading is coded. Both the penalty calculation and the receipt use `payment_due`.

@dataclass(frozen=True, slots=True)
class DueDayRule:
    start: date  # the rule applies to charges paid in months starting on or after this day
    day: int  # the last day to pay, of the month after the billing month
    contract_may_change: bool  # whether a contract (the tenant's setting) may name another day
    source: str


DUE_DAY_RULES = (
    DueDayRule(date(2005, 3, 1), 10, True, "ч. 1 ст. 155 ЖК РФ"),
    DueDayRule(date(2026, 3, 1), 15, False, "ч. 1 ст. 155 ЖК РФ в редакции, действующей с 01.03.2026"),
)


@dataclass(frozen=True, slots=True)
class PaymentDue:
    on: date  # the last day to pay without delay (day 1 of delay is the next day)
    rule: DueDayRule
    by_contract: bool  # the tenant's contract day was used instead of the rule's


def _month_after(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1)


def payment_due(period: date, contract_day: int | None = None, rules: tuple[DueDayRule, ...] = DUE_DAY_RULES
                ) -> PaymentDue:
    """When the charges of the billing month `period` (any day of it) are due: the rule in force for the
    month after it; `contract_day` (the tenant's setting) counts only where that rule lets a contract set
    the day (a day past the month's end is its last day)."""
    nxt = _month_after(period)
    rule = max((r for r in rules if r.start <= nxt), key=lambda r: r.start, default=rules[0])
    day, by_contract = rule.day, False
    if contract_day is not None and rule.contract_may_change and contract_day != rule.day:
        day, by_contract = contract_day, True
    last = (_month_after(nxt) - nxt).days
    return PaymentDue(nxt.replace(day=max(1, min(day, last))), rule, by_contract)
