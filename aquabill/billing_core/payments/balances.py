"""Balances by month of origin: an account's current debt, and the turnover statement (оборотно-сальдовая
ведомость) of a tenant, a house or an account over a range of months. Set-based SQL over `charges` and
`payment_allocations` (see allocation.py for how payments are allocated).

Turnover lines are per account × service (× month of origin with `by_month`); the advance of an account
is its own line (service and month NULL, `kind` 'advance'). Every line satisfies
closing = opening + charged + recalculated − paid, where
- opening: charges posted before the range − allocations of payments paid before it;
- charged: charges posted in the range by the run (meter, norm, average, substitute, common), one_off
  and installment rows; recalculated: recalculation and storno rows posted in the range;
- paid: allocations (charge and advance) of payments paid within the range (by payment date).
A charge counts in the line of its month of origin (coalesce(corrects_period, period)) and in the
column of the month it was posted. Since every payment is allocated whole (the rest as an advance),
Σ paid + the penalty section's paid = Σ identified payments paid in the range. Allocations of kind 'penalty'
are not in these lines: they are the penalty section's `paid` (penalties.store.penalty_turnover), so a penalty
paid lowers the sum to pay once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.payments.allocation import ITEM_NETS, SERVICE_RANK
from aquabill.billing_core.penalties.store import penalty_turnover
from aquabill.billing_core.periods import Period

RECALCULATED = ("recalculation", "storno")
ZERO = Decimal("0.00")

# an account's items (net charges − allocations), with the remaining credits applied to the remaining
# debts oldest first (as allocation step 4 does), and its advance
_BALANCE = f"""
WITH r AS ({SERVICE_RANK}),
items AS (
    SELECT x.month, x.service_id, r.rank, sum(x.charged) AS charged, sum(x.paid) AS paid,
           sum(x.charged) - sum(x.paid) AS left_
    FROM (SELECT month, service_id, amount AS charged, 0 AS paid
          FROM ({ITEM_NETS.format(rank=SERVICE_RANK, cond="c.account_id = :a")}) n
          UNION ALL
          SELECT month_of_origin, service_id, 0, amount FROM payment_allocations
          WHERE account_id = :a AND kind = 'charge') x
    JOIN r USING (service_id)
    GROUP BY 1, 2, 3
),
d AS (
    SELECT month, service_id, sum(left_) OVER w - left_ AS lo, sum(left_) OVER w AS hi
    FROM items WHERE left_ > 0 WINDOW w AS (ORDER BY month, rank, service_id ROWS UNBOUNDED PRECEDING)
),
s AS (
    SELECT month, service_id, sum(-left_) OVER w + left_ AS lo, sum(-left_) OVER w AS hi
    FROM items WHERE left_ < 0 WINDOW w AS (ORDER BY month, rank, service_id ROWS UNBOUNDED PRECEDING)
),
used AS (
    SELECT d.month AS dm, d.service_id AS ds, s.month AS sm, s.service_id AS ss,
           least(d.hi, s.hi) - greatest(d.lo, s.lo) AS amount
    FROM d JOIN s ON d.lo < s.hi AND s.lo < d.hi
)
SELECT to_char(i.month, 'YYYY-MM') AS month, i.service_id, sv.code AS service, sv.name AS service_name,
       i.charged, i.paid,
       coalesce((SELECT sum(amount) FROM used WHERE dm = i.month AND ds = i.service_id), 0)
       - coalesce((SELECT sum(amount) FROM used WHERE sm = i.month AND ss = i.service_id), 0) AS credit_applied,
       i.left_ AS left_
FROM items i JOIN services sv ON sv.id = i.service_id
ORDER BY i.month, i.rank, i.service_id"""


@dataclass(frozen=True, slots=True)
class DebtLine:
    month: str
    service_id: int
    service: str
    service_name: str
    charged: Decimal  # net charges of the item (all methods)
    paid: Decimal  # allocated payments
    credit_applied: Decimal  # covered by credits of other items (+), or given to them (−)
    debt: Decimal  # charged − paid − credit_applied; negative: a credit not consumed

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "service_id": self.service_id, "service": self.service,
                "service_name": self.service_name, "charged": _money(self.charged), "paid": _money(self.paid),
                "credit_applied": _money(self.credit_applied), "debt": _money(self.debt)}


@dataclass(frozen=True, slots=True)
class AccountBalance:
    account_id: int
    lines: list[DebtLine]  # items with a debt (> 0)
    advance: Decimal  # advance allocations + credits left over
    debt: Decimal  # Σ debts
    balance: Decimal  # debt − advance (negative: the account is in credit)

    def as_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "lines": [x.as_dict() for x in self.lines],
                "advance": _money(self.advance), "debt": _money(self.debt), "balance": _money(self.balance)}


async def account_balance(conn: AsyncConnection, account_id: int) -> AccountBalance:
    """The account's current debt by month of origin × service, and its advance."""
    rows = (await conn.execute(text(_BALANCE), {"a": account_id})).all()
    advance_paid = (await conn.execute(text(
        "SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE account_id = :a AND kind = 'advance'"),
        {"a": account_id})).scalar_one()
    lines, credit_left = [], ZERO
    for r in rows:
        debt = r.left_ - r.credit_applied
        if debt > 0:
            lines.append(DebtLine(r.month, r.service_id, r.service, r.service_name, r.charged, r.paid,
                                  r.credit_applied, debt))
        elif debt < 0:
            credit_left -= debt
    total = sum((x.debt for x in lines), ZERO)
    advance = Decimal(advance_paid) + credit_left
    return AccountBalance(account_id, lines, advance, total, total - advance)


