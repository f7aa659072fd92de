"""The penalty of one account by month of origin, on demand, with the pure calculator: what the run sums
into the account's row (it posts one row per account × period). Same inputs as the run — charges posted up
to the period, charge allocations paid before the calculation date, the tenant's settings, key rates, rules
and the deferrals that cover the account's house — so Σ `total` over the months = the cumulative accrual
of the account as of that period (before any storno)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.money import money
from aquabill.billing_core.penalties.calc import GRACE_DAYS, Payment, calculate_penalty, due_date
from aquabill.billing_core.penalties.rules import Moratorium, PenaltyRules
from aquabill.billing_core.penalties.store import load_key_rates, load_rules, load_settings
from aquabill.billing_core.periods import Period


async def _deferrals(conn: AsyncConnection, account_id: int) -> tuple[Moratorium, ...]:
    rows = await conn.execute(text("""
        SELECT d.date_from, d.date_to, d.reason FROM accounts a JOIN premises p ON p.id = a.premise_id
        JOIN houses h ON h.id = p.house_id
        JOIN penalty_deferrals d ON d.scope = 'all' OR (d.scope = 'houses' AND h.id = ANY(d.house_ids))
                                 OR (d.scope = 'improvement' AND h.improvement = d.improvement)
        WHERE a.id = :a ORDER BY d.id"""), {"a": account_id})
    return tuple(Moratorium(r.date_from, r.date_to, r.reason) for r in rows)


async def penalty_breakdown(conn: AsyncConnection, account_id: int, period: Period) -> dict[str, Any]:
    """Per month of origin: debt, paid before the calculation date, unpaid rest, days of delay and the
    cumulative penalty (rounded per month, as the run does) as of the end of `period`."""
    cfg = await load_settings(conn)
    rules, key_rates = await load_rules(conn), await load_key_rates(conn)
    rules = PenaltyRules(rules.moratoria + await _deferrals(conn, account_id), rules.rate_rules)
    calc_date = period.next().first_day
    last = calc_date - timedelta(days=1)
    debts = {m: Decimal(x) for m, x in await conn.execute(text(
        "SELECT coalesce(corrects_period, period), sum(amount) FROM charges WHERE account_id = :a "
        "AND period <= :p GROUP BY 1 HAVING sum(amount) > 0"), {"a": account_id, "p": period.first_day})}
    pays: dict[Any, list[Payment]] = defaultdict(list)
    for m, d, x in await conn.execute(text(
            "SELECT pa.month_of_origin, p.paid_on, pa.amount FROM payment_allocations pa "
            "JOIN payments p ON p.id = pa.payment_id WHERE pa.account_id = :a AND pa.kind = 'charge' "
            "AND pa.month_of_origin IS NOT NULL"), {"a": account_id}):
        pays[m].append(Payment(d, Decimal(x)))
    months, total = [], Decimal(0)
    for m in sorted(debts):
        due = due_date(m, cfg["due_day"])
        if due + timedelta(days=GRACE_DAYS + 1) > last:
            continue
        try:
            result = calculate_penalty(debts[m], due, pays[m], calc_date, rate_date=cfg["rate_date"],
                                       scope=cfg["scope"], rules=rules, key_rates=key_rates)
        except ValueError as exc:
            raise Invalid(f"Нет ключевой ставки для расчёта пени: {exc}") from exc
        paid = sum((p.amount for p in pays[m] if p.paid_on < calc_date), Decimal(0))
        rest = max(debts[m] - paid, Decimal(0))
        total += result.total
        months.append({"month_of_origin": m.strftime("%Y-%m"), "due": due.isoformat(), "debt": str(money(debts[m])),
                       "paid": str(money(paid)), "rest": str(money(rest)),
                       "days": (last - due).days if rest > 0 else 0, "penalty": str(result.total)})
    number = (await conn.execute(text("SELECT number FROM accounts WHERE id = :a"), {"a": account_id})).scalar()
    return {"account_id": account_id, "account_number": number, "period": str(period), "calc_date": calc_date.isoformat(),
            "total": str(money(total)), "months": months}


__all__ = ["penalty_breakdown"]
