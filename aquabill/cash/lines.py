"""The lines of a cash-desk receipt (pure): what the payer pays for (`Part`) → the receipt's items with their
FFD 1.2 tags, as the register prints them (the `receipt` command's `items`, common.md).

Tags (FFD-1.2-TAGS.md; FNS order ЕД-7-20/662@ of 14.09.2020 as amended by ЕД-7-20/1050@ of 08.12.2025):
- 1030 name: «Холодное водоснабжение, 11.2026, л/с 00100127», at most 128 characters (cut with «…»);
- 1079 / 1023 / 1043: price = amount, quantity 1 (a bill is one item);
- 2108 = 0 «штуки/единицы» (one bill sold as one item, not per m³);
- 1199: the cash point's VAT dated by the day of settlement (vat.py);
- 1212 / 1214 — which and why (verify with the accountant; the sources list the values, not which one a water
  utility must use, FFD-1.2-TAGS.md):
  * the utility's own service for a month already billed: 1212 = 4 «услуга», 1214 = 4 «полный расчёт» —
    the month's water was supplied and is paid in full now;
  * arrears older than the previous month (the month of origin before the month preceding the day of
    settlement): 1214 = 7 «оплата кредита» — the service was handed over earlier (on credit) and is paid
    only now, which is what 7 describes;
  * an advance (money beyond what is billed): 1212 = 4, 1214 = 1 «предоплата 100 %», taxed at the calculated
    rate (Tax Code art. 164 p. 4; vat.py). NB: online payments (subscribers/payment_receipt.py) send an advance
    as 1214 = 3 «аванс» / 1212 = 10 «платёж»; the accountant should choose one for both (verify);
  * penalties (art. 155 p. 14 of the Housing Code): not a sale of a service — 1212 = 13 «иной предмет
    расчёта», 1214 = 4, 1199 = 6 «без НДС», as the online receipts do (verify with the accountant);
  * a third-party service taken as a payment agent (103-FZ): 1212 = 10 «платёж», 1214 = 4, 1222 = 4
    «платёжный агент», 1224 supplier's name and phone, 1226 supplier's INN, 1199 = 6 (the agent does not
    know the supplier's VAT; verify with the accountant);
  * the agent's commission taken from the payer: its own line, 1212 = 11 «агентское вознаграждение», 1214 = 4,
    the point's VAT (the commission is the utility's own revenue) (verify with the accountant).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from aquabill.billing_core.periods import Period
from aquabill.cash.vat import NO_VAT, vat_amount, vat_tag

NAME_LIMIT = 128  # tag 1030: String 128
ZERO = Decimal("0.00")

SERVICE, PENALTY, ADVANCE, AGENT, COMMISSION = "service", "penalty", "advance", "agent", "commission"
KINDS = (SERVICE, PENALTY, ADVANCE, AGENT, COMMISSION)
# 1212 values used here
SUBJECT_SERVICE, SUBJECT_PAYMENT, SUBJECT_AGENT_FEE, SUBJECT_OTHER = 4, 10, 11, 13
# 1214 values used here
METHOD_PREPAID, METHOD_FULL, METHOD_CREDIT_PAID = 1, 4, 7
AGENT_SIGN_PAYMENT_AGENT = 4  # 1222 bit 2: платёжный агент
MEASURE_PIECE = 0  # 2108

PENALTY_NAME = "Пени за несвоевременную оплату"
ADVANCE_NAME = "Аванс за коммунальные услуги"


@dataclass(frozen=True, slots=True)
class Part:
    """One thing a receipt is paid for: a service of a month, the penalties, an advance, a third party's
    service (with its supplier) or the commission."""

    kind: str
    amount: Decimal
    month: Period | None = None
    service_id: int | None = None
    service_name: str = ""
    text: str = ""  # agent / commission: what the payer pays for (the third party's service and details)


@dataclass(frozen=True, slots=True)
class Supplier:
    name: str
    inn: str
    phone: str = ""


def cut(text: str, limit: int = NAME_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def method_of(month: Period | None, on: date) -> int:
    """1214 of the utility's own service for `month` paid on the day `on` (see the module's rule)."""
    if month is None:
        return METHOD_PREPAID
    if month < Period.of(on).prev():
        return METHOD_CREDIT_PAID
    return METHOD_FULL


def item_name(part: Part, account_number: str) -> str:
    suffix = f", л/с {account_number}" if account_number else ""
    if part.kind == SERVICE:
        assert part.month is not None
        return cut(f"{part.service_name}, {part.month.month:02d}.{part.month.year}{suffix}")
    if part.kind == PENALTY:
        return cut(PENALTY_NAME + suffix)
    if part.kind == ADVANCE:
        return cut(ADVANCE_NAME + suffix)
    return cut(part.text)


def receipt_lines(parts: list[Part], *, account_number: str, point_vat: str, on: date,
                  supplier: Supplier | None = None) -> list[dict[str, Any]]:
    """The receipt's lines: each is the register's item (FFD tags, money as strings) plus what the desk keeps
    of it (`kind`, `month`, `service_id`, `vat_sum` for display)."""
    out: list[dict[str, Any]] = []
    for part in parts:
        if part.amount <= 0:
            continue
        agent = None
        if part.kind == SERVICE:
            subject, method, vat = SUBJECT_SERVICE, method_of(part.month, on), vat_tag(point_vat, on)
        elif part.kind == PENALTY:
            subject, method, vat = SUBJECT_OTHER, METHOD_FULL, NO_VAT
        elif part.kind == ADVANCE:
            subject, method, vat = SUBJECT_SERVICE, METHOD_PREPAID, vat_tag(point_vat, on, advance=True)
        elif part.kind == AGENT:
            if supplier is None:
                raise ValueError("an agent line needs its supplier")
            subject, method, vat = SUBJECT_PAYMENT, METHOD_FULL, NO_VAT
            agent = {"sign": AGENT_SIGN_PAYMENT_AGENT,
                     "supplier": {"name": supplier.name, "inn": supplier.inn,
                                  "phones": [supplier.phone] if supplier.phone else []}}
        elif part.kind == COMMISSION:
            subject, method, vat = SUBJECT_AGENT_FEE, METHOD_FULL, vat_tag(point_vat, on)
        else:
            raise ValueError(f"unknown part kind {part.kind!r}")
        amount = str(part.amount.quantize(Decimal("0.01")))
        vat_sum = vat_amount(part.amount, vat)
        out.append({
            "name": item_name(part, account_number), "price": amount, "quantity": "1", "amount": amount,
            "vat": vat, "subject": subject, "method": method, "measure": MEASURE_PIECE, "agent": agent,
            "kind": part.kind, "month": str(part.month) if part.month else None, "service_id": part.service_id,
            "vat_sum": str(vat_sum) if vat_sum is not None else None})
    return out


REGISTER_KEYS = ("name", "price", "quantity", "amount", "vat", "subject", "method", "measure", "agent")


def register_items(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines as the `receipt` command carries them (only the register's keys)."""
    return [{k: line[k] for k in REGISTER_KEYS} for line in lines]


def total_of(lines: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(line["amount"]) for line in lines), ZERO)


def change_of(given: Decimal | None, total: Decimal) -> Decimal:
    """The change to give back from cash `given` for a receipt of `total` (given must cover it)."""
    if given is None:
        return ZERO
    if given < total:
        raise ValueError("given is less than the total")
    return given - total