# ---- the turnover statement ----------------------------------------------------------------------------

# The statement's SQL; `{scope}` is a condition on accounts `a` and premises `p`, `{month}` the line's month.
# Also run over a list of accounts by receipts/batch.py (many receipts in one pass).
TURNOVER_SQL = """
WITH acc AS (
    SELECT a.id, a.number FROM accounts a JOIN premises p ON p.id = a.premise_id WHERE {scope}
),
mov AS (
    SELECT c.account_id, c.service_id, coalesce(c.corrects_period, c.period) AS month,
           coalesce(sum(c.amount) FILTER (WHERE c.period < :f), 0) AS opening,
           coalesce(sum(c.amount) FILTER (WHERE c.period >= :f AND c.method <> ALL(:recalc)), 0) AS charged,
           coalesce(sum(c.amount) FILTER (WHERE c.period >= :f AND c.method = ANY(:recalc)), 0) AS recalculated,
           0 AS paid
    FROM charges c JOIN acc ON acc.id = c.account_id
    WHERE c.period < :t
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT pa.account_id, pa.service_id, pa.month_of_origin,
           -coalesce(sum(pa.amount) FILTER (WHERE p.paid_on < :f), 0), 0, 0,
           coalesce(sum(pa.amount) FILTER (WHERE p.paid_on >= :f), 0)
    FROM payment_allocations pa JOIN payments p ON p.id = pa.payment_id JOIN acc ON acc.id = pa.account_id
    WHERE p.paid_on < :t AND pa.kind <> 'penalty'  -- penalties paid are the penalty section's (penalty_turnover)
    GROUP BY 1, 2, 3
),
lines AS (
    SELECT m.account_id, acc.number AS account_number, m.service_id, {month} AS month,
           sum(opening) AS opening, sum(charged) AS charged, sum(recalculated) AS recalculated,
           sum(paid) AS paid, sum(opening) + sum(charged) + sum(recalculated) - sum(paid) AS closing
    FROM mov m JOIN acc ON acc.id = m.account_id
    GROUP BY 1, 2, 3, 4
    HAVING sum(opening) <> 0 OR sum(charged) <> 0 OR sum(recalculated) <> 0 OR sum(paid) <> 0
)
"""

_COLUMNS = ("opening", "charged", "recalculated", "paid", "closing")


@dataclass(frozen=True, slots=True)
class TurnoverScope:
    house_id: int | None = None
    account_id: int | None = None


def _query(scope: TurnoverScope, first: Period, last: Period, by_month: bool) -> tuple[str, dict[str, Any]]:
    if first > last:
        raise ValueError("Начало диапазона позже его конца")
    conds, params = ["TRUE"], {"f": first.first_day, "t": last.next().first_day, "recalc": list(RECALCULATED)}
    if scope.house_id is not None:
        conds.append("p.house_id = :house")
        params["house"] = scope.house_id
    if scope.account_id is not None:
        conds.append("a.id = :account")
        params["account"] = scope.account_id
    return TURNOVER_SQL.format(scope=" AND ".join(conds), month="m.month" if by_month else "NULL::date"), params


def _money(value: Any) -> str:
    return str(Decimal(value or 0).quantize(ZERO))


async def turnover(conn: AsyncConnection, first: Period, last: Period, scope: TurnoverScope = TurnoverScope(),
                   *, by_month: bool = False, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Lines (a page) and totals of the statement for months first..last; see the module's docstring."""
    base, params = _query(scope, first, last, by_month)
    rows = (await conn.execute(text(base + f"""
        SELECT l.*, sv.code AS service, CASE WHEN l.service_id IS NULL THEN 'advance' ELSE 'debt' END AS kind
        FROM lines l LEFT JOIN services sv ON sv.id = l.service_id
        LEFT JOIN ({SERVICE_RANK}) r ON r.service_id = l.service_id
        ORDER BY l.account_number, l.account_id, l.service_id IS NULL, r.rank, l.service_id, l.month
        LIMIT :limit OFFSET :offset"""), {**params, "limit": limit, "offset": offset})).all()
    sums = ", ".join(f"sum({c}) AS {c}" for c in _COLUMNS)
    totals_rows = (await conn.execute(text(base + f"""
        SELECT (service_id IS NULL) AS advance, count(*) AS n, {sums} FROM lines GROUP BY 1"""), params)).all()
    totals = {c: ZERO for c in _COLUMNS}
    advances = {c: ZERO for c in _COLUMNS}
    count = 0
    for t in totals_rows:
        count += t.n
        for c in _COLUMNS:
            totals[c] += Decimal(getattr(t, c) or 0)
            if t.advance:
                advances[c] += Decimal(getattr(t, c) or 0)
    items = [{
        "account_id": r.account_id, "account_number": r.account_number, "kind": r.kind,
        "service_id": r.service_id, "service": r.service,
        "month": r.month.strftime("%Y-%m") if isinstance(r.month, date) else None,
        **{c: _money(getattr(r, c)) for c in _COLUMNS}} for r in rows]
    # penalties are a separate balance: their own section, never mixed into the lines or totals above
    penalties = await penalty_turnover(conn, first, last, house_id=scope.house_id, account_id=scope.account_id)
    return {"from": str(first), "to": str(last), "by_month": by_month, "items": items, "total": count,
            "limit": limit, "offset": offset, "totals": {c: _money(v) for c, v in totals.items()},
            "advances": {c: _money(v) for c, v in advances.items()}, "penalties": penalties}
