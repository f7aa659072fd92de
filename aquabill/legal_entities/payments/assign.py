"""An operator's work with organisations' payments: an unidentified payment assigned to a contract (then the
contract reallocated), and the list of contract payments with filters and totals.

Never commits: the request boundary does; the user in the transaction makes the audit trigger record who did
it (`payments` is audited since t0018)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.legal_entities.payments.allocation import reallocate

PAYMENT_FIELDS = (
    "p.id, p.paid_on, p.amount, p.status, p.reason, p.payer, p.purpose, p.source, p.operation_id, p.file_id, "
    "p.contract_id, k.number AS contract_number, p.counterparty_id, c.name AS counterparty, c.inn AS "
    "counterparty_inn, coalesce((SELECT sum(a.amount) FROM contract_allocations a WHERE a.payment_id = p.id "
    "AND a.kind = 'advance'), 0) AS advance")
STATUSES = {"identified": "Опознан", "storno": "Сторнирован", "rolled_back": "Откатан"}


async def assign_payment(conn: AsyncConnection, payment_id: int, contract_id: int, *, note: str = "",
                         user_id: int | None = None) -> dict[str, Any]:
    """The unidentified payment bound to the contract (and its counterparty), the contract reallocated.
    A payment no longer in the queue → Conflict (409)."""
    p = (await conn.execute(text("SELECT id, status, account_id, contract_id FROM payments WHERE id = :p "
                                 "FOR UPDATE"), {"p": payment_id})).first()
    if p is None:
        raise NotFound("Платёж не найден")
    if p.status != "unidentified":
        what = {"identified": "уже опознан", "storno": "сторнирован", "rolled_back": "откатан"}.get(p.status, p.status)
        raise Conflict(f"Платёж № {payment_id} {what}: отнести на договор можно только невыясненный платёж")
    k = (await conn.execute(text("SELECT id, number, counterparty_id, status FROM contracts WHERE id = :k"),
                            {"k": contract_id})).first()
    if k is None:
        raise NotFound("Договор не найден", field="contract_id")
    if k.status == "draft":
        raise Invalid(f"Договор № {k.number} ещё не заключён (черновик): платёж на него не относится",
                      field="contract_id")
    reason = f"Отнесён на договор № {k.number} вручную" + (f": {note}" if note else "")
    await conn.execute(text(
        "UPDATE payments SET status = 'identified', account_id = NULL, contract_id = :k, counterparty_id = :c, "
        "reason = :r WHERE id = :p"), {"k": k.id, "c": k.counterparty_id, "r": reason, "p": payment_id})
    allocation = await reallocate(conn, [k.id], user_id=user_id)
    return {**await get_contract_payment(conn, payment_id), "allocation": allocation}


async def get_contract_payment(conn: AsyncConnection, payment_id: int) -> dict[str, Any]:
    r = (await conn.execute(text(
        f"SELECT {PAYMENT_FIELDS} FROM payments p LEFT JOIN contracts k ON k.id = p.contract_id "
        "LEFT JOIN counterparties c ON c.id = p.counterparty_id WHERE p.id = :p"), {"p": payment_id})).first()
    if r is None:
        raise NotFound("Платёж не найден")
    return dict(r._mapping)


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    contract_id: int | None = None
    counterparty_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: str = ""  # '' = every contract payment
    q: str = ""  # payer / purpose / contract number / counterparty name or INN


async def list_contract_payments(conn: AsyncConnection, flt: PaymentFilter, *, limit: int = 50, offset: int = 0
                                 ) -> tuple[list[dict[str, Any]], int, Decimal]:
    """(page of payments, total count, total amount) of payments ever bound to a contract; newest first."""
    conds = ["p.contract_id IS NOT NULL"]
    params: dict[str, Any] = {"lim": limit, "off": offset}
    for name, cond, value in (("contract", "p.contract_id = :contract", flt.contract_id),
                              ("counterparty", "p.counterparty_id = :counterparty", flt.counterparty_id),
                              ("date_from", "p.paid_on >= :date_from", flt.date_from),
                              ("date_to", "p.paid_on <= :date_to", flt.date_to),
                              ("status", "p.status = :status", flt.status or None)):
        if value is not None:
            conds.append(cond)
            params[name] = value
    q = flt.q.strip()
    if q:
        params["like"] = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append("(p.payer ILIKE :like OR p.purpose ILIKE :like OR k.number ILIKE :like OR c.name ILIKE :like "
                     "OR c.inn LIKE :like)")
    where = " AND ".join(conds)
    base = (" FROM payments p LEFT JOIN contracts k ON k.id = p.contract_id "
            f"LEFT JOIN counterparties c ON c.id = p.counterparty_id WHERE {where}")
    total, amount = (await conn.execute(text(
        f"SELECT count(*), coalesce(sum(p.amount) FILTER (WHERE p.status = 'identified'), 0) {base}"),
        params)).one()
    items = [dict(r._mapping) for r in await conn.execute(text(
        f"SELECT {PAYMENT_FIELDS} {base} ORDER BY p.paid_on DESC, p.id DESC LIMIT :lim OFFSET :off"), params)]
    return items, total, amount
