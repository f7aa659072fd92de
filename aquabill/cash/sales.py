"""A sale at the cash desk, in one transaction: the cashier's open shift at the cash point is checked, the
receipt's lines are built from what the account owes (dues.py, lines.py), the cash receipt is inserted under
the client's key (a repeated key returns the same receipt), and its `receipt` command is queued for the
point's agent (the route wakes the agent after commit).

- Cash: the billing payment(s) are made at once (`intake.create_payment(..., agent="cash")`: the balance
  changes at once): the receipt's total → one payment; chosen lines → one payment per line naming its month and
  service (the penalty line: a payment whose penalty part is all of it). The money given must cover the total;
  change = given − total (the register reports its own change too).
- Card: no payment until the agent's result says the card was approved and the receipt printed (outcomes.py).

Retry of a failed receipt: a new command with the same receipt key (`commands.retry`); cancel of a failed
receipt: its payment(s) stornoed, status cancelled. Duplicate: the register prints a copy of its last document.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid
from aquabill.billing_core.payments import intake
from aquabill.billing_core.periods import Period
from aquabill.billing_core.registry.phones import normalise_phone
from aquabill.billing_core.run.explain_format import rub
from aquabill.cash import commands, receipts, shifts
from aquabill.cash.dues import chosen, load_dues, split
from aquabill.cash.lines import PENALTY, change_of, receipt_lines, total_of

KOPECK = Decimal("0.01")
# a sanity bound of one receipt (not a legal limit): larger sums are almost always a typing error
MAX_TOTAL = Decimal("1000000.00")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
TENDERS = ("cash", "card")


@dataclass(frozen=True, slots=True)
class Sale:
    key: uuid.UUID
    point_id: int
    account_id: int
    tender: str  # cash | card
    on: date  # the day of settlement (the organisation's local date)
    amount: Decimal | None = None  # one payment of this sum (the receipt's total, or any sum)
    lines: tuple[str, ...] = field(default_factory=tuple)  # or: the chosen dues lines (DueLine.key, "penalty")
    given: Decimal | None = None  # cash handed over (≥ total); None: exactly the total
    buyer_contact: str = ""


def check_money(value: Decimal | None, what: str, field_name: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite():
        raise Invalid(f"{what}: ожидается число, например 1500,00", field=field_name)
    if value > MAX_TOTAL:
        raise Invalid(f"{what} больше 1 000 000,00 ₽: проверьте ввод", field=field_name)
    if value <= 0:
        raise Invalid(f"{what} должна быть больше нуля", field=field_name)
    if value != value.quantize(KOPECK):
        raise Invalid(f"{what}: с точностью до копеек, например 1500,00", field=field_name)
    return value.quantize(KOPECK)


def buyer_contact(raw: str) -> str:
    """Tag 1008: the buyer's e-mail or phone for an electronic copy of the receipt (optional)."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if "@" in raw:
        if len(raw) > 64 or not EMAIL_RE.match(raw):
            raise Invalid("Укажите e-mail покупателя, например ivanov@mail.ru", field="buyer_contact")
        return raw.lower()
    phone = normalise_phone(raw)
    if phone is None:
        raise Invalid("Укажите телефон покупателя, например +7 916 123-45-67", field="buyer_contact")
    return phone


def tender_money(tender: str, total: Decimal, given: Decimal | None) -> tuple[Decimal | None, Decimal]:
    """(given, change) of a receipt of `total`: cash given must cover it; a card takes exactly the total."""
    if tender not in TENDERS:
        raise Invalid("Способ оплаты: наличные или карта", field="tender")
    if tender == "card":
        return None, Decimal("0.00")
    given = check_money(given, "Получено от покупателя", "given") if given is not None else total
    assert given is not None
    if given < total:
        raise Invalid(f"Получено {rub(given)} — меньше суммы чека {rub(total)}", field="given")
    return given, change_of(given, total)


async def make_payments(conn: AsyncConnection, receipt: dict[str, Any], *, paid_on: date,
                        user_id: int | None) -> list[int]:
    """The billing payment(s) of a sale (see the module's rule); each line remembers its payment."""
    lines = [dict(x) for x in receipt["lines"]]
    note = f"Касса: чек № {receipt['id']}"
    ids: list[int] = []
    if all(x.get("own_payment") for x in lines):  # chosen lines: one payment each
        for x in lines:
            created = await intake.create_payment(
                conn, amount=Decimal(x["amount"]), paid_on=paid_on, account_id=receipt["account_id"], agent="cash",
                period=Period.parse(x["month"]) if x["month"] else None, note=note, user_id=user_id,
                service_id=x.get("service_id"), penalty=Decimal(x["amount"]) if x["kind"] == PENALTY else None)
            x["payment_id"] = created["id"]
            ids.append(created["id"])
    else:
        created = await intake.create_payment(conn, amount=receipt["total"], paid_on=paid_on,
                                              account_id=receipt["account_id"], agent="cash", note=note,
                                              user_id=user_id)
        ids.append(created["id"])
    await receipts.set_lines_payments(conn, receipt["id"], lines, ids[0])
    return ids


