"""By when the payment document (receipt, ЕПД) of a billing month must reach the subscriber — on paper or
electronically — a dated rule, like the payment deadline (billing_core/penalties/rules.payment_due).

- Until 28.02.2026: «не позднее первого числа месяца, следующего за истекшим месяцем, если иной срок не
  установлен договором управления многоквартирным домом либо решением общего собрания…» — п. 1 ч. 2 ст. 155
  ЖК РФ; the same day for the supplier's documents in п. 67 of the Rules approved by Decree 354 (06.05.2011).
  A contract may set another day: this service knows no such per-tenant day, so the 1st is used.
- From 01.03.2026: «не позднее пятого числа месяца, следующего за истекшим месяцем», the payment document in
  electronic form included, and a contract or a meeting may no longer change it — п. 1 ч. 2 ст. 155 ЖК РФ as
  amended by Federal Law of 24.06.2025 № 177-ФЗ. Not verified against the law's text here: found with the
  stored-pages search (news.mail.ru 69348462 of 07.01.2026 naming the law; kursk-news.net 23.12.2025;
  finance.rambler.ru 56108313 of 01.03.2026; news.mail.ru 70015581 of 03.03.2026). The amendment of п. 67 of
  Decree 354 to match was not found; the law is the higher rule.
Which rule a month falls under is decided by the month the document is due in (the one after the billing
month), as for the payment deadline: February 2026's receipts are due by 05.03.2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class ReceiptDayRule:
    valid_from: date  # applies to documents due in months starting on or after this day
    day: int  # the last day of the month after the billing month
    source: str


RECEIPT_DAY_RULES = (
    ReceiptDayRule(date(2005, 3, 1), 1, "п. 1 ч. 2 ст. 155 ЖК РФ; п. 67 Правил, утв. Постановлением "
                                        "Правительства РФ от 06.05.2011 № 354"),
    ReceiptDayRule(date(2026, 3, 1), 5, "п. 1 ч. 2 ст. 155 ЖК РФ в ред. Федерального закона от 24.06.2025 "
                                        "№ 177-ФЗ (с 01.03.2026)"),
)


def receipt_deadline(period: date, rules: tuple[ReceiptDayRule, ...] = RECEIPT_DAY_RULES
                     ) -> tuple[date, ReceiptDayRule]:
    """The last day the receipt of the billing month `period` (any day of it) may reach the subscriber, and
    the rule that says so."""
    nxt = date(period.year + period.month // 12, period.month % 12 + 1, 1)
    rule = max((r for r in rules if r.valid_from <= nxt), key=lambda r: r.valid_from, default=rules[0])
    return nxt.replace(day=rule.day), rule
