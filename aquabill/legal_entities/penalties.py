"""Penalties (пени) of organisations under Federal Law 416-FZ of 07.12.2011 «О водоснабжении и водоотведении»:
the dated scales by category, the federal rules that apply to them, and the penalty of one document's debt
(pure; the day-precise arithmetic is billing_core/penalties/calc.py's, with a scale other than art. 155 ЖК).
`accrue` (the month's accrual over a tenant) is penalty_store.py's, re-exported here.

The norms (art. 13 — cold water, art. 14 — sewage; parts 6.2–6.4 added by Law 307-FZ of 03.11.2015 «О
внесении изменений в отдельные законодательные акты РФ в связи с укреплением платежной дисциплины
потребителей энергетических ресурсов», art. 5):
- parts 6.2 (art. 13 and art. 14 alike) — «управляющие организации, товарищества собственников жилья,
  жилищные, жилищно-строительные кооперативы, иные специализированные потребительские кооперативы,
  приобретающие холодную воду [осуществляющие водоотведение] для целей предоставления коммунальных услуг»:
  1/300 of the refinancing rate «действующей на день фактической оплаты, от не выплаченной в срок суммы за
  каждый день просрочки начиная со следующего дня после дня наступления установленного срока оплаты по день
  фактической оплаты, произведенной в течение девяноста календарных дней со дня наступления установленного
  срока оплаты, либо до истечения девяноста календарных дней …»; «начиная с девяносто первого дня … в размере
  одной сто тридцатой». So: NO grace period (unlike art. 155 part 14 ЖК, whose 1/300 starts on the 31st day),
  days 1–90 of delay 1/300, from day 91 1/130 → category 'management_company'.
- parts 6.4 — «абоненты, за исключением указанных в частях 6.2 и 6.3»: 1/130 of the rate from the day after
  the due date to the day of payment → category 'other'. (Part 6.3 — as I recall, heat-supply and hot-water
  organisations buying water to make hot water; NOT verified — is not a category of this product: such a
  subscriber is set up as 'other'; its own scale is not coded.)
The category is the counterparty's (`counterparties.penalty_category`) as it is now, for the whole history.
- «Увеличение установленных настоящей частью размеров пеней не допускается»: the scale is not a contract term.
What was verified (stored-pages search, 2026-12-07): the category split and the 1/300 → 1/130 shape for
managing organisations vs 1/130 for the others by the news of the law's passing (rosbalt.ru 23.10.2015,
klerk.ru/law/news/432250) and that 307-FZ's art. 5 amended 416-FZ (studopedia.su 16_80033); the quoted
wording above is the law as I know it, NOT checked against an official copy (no stored page held the
article's text) — in particular that 6.2 has no 30-day grace (the news of 2015 give the grace to citizens
only: «для граждан … в первый месяц просрочки … отмена пени»; rosbalt.ru's «начиная с 31-го дня» for HOAs is
read as a reporter's slip — the Stavropol commercial court's А63-4143/2022 (sudact.ru) counts an HOA's
penalty «за период с 12.01.2021», the day after a due date, i.e. without a grace). In force: ruwest.ru of
01.01.2016 — «с 1 января вступит в силу закон, устанавливающий размер пени для физических и юридических лиц
за неоплату … воды и услуг по водоотведению»; coded 01.01.2016 (the first day of delay), NOT checked against
307-FZ's final article. Before it no 416-FZ scale applies and no penalty is computed.

Which rate: «ставки рефинансирования …, действующей на день фактической оплаты» — since 01.01.2016 equal to the
key rate (Bank of Russia Directive 3894-U) — for a paid part its payment day's key rate, for the unpaid rest the
key rate on the calculation day (`on`, as a court does on the day of its decision): `RateDate.PAYMENT_DAY`.

Federal rules (billing_core/penalties/rules.py, the tenant's `penalty_rules` rows):
- Decree 474 of 26.03.2022 (the key rate of 27.02.2022, 9.5 %, and its extensions): applies — its p. 1 names
  «начисление и взыскание неустойки (штрафа, пени) за несвоевременное и (или) не полностью исполненное
  юридическими лицами и индивидуальными предпринимателями обязательство по оплате услуг, предоставляемых на
  основании договоров в соответствии с законодательством Российской Федерации … о водоснабжении и
  водоотведении» (turinskgo.ru 18.05.2022; admgor.nnov.ru prosecutor's notice on Decree 2479 of 28.12.2022).
  NOT verified: that Decree 329 of 18.03.2025 (2025–2026) keeps the legal entities' clause — coded as if it
  does, as the extensions before it did.
- Decree 424 of 02.04.2020 (no penalty 06.04.2020 … 31.12.2020): covers housing payments and «те, кто
  управляет МКД … от штрафных санкций за неисполнение обязательств перед поставщиками коммунальных ресурсов»
  (social.novo-sibirsk.ru; watermagazine.ru 08.04.2020) — so 'management_company' only, not 'other'.
- Decree 497 of 28.03.2022 (the bankruptcy moratorium, art. 9.1 of Law 127-FZ, 01.04.2022 … 01.10.2022):
  covers organisations as debtors — both categories (as for individuals; which debts it covers is the tenant's
  rule, as rules.py says).

VAT: a penalty is not a sale (Tax Code art. 146 p. 1) nor a sum «связанная с оплатой» (art. 162 p. 1 sub. 2):
no VAT — Presidium of the Supreme Commercial Court, resolution of 05.02.2008 No. 11144/07; Ministry of Finance
letters of 08.06.2015 No. 03-07-11/33051 and of 09.02.2021 No. 03-07-05/8311 (as digested by 3zprint-msk.ru
and spmag.ru; the older contrary letter of 20.05.2010 No. 03-07-11/189 is superseded by them). So the amounts
here are final, without VAT, and no invoice is issued for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.money import money
from aquabill.billing_core.penalties.calc import (
    Payment,
    PenaltyResult,
    PenaltyScale,
    PenaltyScope,
    RateDate,
    RowKind,
    ScaleStep,
    calculate_penalty,
)
from aquabill.billing_core.penalties.rates import KEY_RATES, KeyRate
from aquabill.billing_core.penalties.rules import FEDERAL_RULES, PenaltyRules

CATEGORIES = {"management_company": "Управляющая организация, ТСЖ, ЖСК (ч. 6.2 ст. 13, 14 416-ФЗ)",
              "other": "Прочие абоненты (ч. 6.4 ст. 13, 14 416-ФЗ)"}
LAW_416_PENALTIES_FROM = date(2016, 1, 1)  # 307-FZ in force (see the docstring: a digest's date)
MORATORIUM_424_START = date(2020, 4, 6)  # Decree 424: managing organisations only

MANAGEMENT_COMPANY_SCALE = PenaltyScale(
    (ScaleStep(1, 300), ScaleStep(91, 130)),
    "ч. 6.2 ст. 13, ч. 6.2 ст. 14 Федерального закона от 07.12.2011 № 416-ФЗ")
OTHER_SCALE = PenaltyScale(
    (ScaleStep(1, 130),),
    "ч. 6.4 ст. 13, ч. 6.4 ст. 14 Федерального закона от 07.12.2011 № 416-ФЗ")


@dataclass(frozen=True, slots=True)
class DatedScale:
    start: date  # applies to debts whose first day of delay is on or after it
    category: str
    scale: PenaltyScale


# a new wording of the law is a new row with its start day (the row in force on the first day of delay wins)
LEGAL_SCALES: tuple[DatedScale, ...] = (
    DatedScale(LAW_416_PENALTIES_FROM, "management_company", MANAGEMENT_COMPANY_SCALE),
    DatedScale(LAW_416_PENALTIES_FROM, "other", OTHER_SCALE),
)


def scale_for(category: str, due: date, scales: Iterable[DatedScale] = LEGAL_SCALES) -> PenaltyScale | None:
    """The scale of a category for a debt due on `due` (None: before the law's penalties existed)."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown 416-FZ category {category!r}")
    first = due + timedelta(days=1)
    found = [s for s in scales if s.category == category and s.start <= first]
    return max(found, key=lambda s: s.start).scale if found else None


def rules_for(category: str, rules: PenaltyRules = FEDERAL_RULES) -> PenaltyRules:
    """The federal rules as they apply to a category: Decree 424's moratorium covers only managing
    organisations (the docstring); everything else as given (the tenant's `penalty_rules`)."""
    if category == "management_company":
        return rules
    return PenaltyRules(tuple(m for m in rules.moratoria if m.start != MORATORIUM_424_START), rules.rate_rules)


@dataclass(frozen=True, slots=True)
class DocumentPenalty:
    result: PenaltyResult | None  # None: no scale applies (a debt due before 416-FZ's penalties)
    days: int  # days of delay of the latest late part (0: not late as of the day before `on`)

    @property
    def total(self) -> Decimal:
        return self.result.total if self.result is not None else Decimal("0.00")


def document_penalty(category: str, debt: Decimal, due: date, payments: Iterable[Payment], on: date, *,
                     rules: PenaltyRules = FEDERAL_RULES, key_rates: tuple[KeyRate, ...] = KEY_RATES,
                     scales: Iterable[DatedScale] = LEGAL_SCALES) -> DocumentPenalty:
    """The cumulative penalty of one document's debt as of `on` (days of delay up to the day before it),
    rounded once to the kopeck (money.py). Raises ValueError when a key rate is missing."""
    scale = scale_for(category, due, scales)
    if scale is None or debt <= 0:
        return DocumentPenalty(None, 0)
    result = calculate_penalty(debt, due, payments, on, rate_date=RateDate.PAYMENT_DAY,
                               scope=PenaltyScope.ALL_DEBTS, rules=rules_for(category, rules),
                               key_rates=key_rates, scale=scale)
    last = max((r.date_to for r in result.rows), default=due)
    return DocumentPenalty(result, (last - due).days)


KIND_NAMES = {RowKind.GRACE: "льготный период", RowKind.MORATORIUM: "мораторий", RowKind.ACCRUAL: "начисление"}
EXACT = Decimal("0.000001")


def breakdown(result: PenaltyResult | None) -> list[dict[str, Any]]:
    """The rows of `contract_penalties.details`: each piece of each part (its days, the debt part, the rate
    after the federal rules, the fraction and the amount — shown to the kopeck, kept exact to 6 places)."""
    if result is None:
        return []
    return [{"part": r.part, "kind": r.kind.value, "kind_name": KIND_NAMES[r.kind],
             "date_from": r.date_from.isoformat(), "date_to": r.date_to.isoformat(), "days": r.days,
             "debt": str(money(r.base)), "rate": None if r.rate is None else str(r.rate), "fraction": r.fraction,
             "amount": str(money(r.amount)), "exact": str(r.amount.quantize(EXACT))} for r in result.rows]


async def accrue(conn: AsyncConnection, posted_period: date, *, on: date, contract_id: int | None = None,
                 user_id: int | None = None) -> dict[str, Any]:
    """See `penalty_store.accrue` (the binding interface lives here by name)."""
    from aquabill.legal_entities.penalty_store import accrue as _accrue

    return await _accrue(conn, posted_period, on=on, contract_id=contract_id, user_id=user_id)


__all__ = ["CATEGORIES", "LEGAL_SCALES", "MANAGEMENT_COMPANY_SCALE", "OTHER_SCALE", "DatedScale", "DocumentPenalty",
           "accrue", "breakdown", "document_penalty", "rules_for", "scale_for"]
