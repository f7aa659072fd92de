"""Document lines from the calculation's rows, and the dates a month's documents carry. Pure.

- Lines: the month's `legal_charges` rows of a contract grouped by (service, month of consumption, price,
  price_includes_vat, vat_mode); quantity = Σ volume in m³ (OKEI 113), the line's money = quantity × price
  rounded half-up to the kopeck, then VAT added or split per line (`documents.make_line`, `vat.line_amounts`;
  the rounding is decided there once). The document's totals are the sums of its lines. Note: the sum of the
  calculation rows' own amounts (each rounded) may differ from a line's cost by a kopeck or so; the document
  is what the buyer owes, the rows are its explanation.
- The VAT rate: the one in force on the shipment day. For services rendered over a month the tax base arises
  on the day of shipment (Tax Code art. 167 p. 1 pp. 1) — for continuous services the last day of the month
  they were rendered (Minfin letter 03-07-11/25049 of 12.04.2021 reads it so; verified: the article's wording
  names the «день отгрузки (передачи) товаров (работ, услуг)»; the letter's number is quoted from memory, not
  verified). So the rate is `vat.general_rate(last day of the month)`, whatever day the document is drawn up;
  the invoice itself is due within 5 calendar days of that day (art. 168 p. 3), so `issued_on` defaults to the
  month's last day and may not be earlier.
- The bill's due day: the contract's payment terms (`due_day` of the next month; Decree 644 of 29.07.2013
  p. 16: by the 10th of the month after the billing month unless the contract says otherwise).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from aquabill.base.errors import Invalid
from aquabill.legal_entities import vat
from aquabill.legal_entities.documents import CUBIC_METRE, Line, make_line

MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
          "ноябрь", "декабрь")
DEFAULT_DUE_DAY = 10  # Decree 644 of 29.07.2013 p. 16


def month_end(period: date) -> date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def month_name(period: date) -> str:
    return f"{MONTHS[period.month - 1]} {period.year}"


def due_on(period: date, terms: dict[str, Any] | None) -> date:
    """The due day of a month's bill: the contract's `due_day` of the next month (clamped to its length)."""
    day = int((terms or {}).get("due_day") or DEFAULT_DUE_DAY)
    year, month = (period.year + 1, 1) if period.month == 12 else (period.year, period.month + 1)
    return date(year, month, min(max(day, 1), calendar.monthrange(year, month)[1]))


def check_issue_day(period: date, issued_on: date | None) -> date:
    last = month_end(period)
    if issued_on is None:
        return last
    if issued_on < last:
        raise Invalid(f"Документы за {month_name(period)} выставляются не раньше последнего дня месяца "
                      f"({last:%d.%m.%Y}): это день отгрузки услуг (НК РФ ст. 167 п. 1)", field="issued_on")
    return issued_on


@dataclass(frozen=True, slots=True)
class ChargeGroup:
    service_id: int
    service_name: str
    period: date
    price: Decimal
    price_includes_vat: bool
    vat_charged: bool
    volume: Decimal


@dataclass(frozen=True, slots=True)
class BuiltLine:
    line: Line
    service_id: int
    period: date


def build_lines(groups: list[ChargeGroup], shipped_on: date) -> list[BuiltLine]:
    """The document's lines (numbered from 1); groups whose volume nets to zero are left out, a negative one is
    refused (a deduction larger than the consumption is the calculation's error, not a document line)."""
    rate = vat.general_rate(shipped_on)
    out: list[BuiltLine] = []
    for g in groups:
        if g.volume == 0:
            continue
        if g.volume < 0:
            raise Invalid(f"«{g.service_name}» за {month_name(g.period)}: объём {g.volume} м³ отрицателен",
                          field="volume")
        line = make_line(len(out) + 1, f"{g.service_name} за {month_name(g.period)}",
                         rate if g.vat_charged else vat.NO_VAT, quantity=g.volume, price=g.price,
                         unit=CUBIC_METRE, price_includes_vat=g.price_includes_vat and g.vat_charged)
        out.append(BuiltLine(line, g.service_id, g.period))
    return out
