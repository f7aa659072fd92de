"""Turnover of contracts (оборотная ведомость): what was charged and paid, and the debt.

The debt is documents − payments: the issued 'upd' / 'act' documents and the 'ukd' corrections (their amount is
the signed difference: a decreasing UKD is negative) by `issued_on`, minus the contract's identified payments
(not storno, not rolled back) by `paid_on`. So for any range: opening + charged − paid = closing, to the kopeck —
the same figures the reconciliation act shows (debit = documents, credit = payments). A negative debt is an
advance (overpayment). Penalties (Federal Law 416-FZ, `contract_penalties`, by `calculated_on`) are shown beside
it — accrued, and paid (the payments' allocations of kind 'penalty') — with their own opening and closing.

- `contract_turnover(conn, contract_id, date_from, date_to)`: one contract, totals and a row per month;
- `turnover_statement(conn, period, q=…, limit, offset)`: every contract for a month, paged and searchable, with
  totals over all the contracts found — one SQL statement.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound

ZERO = Decimal("0.00")
DEBT_KINDS = "('upd', 'act', 'ukd')"
MAX_DAYS = 3660  # a turnover over more than ten years is refused (a typo in a year)

_EVENTS = f"""
SELECT issued_on AS day, amount AS charged, 0 AS paid, 0 AS pen_acc, 0 AS pen_paid FROM legal_documents
 WHERE contract_id = :k AND status = 'issued' AND kind IN {DEBT_KINDS} AND issued_on <= :t
UNION ALL
SELECT paid_on, 0, amount, 0, 0 FROM payments WHERE contract_id = :k AND status = 'identified' AND paid_on <= :t
UNION ALL
SELECT calculated_on, 0, 0, amount, 0 FROM contract_penalties WHERE contract_id = :k AND calculated_on <= :t
UNION ALL
SELECT p.paid_on, 0, 0, 0, a.amount FROM contract_allocations a JOIN payments p ON p.id = a.payment_id
 WHERE a.contract_id = :k AND a.kind = 'penalty' AND p.status = 'identified' AND p.paid_on <= :t
"""
_CONTRACT_TURNOVER = text(f"""
SELECT CASE WHEN e.day < :f THEN NULL ELSE date_trunc('month', e.day)::date END AS month,
       coalesce(sum(e.charged), 0) AS charged, coalesce(sum(e.paid), 0) AS paid,
       coalesce(sum(e.pen_acc), 0) AS pen_acc, coalesce(sum(e.pen_paid), 0) AS pen_paid
