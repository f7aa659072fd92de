"""Penalties (пени) of organisations under Federal Law 416-FZ of 07.12.2011 «О водоснабжении и водоотведении»:
the dated scales by category, the federal rules that apply to them, and the penalty of one document's debt
(pure; the day-precise arithmetic is billing_core/penalties/calc.py's, with a scale other than art. 155 ЖК).
`accrue` (the month's accrual over a tenant) is penalty_store.py's, re-exported here.

The norms (art. 13 — cold water, art. 14 — sewage, the same parts in each; parts 6.2–6.4 added by Law 307-FZ of
03.11.2015 «О внесении изменений в отдельные законодательные акты РФ в связи с укреплением платежной
дисциплины потребителей энергетических ресурсов», art. 5). Art. 13 as quoted in full by a public lawsuit
template (code search, 2026-12-07), in agreement with the digests of 307-FZ (prom9.kodms.ru «Федеральный закон
от 3 ноября 2015 г. N 307-ФЗ»; studydoc.ru 4472777: «Для управляющих компаний, а также тепло- и водоснабжающих
предприятий … с 1-го по 60-й день просрочки … 1/300 …, с 61-го по 90-й … 1/170 и с 91-го … 1/130. Для всех
остальных потребителей … 1/130 … с 1-го дня») and rosbalt.ru of 23.10.2015 (ТСЖ/ЖСК 1/300 «начиная с 31-го дня»):
- part 6.2 — «Абонент, несвоевременно и (или) не полностью оплативший … воду, обязан уплатить … пени в размере
  одной стотридцатой ставки рефинансирования Центрального банка Российской Федерации, действующей на день
  фактической оплаты, от не выплаченной в срок суммы за каждый день просрочки начиная со следующего дня после
  дня наступления установленного срока оплаты по день фактической оплаты» → category 'other': 1/130 from day 1;
- part 6.3 — «Товарищества собственников жилья, жилищные, жилищно-строительные и иные специализированные
  потребительские кооперативы …» — 1/300 «начиная с тридцать первого дня, следующего за днем наступления
  установленного срока оплаты, по день фактической оплаты, произведенной в течение девяноста календарных дней
  …, либо до истечения девяноста календарных дней …»; «начиная с девяносто первого дня … одной стотридцатой»
  → category 'hoa': days 1–30 nothing, 31–90 1/300, from 91 1/130 (the shape of art. 155 p. 14 ЖК);
- part 6.4 — «Управляющие организации, приобретающие … воду для целей предоставления коммунальных услуг,
  теплоснабжающие организации (единые теплоснабжающие организации), а также организации, осуществляющие горячее
  водоснабжение, холодное водоснабжение, приобретающие … воду по договорам …» — 1/300 «начиная со дня,
  следующего за днем наступления установленного срока оплаты, по день фактической оплаты, произведенной в
  течение шестидесяти календарных дней …», «начиная с шестьдесят первого дня … одной стосемидесятой», «начиная
  с девяносто первого дня … одной стотридцатой» → category 'management_company' (managing organisations, heat
  suppliers, water organisations buying water): days 1–60 1/300, 61–90 1/170, from 91 1/130.
NOT read verbatim: art. 14's own parts (307-FZ amended both articles alike, and the digests speak of «воды и
услуг по водоотведению» together); an official copy (pravo.gov.ru) was not among the stored pages.
- «Увеличение установленных настоящей частью размеров пеней не допускается»: the scale is not a contract term.
In force: ruwest.ru of 01.01.2016 — «с 1 января вступит в силу закон, устанавливающий размер пени для
физических и юридических лиц за неоплату … воды и услуг по водоотведению»; coded 01.01.2016 (the first day of
delay), NOT checked against 307-FZ's final article. Before it no 416-FZ scale applies and no penalty is computed.

Which category (OUR READING, not a quoted rule; no court practice checked): the scale is set by the debtor's status
(parts 6.2–6.4 name who pays which: «Абонент …», «Товарищества собственников жилья …», «Управляющие организации
…»), and the delay begins «со следующего дня после дня наступления установленного срока оплаты» — so the status on
the due day decides the scale for the whole debt, to its payment. When an organisation becomes a managing one (or
stops being one) its earlier debts keep the scale of their time. The category of a debt is the debtor's category in
force on its document's `due_on` (`category_on`): the `previous` of the earliest change of the counterparty's
category (`counterparty_category_changes`, migration t0037) effective after that day, else its current category
(`counterparties.penalty_category`, the latest); a change effective on the due day itself applies. The accrual
computes the same in SQL (penalty_store.py). Closed months keep their rows whatever changes later.

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
  (social.novo-sibirsk.ru; watermagazine.ru 08.04.2020) — so 'management_company' and 'hoa', not 'other'.
- Decree 497 of 28.03.2022 (the bankruptcy moratorium, art. 9.1 of Law 127-FZ, 01.04.2022 … 01.10.2022):
  covers organisations as debtors — every category (as for individuals; which debts it covers is the tenant's
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

CATEGORIES = {"management_company": "Управляющая организация (ч. 6.4 ст. 13, 14 416-ФЗ)",
              "hoa": "ТСЖ, ЖСК (ч. 6.3 ст. 13, 14 416-ФЗ)",
              "other": "Прочие абоненты (ч. 6.2 ст. 13, 14 416-ФЗ)"}
MORATORIUM_424_CATEGORIES = ("management_company", "hoa")  # those who manage apartment buildings
LAW_416_PENALTIES_FROM = date(2016, 1, 1)  # 307-FZ in force (see the docstring: a digest's date)
MORATORIUM_424_START = date(2020, 4, 6)  # Decree 424: those who manage apartment buildings only

MANAGEMENT_COMPANY_SCALE = PenaltyScale(
    (ScaleStep(1, 300), ScaleStep(61, 170), ScaleStep(91, 130)),
    "ч. 6.4 ст. 13, ч. 6.4 ст. 14 Федерального закона от 07.12.2011 № 416-ФЗ")
HOA_SCALE = PenaltyScale(
    (ScaleStep(31, 300), ScaleStep(91, 130)),
    "ч. 6.3 ст. 13, ч. 6.3 ст. 14 Федерального закона от 07.12.2011 № 416-ФЗ")
OTHER_SCALE = PenaltyScale(
    (ScaleStep(1, 130),),
    "ч. 6.2 ст. 13, ч. 6.2 ст. 14 Федерального закона от 07.12.2011 № 416-ФЗ")


@dataclass(frozen=True, slots=True)
class DatedScale:
    start: date  # applies to debts whose first day of delay is on or after it
    category: str
    scale: PenaltyScale


# a new wording of the law is a new row with its start day (the row in force on the first day of delay wins)
LEGAL_SCALES: tuple[DatedScale, ...] = (
    DatedScale(LAW_416_PENALTIES_FROM, "management_company", MANAGEMENT_COMPANY_SCALE),
    DatedScale(LAW_416_PENALTIES_FROM, "hoa", HOA_SCALE),
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
    """The federal rules as they apply to a category: Decree 424's moratorium covers only those who manage
    apartment buildings (the docstring); everything else as given (the tenant's `penalty_rules`)."""
    if category in MORATORIUM_424_CATEGORIES:
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


@dataclass(frozen=True, slots=True)
class CategoryChange:
    effective_from: date  # the category holds from this day on
    previous: str  # the category before it
    category: str


def category_on(day: date, current: str, changes: Iterable[CategoryChange]) -> str:
    """The debtor's category in force on `day` (a debt's due day; see the docstring): the `previous` of the
    earliest change effective after it, else `current` (the latest category)."""
    later = [c for c in changes if c.effective_from > day]
    return min(later, key=lambda c: c.effective_from).previous if later else current


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


__all__ = ["CATEGORIES", "LEGAL_SCALES", "MANAGEMENT_COMPANY_SCALE", "OTHER_SCALE", "CategoryChange", "DatedScale",
           "DocumentPenalty", "accrue", "breakdown", "category_on", "document_penalty", "rules_for", "scale_for"]