async def sell(conn: AsyncConnection, sale: Sale, *, user_id: int) -> tuple[dict[str, Any], bool]:
    """(the receipt, whether it was made now) — see the module's docstring."""
    existing = await receipts.receipt_by_key(conn, sale.key)
    if existing is not None:
        return existing, False
    shift = await shifts.require_open_shift(conn, sale.point_id, user_id)
    point = await shifts.get_point(conn, sale.point_id)
    account = (await conn.execute(text("SELECT id, number, status FROM accounts WHERE id = :a"),
                                  {"a": sale.account_id})).first()
    if account is None:
        raise Invalid("Лицевой счёт не найден", field="account_id")
    if account.status != "open":
        raise Invalid(f"Лицевой счёт {account.number} закрыт: оплата на него не принимается", field="account_id")
    dues = await load_dues(conn, sale.account_id)
    if sale.lines:
        try:
            parts = chosen(dues, list(sale.lines))
        except KeyError as exc:
            raise Invalid("Отмеченная строка уже оплачена или не найдена: обновите карточку счёта",
                          field="lines") from exc
    else:
        amount = check_money(sale.amount, "Сумма оплаты", "amount")
        if amount is None:
            raise Invalid("Укажите сумму оплаты или отметьте строки долга", field="amount")
        parts = split(dues, amount)
    lines = receipt_lines(parts, account_number=account.number, point_vat=point["vat"], on=sale.on)
    if sale.lines:
        for x in lines:  # one payment per line (its month and service, or the penalty part)
            x["own_payment"] = True
    total = total_of(lines)
    check_money(total, "Сумма чека", "amount")
    given, change = tender_money(sale.tender, total, sale.given)
    card = None
    if sale.tender == "card":
        card = {"operation": "pay", "amount": str(total), "original_rrn": "", "day": sale.on.isoformat()}

    async def pay_now(receipt: dict[str, Any]) -> None:
        if sale.tender == "cash":
            await make_payments(conn, receipt, paid_on=sale.on, user_id=user_id)

    return await receipts.issue(
        conn, key=sale.key, shift=shift, point=point, operation="sale", lines=lines, total=total,
        tender=sale.tender, given=given, change=change, buyer_contact=buyer_contact(sale.buyer_contact),
        user_id=user_id, account_id=sale.account_id, card=card, before_command=pay_now)


async def retry(conn: AsyncConnection, receipt_id: int, *, user_id: int) -> dict[str, Any]:
    """A failed receipt sent again: a new command with the same receipt key (the agent prints it only if nothing
    was fiscalized under that key)."""
    receipt = await receipts.get_receipt(conn, receipt_id, lock=True)
    if receipt["status"] in ("printing", "pending"):
        return receipt
    if receipt["status"] != "failed":
        raise Conflict("Повторить можно только чек с ошибкой")
    shift = await shifts.get_shift(conn, receipt["shift_id"])
    if shift["status"] not in ("open", "closing"):
        raise Conflict("Смена этого чека закрыта: повторить его нельзя, отмените его")
    command = await commands.retry(conn, receipt["command_id"], user_id=user_id)
    await conn.execute(text("UPDATE cash_receipts SET status = 'printing', error = NULL, command_id = :c "
                            "WHERE id = :id"), {"c": command["id"], "id": receipt_id})
    return await receipts.get_receipt(conn, receipt_id)


async def cancel(conn: AsyncConnection, receipt_id: int, *, user_id: int) -> dict[str, Any]:
    """A failed receipt given up: the payment(s) of a cash sale stornoed, status cancelled."""
    receipt = await receipts.get_receipt(conn, receipt_id, lock=True)
    if receipt["status"] == "cancelled":
        return receipt
    if receipt["status"] != "failed":
        raise Conflict("Отменить можно только чек с ошибкой (пробитый чек — оформите возврат)")
    if receipt["operation"] == "sale":
        for payment_id in receipts.payment_ids(receipt):
            payment = await intake.get_payment(conn, payment_id)
            if payment["status"] in intake.LIVE:
                await intake.storno_payment(conn, payment_id, note=f"Отмена чека № {receipt_id}: чек не пробит",
                                             fiscal_refund=True)
    await conn.execute(text("UPDATE cash_receipts SET status = 'cancelled' WHERE id = :id"), {"id": receipt_id})
    return await receipts.get_receipt(conn, receipt_id)


async def duplicate(conn: AsyncConnection, *, point_id: int, user_id: int) -> dict[str, Any]:
    """The register prints a copy of its last document."""
    agent = await shifts.point_agent(conn, point_id)
    return await commands.enqueue(conn, agent_id=agent["id"], kind="duplicate", key=uuid.uuid4(), payload={},
                                  user_id=user_id)
