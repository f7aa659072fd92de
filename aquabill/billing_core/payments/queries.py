"""Reading payments back for the payments pages: the filtered list with its totals (one pass of SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.payments.store import PAYMENT_COLUMNS

PAYMENT_STATUSES = {"identified": "Опознан", "unidentified": "Неопознан", "storno": "Сторнирован",
                    "rolled_back": "Откатан"}
PAYMENT_SOURCES = {"registry": "Реестр агента", "bank_1c": "Банковская выписка", "manual": "Вручную",
                   "cash": "Касса", "transfer": "Перенос", "portal": "Личный кабинет"}
FILE_STATUSES = {"loaded": "Загружен", "rolled_back": "Откатан"}


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    date_from: date | None = None
    date_to: date | None = None
    agent: str = ""  # agent code
    account: str = ""  # account number (as found) or as the payer wrote it
    status: str = ""
    source: str = ""

    def where(self) -> tuple[str, dict[str, Any]]:
        conds, params = [], {}
        if self.date_from:
            conds.append("p.paid_on >= :df")
            params["df"] = self.date_from
        if self.date_to:
            conds.append("p.paid_on <= :dt")
            params["dt"] = self.date_to
        if self.agent:
            conds.append("g.code = :agent")
            params["agent"] = self.agent
        if self.account:
            conds.append("(a.number = :acc OR p.account_text = :acc)")
            params["acc"] = self.account
        if self.status:
            conds.append("p.status = :status")
            params["status"] = self.status
        if self.source:
            conds.append("p.source = :source")
            params["source"] = self.source
        return ("WHERE " + " AND ".join(conds)) if conds else "", params


_FROM = ("FROM payments p JOIN payment_agents g ON g.id = p.agent_id LEFT JOIN accounts a ON a.id = p.account_id "
         "LEFT JOIN services s ON s.id = p.service_id")


async def list_payments(conn: AsyncConnection, flt: PaymentFilter, *, limit: int, offset: int
                        ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A page of payments (newest first) and the totals over all of them: count, amount, identified amount."""
    where, params = flt.where()
    totals = (await conn.execute(text(
        f"SELECT count(*) AS count, coalesce(sum(p.amount), 0) AS amount, "
        f"coalesce(sum(p.amount) FILTER (WHERE p.status = 'identified'), 0) AS identified, "
        f"count(*) FILTER (WHERE p.status = 'unidentified') AS unidentified {_FROM} {where}"), params)).one()
    items = [dict(r._mapping) for r in await conn.execute(text(
        f"SELECT {PAYMENT_COLUMNS}, g.name AS agent_name, s.name AS service_name {_FROM} {where} "
        "ORDER BY p.paid_on DESC, p.id DESC LIMIT :lim OFFSET :off"), {**params, "lim": limit, "off": offset})]
    return items, dict(totals._mapping)


async def unidentified_totals(conn: AsyncConnection) -> dict[str, Any]:
    r = (await conn.execute(text(
        "SELECT count(*) AS count, coalesce(sum(amount), 0) AS amount FROM payments WHERE status = 'unidentified'"
    ))).one()
    return {"count": r.count, "amount": Decimal(r.amount)}


async def account_brief(conn: AsyncConnection, account_id: int) -> dict[str, Any] | None:
    r = (await conn.execute(text(
        "SELECT a.id, a.number, a.holder, a.status FROM accounts a WHERE a.id = :a"), {"a": account_id})).first()
    return dict(r._mapping) if r else None
