"""Receipts of many accounts at once, and which accounts get one for a month in what order.

`build_receipts` returns exactly what `build_receipt` returns for each account (the same `compose_receipt`
over the same figures), loaded with seven statements whatever the number of accounts: the cards, the
turnover lines (the statement's own SQL, `balances.TURNOVER_SQL`, scoped to the accounts), the penalty balances
(the figures of `penalties.store.penalty_turnover`, per account), the month-run rows by service, the
services, the payee and the penalty settings. Callers with a whole tenant pass chunks (a house, or a few
thousand accounts): the receipts of a chunk are held in memory.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import any_, bindparam

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.money import money
from aquabill.billing_core.payments.allocation import SERVICE_RANK
from aquabill.billing_core.payments.balances import RECALCULATED, TURNOVER_SQL
from aquabill.billing_core.penalties.rules import payment_due
from aquabill.billing_core.penalties.store import PENALTIES_BY_ACCOUNT
from aquabill.billing_core.penalties.store import load_settings as load_penalty_settings
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts.assemble import (
    BILLED,
    BILLED_SQL,
    MONEY,
    Receipt,
    card_account,
    compose_receipt,
    service_names,
)
from aquabill.billing_core.receipts.delivery import DELIVERY
from aquabill.billing_core.receipts.requisites import load_requisites
from aquabill.billing_core.registry.queries import ACCOUNT_COLUMNS, ACCOUNT_FROM, account_row
from aquabill.billing_core.registry.tables import accounts

MAX_ID = 2_147_483_647
ACCOUNTS = "CAST(:accounts AS integer[])"

# the turnover lines of the accounts, in the statement's order within each account
_LINES = TURNOVER_SQL.format(scope=f"a.id = ANY({ACCOUNTS})", month="NULL::date") + f"""
    SELECT l.*, sv.code AS service, CASE WHEN l.service_id IS NULL THEN 'advance' ELSE 'debt' END AS kind
    FROM lines l LEFT JOIN services sv ON sv.id = l.service_id
    LEFT JOIN ({SERVICE_RANK}) r ON r.service_id = l.service_id
    ORDER BY l.account_id, l.service_id IS NULL, r.rank, l.service_id"""

_PENALTIES = PENALTIES_BY_ACCOUNT.format(accounts=ACCOUNTS)


def _m(value: Any) -> str:
    return str(money(Decimal(value or 0)))


def _penalty(row: Any | None) -> dict[str, str]:
    """The penalty section of one account, as `penalty_turnover` gives it."""
    if row is None:
        return {k: _m(0) for k in ("opening", "charged", "storno", "paid", "closing")}
    opening = Decimal(row.opening) - Decimal(row.before)
    closing = opening + Decimal(row.charged) + Decimal(row.storno) - Decimal(row.within)
    return {"opening": _m(opening), "charged": _m(row.charged), "storno": _m(row.storno), "paid": _m(row.within),
            "closing": _m(closing)}


async def build_receipts(conn: AsyncConnection, period: Period, account_ids: list[int]) -> list[Receipt]:
    """The receipts of the accounts for the month, in the order given (the same as `build_receipt` of
    each); an account that does not exist is refused (NotFound) before anything is built."""
    if not account_ids:
        return []
    ids = sorted(set(account_ids))
    params = {"accounts": ids, "f": period.first_day, "t": period.next().first_day, "p": period.first_day}
    cards = {r.id: account_row(r) for r in await conn.execute(
        select(*ACCOUNT_COLUMNS).select_from(ACCOUNT_FROM)
        .where(accounts.c.id == any_(bindparam("ids", ids, type_=ARRAY(Integer)))))}
    missing = next((i for i in account_ids if i not in cards), None)
    if missing is not None:
        raise NotFound(f"Лицевой счёт #{missing} не найден")
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in await conn.execute(text(_LINES), {**params, "recalc": list(RECALCULATED)}):
        items[r.account_id].append({
            "account_id": r.account_id, "account_number": r.account_number, "kind": r.kind,
            "service_id": r.service_id, "service": r.service, "month": None, **{c: _m(getattr(r, c)) for c in MONEY}})
    penalties = {r.account_id: r for r in await conn.execute(text(_PENALTIES), params)}
    billed: dict[int, dict[int, Any]] = defaultdict(dict)
    for r in await conn.execute(text(BILLED_SQL.format(cond=f"account_id = ANY({ACCOUNTS})")),
                                {**params, "billed": list(BILLED)}):
        billed[r.account_id][r.service_id] = r
    names = await service_names(conn)
    payee = await load_requisites(conn)
    when = payment_due(period.first_day, (await load_penalty_settings(conn))["due_day"])
    receipts = []
    for account_id in account_ids:
        lines = items.get(account_id, [])
        totals = {c: _m(sum((Decimal(x[c]) for x in lines), Decimal(0))) for c in MONEY}
        receipts.append(compose_receipt(period, card_account(cards[account_id]), payee, lines, totals,
                                        _penalty(penalties.get(account_id)), billed.get(account_id, {}), names,
                                        when))
    return receipts


# accounts whose receipt for the month shows a balance: the turnover statement's closing (Σ charges posted
# up to the month − Σ allocations of payments paid up to its end) or the penalty balance is not zero
_BALANCED = """
    SELECT account_id FROM (
        SELECT account_id, amount FROM charges WHERE period < :t
        UNION ALL
        SELECT pa.account_id, -pa.amount FROM payment_allocations pa JOIN payments p ON p.id = pa.payment_id
        WHERE p.paid_on < :t) x
    GROUP BY 1 HAVING sum(amount) <> 0
    UNION
    SELECT account_id FROM (
        SELECT account_id, amount FROM penalty_charges WHERE period < :t
        UNION ALL
        SELECT pa.account_id, -pa.amount FROM payment_allocations pa JOIN payments p ON p.id = pa.payment_id
        WHERE pa.kind = 'penalty' AND p.paid_on < :t) y
    GROUP BY 1 HAVING sum(amount) <> 0"""

_NATURAL = "CAST(nullif(substring({c} FROM '^[0-9]+'), '') AS integer) NULLS LAST, {c}"


async def select_accounts(conn: AsyncConnection, period: Period, *, house_id: int | None = None,
                          street_id: int | None = None, delivery: str | None = None,
                          account_ids: list[int] | None = None) -> list[int]:
    """The accounts that get a receipt for the month, in the order of the delivery route: settlement, street,
    house number, flat number in human order (2 < 10 < 10а), then account number.

    The rule: an account gets a receipt for a month when it was open on at least one day of it (opened on or
    before its last day, not closed before its first day), or when its receipt for that month shows a
    balance — a debt or an advance (the turnover closing), or penalties (their closing) — so a closed account
    keeps getting receipts until it is settled. Filters: a house, a street, a delivery method
    ('paper', 'email', 'portal') and a list of accounts, combined."""
    if delivery is not None and delivery not in DELIVERY:
        raise Invalid(f"Способ доставки: {', '.join(DELIVERY)}", field="delivery")
    conds = ["(a.opened_on <= :last AND (a.closed_on IS NULL OR a.closed_on >= :first) "
             f"OR a.id IN ({_BALANCED}))"]
    params: dict[str, Any] = {"first": period.first_day, "last": period.last_day, "t": period.next().first_day}
    if house_id is not None:
        conds.append("h.id = :house")
        params["house"] = house_id
    if street_id is not None:
        conds.append("st.id = :street")
        params["street"] = street_id
    if delivery is not None:
        conds.append("a.receipt_delivery = :delivery")
        params["delivery"] = delivery
    if account_ids is not None:
        conds.append(f"a.id = ANY({ACCOUNTS})")
        params["accounts"] = sorted({i for i in account_ids if 0 < i <= MAX_ID})
    rows = await conn.execute(text(f"""
        SELECT a.id FROM accounts a JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id
        JOIN streets st ON st.id = h.street_id JOIN settlements se ON se.id = st.settlement_id
        WHERE {' AND '.join(conds)}
        ORDER BY se.name, se.id, st.name, st.kind, st.id, {_NATURAL.format(c='h.number')}, h.id,
                 {_NATURAL.format(c='p.number')}, a.number, a.id"""), params)
    return [r.id for r in rows]
