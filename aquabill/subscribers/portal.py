"""What the portal shows of a subscriber's accounts: the balance and debt by service, the charges month by
month, the payments, and the months that have a receipt.

Every function that takes an account checks first that it is linked live to the subscriber
(`require_linked`): another subscriber's account and an account that does not exist get the same `NotFound`.
Amounts stay `Decimal`; the pages and the API format them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import NotFound
from aquabill.billing_core.payments.balances import AccountBalance, account_balance
from aquabill.billing_core.payments.queries import PAYMENT_SOURCES, PAYMENT_STATUSES
from aquabill.billing_core.periods import Period
from aquabill.billing_core.registry.card import group_charges
from aquabill.billing_core.run.queries import latest_charged_period
from aquabill.subscribers.links import linked_accounts, require_linked

ZERO = Decimal("0.00")
ACCOUNT_NOT_FOUND = "Лицевой счёт не найден"  # as links.require_linked says it
SHOWN_PAYMENTS = ("identified", "storno")  # what a subscriber sees of the payments of their account


async def _penalty_balance(conn: AsyncConnection, account_id: int) -> Decimal:
    """Penalties charged (accruals − storno) less the payments allocated to them."""
    return Decimal((await conn.execute(text(
        "SELECT (SELECT coalesce(sum(amount), 0) FROM penalty_charges WHERE account_id = :a) "
        "- (SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE account_id = :a AND kind = 'penalty')"),
        {"a": account_id})).scalar_one()).quantize(ZERO)


def debt_by_service(balance: AccountBalance) -> list[dict[str, Any]]:
    """The debt summed by service (months of origin listed), in the allocation order of services."""
    services: dict[int, dict[str, Any]] = {}
    for line in balance.lines:
        item = services.setdefault(line.service_id, {"service": line.service, "service_name": line.service_name,
                                                     "debt": ZERO, "months": []})
        item["debt"] += line.debt
        item["months"].append(line.month)
    return list(services.values())


async def account_summary(conn: AsyncConnection, account: dict[str, Any]) -> dict[str, Any]:
    """The account (`id`, `number`, `address`, `holder`) with its money: `balance` (debt − advance),
    `debt`, `advance`, `penalty`, `to_pay` (what to pay now: the balance plus penalties, never below 0),
    `services` (debt by service) and `period` (the latest month with charges, "" when none)."""
    balance = await account_balance(conn, account["id"])
    penalty = await _penalty_balance(conn, account["id"])
    latest = await latest_charged_period(conn, account["id"])
    to_pay = max(balance.balance + max(penalty, ZERO), ZERO)
    return {**account, "balance": balance.balance.quantize(ZERO), "debt": balance.debt.quantize(ZERO),
            "advance": balance.advance.quantize(ZERO), "penalty": penalty, "to_pay": to_pay.quantize(ZERO),
            "services": debt_by_service(balance), "period": str(latest) if latest else ""}


async def dashboard(conn: AsyncConnection, subscriber_id: int) -> list[dict[str, Any]]:
    """Every account linked to the subscriber (by number) with its summary."""
    return [await account_summary(conn, a) for a in await linked_accounts(conn, subscriber_id)]


async def linked_account(conn: AsyncConnection, subscriber_id: int, account_id: int) -> dict[str, Any]:
    """One of the subscriber's accounts (`id`, `number`, `address`, `holder`); `NotFound` for any other."""
    found = next((a for a in await linked_accounts(conn, subscriber_id) if a["id"] == account_id), None)
    if found is None:
        raise NotFound(ACCOUNT_NOT_FOUND)
    return found


async def account_view(conn: AsyncConnection, subscriber_id: int, account_id: int) -> dict[str, Any]:
    """One of the subscriber's accounts with its summary."""
    return await account_summary(conn, await linked_account(conn, subscriber_id, account_id))


async def charges_history(conn: AsyncConnection, subscriber_id: int, account_id: int, *, limit: int = 6,
                          offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of months with charges, newest first (`limit` months from `offset`), each with its lines
    (`service_name`, `method_name`, `volume`, `tariff`, `amount`, …) and total; and the number of months."""
    await require_linked(conn, subscriber_id, account_id)
    rows = await conn.execute(text(
        "SELECT c.id, c.period, c.service_id, s.name AS service_name, c.method, c.volume, c.tariff, "
        "c.coefficient, c.amount, c.days, c.corrects_period, c.note "
        "FROM charges c JOIN services s ON s.id = c.service_id "
        "WHERE c.account_id = :a AND c.period IN (SELECT DISTINCT period FROM charges WHERE account_id = :a "
        "ORDER BY period DESC LIMIT :l OFFSET :o) ORDER BY c.period DESC, s.sort, s.id, c.id"),
        {"a": account_id, "l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(DISTINCT period) FROM charges WHERE account_id = :a"),
                                {"a": account_id})).scalar_one()
    return group_charges(rows), total


async def payments_history(conn: AsyncConnection, subscriber_id: int, account_id: int, *, limit: int = 20,
                           offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of the account's payments, newest first: `paid_on`, `amount`, `source_name` (how it came),
    `agent_name` (who took it), `period`, `status`, `status_name`; and their number."""
    await require_linked(conn, subscriber_id, account_id)
    params = {"a": account_id, "shown": list(SHOWN_PAYMENTS), "l": limit, "o": offset}
    rows = await conn.execute(text(
        "SELECT p.id, p.paid_on, p.amount, p.source, g.name AS agent_name, to_char(p.period, 'YYYY-MM') AS period, "
        "p.status, p.purpose FROM payments p JOIN payment_agents g ON g.id = p.agent_id "
        "WHERE p.account_id = :a AND p.status = ANY(:shown) ORDER BY p.paid_on DESC, p.id DESC "
        "LIMIT :l OFFSET :o"), params)
    total = (await conn.execute(text(
        "SELECT count(*) FROM payments WHERE account_id = :a AND status = ANY(:shown)"), params)).scalar_one()
    items = [{**dict(r._mapping), "source_name": PAYMENT_SOURCES.get(r.source, r.source),
              "status_name": PAYMENT_STATUSES.get(r.status, r.status)} for r in rows]
    return items, total


async def receipt_months(conn: AsyncConnection, subscriber_id: int, account_id: int, *,
                         limit: int = 36) -> list[str]:
    """The months (ГГГГ-ММ, newest first) that have a receipt: a month with charges or payments."""
    await require_linked(conn, subscriber_id, account_id)
    rows = await conn.execute(text(
        "SELECT m FROM (SELECT period AS m FROM charges WHERE account_id = :a "
        "UNION SELECT date_trunc('month', paid_on)::date FROM payments WHERE account_id = :a "
        "AND status = ANY(:shown)) x ORDER BY m DESC LIMIT :l"),
        {"a": account_id, "shown": list(SHOWN_PAYMENTS), "l": limit})
    return [str(Period.of(m)) for (m,) in rows]
