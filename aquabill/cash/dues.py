"""What an account owes at the cash desk: its debt per service and month of origin (the balances the
allocation keeps, `billing_core.payments.balances.account_balance`), the penalty balance, the advance, and the
«к оплате» of its last receipt (`billing_core.receipts.build_receipt(...).due`); and how a payment is split into
receipt lines (`split`, pure) — the way the allocation will cover it:
1. the account's advance (and credits) covers the oldest debts first (allocation steps 4–5),
2. the payment covers what is left of the debts, oldest month first, then the tenant's service order (step 5),
3. then the penalty balance (step 6),
4. what is still left is an advance (step 6), a line of its own.
Paying chosen lines instead makes one payment per line naming its month and service (step 1 covers exactly
that item), or the penalty part (`payments.penalty`, step 0)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import NotFound
from aquabill.billing_core.payments.balances import account_balance
from aquabill.billing_core.payments.cover import cover
from aquabill.billing_core.penalties.store import account_penalties
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import build_receipt
from aquabill.billing_core.registry import account_card
from aquabill.cash.lines import ADVANCE, PENALTY, SERVICE, Part

ZERO = Decimal("0.00")
PENALTY_KEY = "penalty"


@dataclass(frozen=True, slots=True)
class DueLine:
    month: Period
    service_id: int
    service: str  # code
    service_name: str
    debt: Decimal  # > 0

    @property
    def key(self) -> str:
        """How the page names the line in a choice: `2026-11:3` (month:service id)."""
        return f"{self.month}:{self.service_id}"


@dataclass(frozen=True, slots=True)
class Dues:
    lines: tuple[DueLine, ...]  # in the allocation's order
    penalty: Decimal = ZERO  # the penalty balance (≥ 0 counts)
    advance: Decimal = ZERO  # advance and credits not used yet

    @property
    def debt(self) -> Decimal:
        return sum((x.debt for x in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        """The sum that settles everything: debts + penalties − advance, not below zero."""
        return max(self.debt + max(self.penalty, ZERO) - max(self.advance, ZERO), ZERO)

    def as_dict(self) -> dict[str, Any]:
        return {"lines": [{"key": x.key, "month": str(x.month), "service_id": x.service_id, "service": x.service,
                           "service_name": x.service_name, "debt": str(x.debt)} for x in self.lines],
                "penalty": str(max(self.penalty, ZERO)), "advance": str(max(self.advance, ZERO)),
                "debt": str(self.debt), "total": str(self.total)}


def split(dues: Dues, amount: Decimal) -> list[Part]:
    """The parts of one payment of `amount` (see the module's order); they add up to `amount` exactly."""
    paid = cover([line.debt for line in dues.lines], dues.penalty, dues.advance, amount)
    parts = [Part(SERVICE, part, line.month, line.service_id, line.service_name)
             for line, part in zip(dues.lines, paid.debts, strict=True) if part > 0]
    if paid.penalty > 0:
        parts.append(Part(PENALTY, paid.penalty))
    if paid.advance > 0:
        parts.append(Part(ADVANCE, paid.advance))
    return parts


def chosen(dues: Dues, keys: list[str]) -> list[Part]:
    """The parts of the lines the cashier ticked (`DueLine.key`s and `penalty`), each in full; a key that is not
    owed (any more) raises KeyError with it."""
    by_key = {x.key: x for x in dues.lines}
    parts: list[Part] = []
    for key in dict.fromkeys(keys):
        if key == PENALTY_KEY and dues.penalty > 0:
            parts.append(Part(PENALTY, dues.penalty))
        elif key in by_key:
            x = by_key[key]
            parts.append(Part(SERVICE, x.debt, x.month, x.service_id, x.service_name))
        else:
            raise KeyError(key)
    return parts


async def load_dues(conn: AsyncConnection, account_id: int) -> Dues:
    balance = await account_balance(conn, account_id)
    penalties = await account_penalties(conn, account_id)
    return Dues(tuple(DueLine(Period.parse(x.month), x.service_id, x.service, x.service_name, x.debt)
                      for x in balance.lines),
                penalty=Decimal(penalties["balance"]), advance=balance.advance)


async def last_billed(conn: AsyncConnection, account_id: int) -> Period | None:
    found = (await conn.execute(text("SELECT max(period) FROM charges WHERE account_id = :a"),
                                {"a": account_id})).scalar()
    return Period.of(found) if found is not None else None


@dataclass(frozen=True, slots=True)
class AccountDues:
    account: dict[str, Any]  # id, number, holder, address, status, phone, email
    dues: Dues
    receipt: dict[str, Any] | None  # the month's receipt: period, due («к оплате»), pay_by

    def as_dict(self) -> dict[str, Any]:
        receipt = None
        if self.receipt is not None:
            receipt = {**self.receipt, "pay_by": self.receipt["pay_by"].isoformat() if self.receipt["pay_by"]
                       else None}
        return {"account": self.account, "dues": self.dues.as_dict(), "receipt": receipt}


async def account_dues(conn: AsyncConnection, account_id: int, *, period: Period | None = None) -> AccountDues:
    """The account card of the desk: holder, address, status, the dues, and the receipt of `period` (the last
    billed month when not given) with its «к оплате»."""
    card = await account_card(conn, account_id)
    if card is None:
        raise NotFound("Лицевой счёт не найден", field="account_id")
    dues = await load_dues(conn, account_id)
    period = period or await last_billed(conn, account_id)
    receipt = None
    if period is not None:
        built = await build_receipt(conn, account_id, period)
        receipt = {"period": str(period), "due": str(built.due), "pay_by": built.pay_by}
    return AccountDues({k: card[k] for k in ("id", "number", "holder", "address", "status", "phone", "email")},
                       dues, receipt)