FROM ({_EVENTS}) e GROUP BY 1 ORDER BY 1 NULLS FIRST
""")


def next_month(m: date) -> date:
    """The first day of the month after `m`'s (date.max after December 9999: nothing is later)."""
    return date(m.year + m.month // 12, m.month % 12 + 1, 1) if (m.year, m.month) < (9999, 12) else date.max


def _months(date_from: date, date_to: date) -> list[date]:
    out, m = [], date_from.replace(day=1)
    while m <= date_to and m != date.max:
        out.append(m)
        m = next_month(m)
    return out


def check_range(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    if date_from is None or date_to is None:
        raise Invalid("Укажите период: даты «с» и «по»", field="from" if date_from is None else "to")
    if date_to < date_from:
        raise Invalid("Дата «по» раньше даты «с»", field="to")
    if (date_to - date_from).days > MAX_DAYS:
        raise Invalid("Период оборотной ведомости — не больше десяти лет", field="from")
    return date_from, date_to


async def contract_turnover(conn: AsyncConnection, contract_id: int, date_from: date, date_to: date
                            ) -> dict[str, Any]:
    """{contract, date_from, date_to, opening, charged, paid, closing, penalties: {opening, accrued, paid,
    closing}, months: [{month, opening, charged, paid, closing, penalties_accrued, penalties_paid}]}."""
    date_from, date_to = check_range(date_from, date_to)
    k = (await conn.execute(text(
        "SELECT k.id, k.number, k.signed_on, k.status, k.counterparty_id, c.name AS counterparty, c.inn "
        "FROM contracts k JOIN counterparties c ON c.id = k.counterparty_id WHERE k.id = :k"),
        {"k": contract_id})).first()
    if k is None:
        raise NotFound("Договор не найден")
    rows = {r.month: r for r in await conn.execute(_CONTRACT_TURNOVER, {"k": contract_id, "f": date_from,
                                                                         "t": date_to})}
    before = rows.get(None)
    opening = (before.charged - before.paid) if before else ZERO
    pen_opening = (before.pen_acc - before.pen_paid) if before else ZERO
    months, debt, pen = [], opening, pen_opening
    totals = {"charged": ZERO, "paid": ZERO, "pen_acc": ZERO, "pen_paid": ZERO}
    for m in _months(date_from, date_to):
        r = rows.get(m)
        charged, paid = (r.charged, r.paid) if r else (ZERO, ZERO)
        pen_acc, pen_paid = (r.pen_acc, r.pen_paid) if r else (ZERO, ZERO)
        months.append({"month": m, "opening": debt, "charged": charged, "paid": paid, "closing": debt + charged - paid,
                       "penalties_accrued": pen_acc, "penalties_paid": pen_paid})
        debt += charged - paid
        pen += pen_acc - pen_paid
        for key, value in (("charged", charged), ("paid", paid), ("pen_acc", pen_acc), ("pen_paid", pen_paid)):
            totals[key] += value
    return {"contract": dict(k._mapping), "date_from": date_from, "date_to": date_to, "opening": opening,
            "charged": totals["charged"], "paid": totals["paid"], "closing": debt,
            "penalties": {"opening": pen_opening, "accrued": totals["pen_acc"], "paid": totals["pen_paid"],
                          "closing": pen},
            "months": months}


_STATEMENT = text(f"""
WITH d AS (
    SELECT contract_id, sum(amount) FILTER (WHERE issued_on < :m) AS before,
           sum(amount) FILTER (WHERE issued_on >= :m) AS charged
    FROM legal_documents WHERE status = 'issued' AND kind IN {DEBT_KINDS} AND issued_on < :next
    GROUP BY contract_id),
p AS (
    SELECT contract_id, sum(amount) FILTER (WHERE paid_on < :m) AS before, sum(amount) FILTER (WHERE paid_on >= :m) AS paid
    FROM payments WHERE status = 'identified' AND contract_id IS NOT NULL AND paid_on < :next
    GROUP BY contract_id),
r AS (
    SELECT k.id AS contract_id, k.number, k.status, c.id AS counterparty_id, c.name AS counterparty, c.inn,
           coalesce(d.before, 0) - coalesce(p.before, 0) AS opening, coalesce(d.charged, 0) AS charged,
           coalesce(p.paid, 0) AS paid
    FROM contracts k JOIN counterparties c ON c.id = k.counterparty_id
    LEFT JOIN d ON d.contract_id = k.id LEFT JOIN p ON p.contract_id = k.id
    WHERE (k.status <> 'draft' OR d.contract_id IS NOT NULL OR p.contract_id IS NOT NULL)
      AND (:like = '' OR k.number ILIKE :like OR c.name ILIKE :like OR c.inn LIKE :like)
      AND (NOT :debtors OR coalesce(d.before, 0) + coalesce(d.charged, 0) - coalesce(p.before, 0)
                           - coalesce(p.paid, 0) > 0))
SELECT r.*, r.opening + r.charged - r.paid AS closing,
       count(*) OVER () AS total, sum(r.opening) OVER () AS total_opening, sum(r.charged) OVER () AS total_charged,
       sum(r.paid) OVER () AS total_paid, sum(r.opening + r.charged - r.paid) OVER () AS total_closing
FROM r ORDER BY upper(r.number), r.contract_id LIMIT :lim OFFSET :off
""")


async def turnover_statement(conn: AsyncConnection, period: date, *, q: str = "", debtors: bool = False,
                             limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """The month's turnover of every contract (not drafts, unless they have movement): {period, items, total,
    totals: {opening, charged, paid, closing}} — totals over every contract found, not only the page."""
    m = period.replace(day=1)
    nxt = next_month(m)
    q = q.strip()
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" if q else ""
    rows = (await conn.execute(_STATEMENT, {"m": m, "next": nxt, "like": like, "debtors": debtors, "lim": limit,
                                            "off": offset})).all()
    totals = {"opening": ZERO, "charged": ZERO, "paid": ZERO, "closing": ZERO}
    total = 0
    if rows:
        first = rows[0]
        total = first.total
        totals = {"opening": first.total_opening, "charged": first.total_charged, "paid": first.total_paid,
                  "closing": first.total_closing}
    keys = ("contract_id", "number", "status", "counterparty_id", "counterparty", "inn", "opening", "charged", "paid",
            "closing")
    return {"period": m, "items": [{k: getattr(r, k) for k in keys} for r in rows], "total": total,
            "totals": totals}
