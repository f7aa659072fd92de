"""The penalty run of a month P: set-based SQL over every account × month of origin.

Debt of a month of origin m: the account's charges of m (coalesce(corrects_period, period), all services
and methods netted, posted up to P), when positive; due on `due_date(m, payment_due_day)`. Payments
against it: its `payment_allocations` (kind 'charge') with their payment's `paid_on`, before the
calculation date C = the first day of P + 1 month. That is exactly the input of `calc.calculate_penalty`
(amount, due, payments, C); the rule calendar (calendar.py, Python, a few thousand rows) turns each part
into a lookup, SQL sums the parts per account × month of origin exactly (kopecks × hundredths of the rate
sums, in bigint) and rounds once, half up to the kopeck — money.py's rule, as an integer division on these
non-negative sums: kopecks = ⌊(2x + q) / 2q⌋ for x / q roubles × 100.

Accrual per month: the row of P holds round(cumulative penalty as of C) − the accruals of earlier periods,
so Σ accruals over the months = the calculator's total as of the last run, and whatever changed in the
history (a late allocation, a reversed payment, a new deferral or key rate) lands as a difference in P.
Re-running an open P replaces its accruals (idempotent; rows already reversed by a storno stay and count
as accrued, so a reversed penalty is not charged again). A negative difference never takes the net penalty
of an account × month below zero (after a storno the forgiven part is not refunded twice). A closed P is
refused: its rows never change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.errors import BillingError
from aquabill.billing_core.penalties.calc import GRACE_DAYS, PenaltyScope, due_date
from aquabill.billing_core.penalties.calendar import (
    DIVISOR,
    EARLY_WEIGHT,
    LATE_WEIGHT,
    NoKeyRate,
    build_calendar,
)
from aquabill.billing_core.penalties.rules import Moratorium
from aquabill.billing_core.penalties.store import load_key_rates, load_rules, load_settings
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import open_for_posting
from aquabill.billing_core.run.compute import RUN_WORK_MEM

Progress = Callable[[float, str], Awaitable[None]]

TEMP = ("pen_f", "pen_rest", "pen_due", "pen_group", "pen_calc")


@dataclass
class PenaltyRunResult:
    run_id: int
    period: Period
    rows: int = 0
    accounts: int = 0
    amount: str = "0.00"
    settings: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "period": str(self.period), "rows": self.rows, "accounts": self.accounts,
                "amount": self.amount, "settings": self.settings, "timings": self.timings}


async def _noop(_pct: float, _msg: str) -> None:
    return None


def month_dues(first: Period, period: Period, due_day: int | None) -> dict[date, date]:
    """month of origin → due date, for the months first … period that can be late by day 31 in `period`."""
    last_day = period.last_day
    dues, m = {}, first
    while m <= period:
        due = due_date(m.first_day, due_day)
        if due + timedelta(days=GRACE_DAYS + 1) <= last_day:
            dues[m.first_day] = due
        m = m.next()
    return dues


async def _deferral_groups(conn: AsyncConnection, start: date, last: date) -> dict[int, list[Moratorium]]:
    """Accounts under deferrals overlapping start … last get a group (one per distinct set of deferrals),
    written to `pen_group(account_id, g)`; returns each group's extra no-penalty ranges."""
    await conn.execute(text("CREATE TEMP TABLE pen_group (account_id integer PRIMARY KEY, g integer NOT NULL) "
                            "ON COMMIT DROP"))
    deferrals = {r.id: r for r in await conn.execute(text(
        "SELECT id, date_from, date_to, reason FROM penalty_deferrals WHERE date_to >= :a AND date_from <= :b"),
        {"a": start, "b": last})}
    if not deferrals:
        return {}
    sets = (await conn.execute(text("""
        WITH ad AS (
            SELECT a.id AS account_id, array_agg(d.id ORDER BY d.id) AS defs
            FROM accounts a JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id
            JOIN penalty_deferrals d ON d.id = ANY(CAST(:ids AS integer[]))
             AND (d.scope = 'all' OR (d.scope = 'houses' AND h.id = ANY(d.house_ids))
                  OR (d.scope = 'improvement' AND h.improvement = d.improvement))
            GROUP BY a.id
        ), g AS (SELECT defs, row_number() OVER (ORDER BY defs) AS g FROM (SELECT DISTINCT defs FROM ad) x),
        ins AS (INSERT INTO pen_group(account_id, g) SELECT ad.account_id, g.g FROM ad JOIN g USING (defs))
        SELECT g, defs FROM g"""), {"ids": list(deferrals)})).all()
    return {r.g: [Moratorium(deferrals[i].date_from, deferrals[i].date_to, deferrals[i].reason) for i in r.defs]
            for r in sets}


def _hundredths(value: Decimal) -> int:
    """A calendar sum (rates with two decimals) as an integer of hundredths: the run multiplies kopecks by
    it in bigint (exact; summed in 128 bits), and divides once, by DIVISOR × 100 × 100."""
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise BillingError("Ставки пеней должны иметь не более двух знаков после запятой")
    return int(scaled)


async def _fill_calendar(conn: AsyncConnection, period: Period, cfg: dict[str, Any]) -> dict[date, date]:
    first = (await conn.execute(text("SELECT min(period) FROM charges"))).scalar()
    calc_date = period.next().first_day
    dues = month_dues(Period.of(first), period, cfg["due_day"]) if first is not None else {}
    start = min(dues.values(), default=calc_date) + timedelta(days=GRACE_DAYS + 1)
    groups = await _deferral_groups(conn, start, calc_date - timedelta(days=1))
    try:
        cal = build_calendar(calc_date, dues, rules=await load_rules(conn), key_rates=await load_key_rates(conn),
                             rate_date=cfg["rate_date"], groups=groups)
    except NoKeyRate as exc:
        raise BillingError(str(exc)) from exc
    await conn.execute(text(
        "CREATE TEMP TABLE pen_f ON COMMIT DROP AS SELECT * FROM unnest(CAST(:g AS integer[]), CAST(:m AS date[]), "
        "CAST(:d AS date[]), CAST(:a AS bigint[]), CAST(:b AS bigint[])) AS t(g, m, day, f300, f130)"),
        {"g": [r[0] for r in cal.f_rows], "m": [r[1] for r in cal.f_rows], "d": [r[2] for r in cal.f_rows],
         "a": [_hundredths(r[3]) for r in cal.f_rows], "b": [_hundredths(r[4]) for r in cal.f_rows]})
    await conn.execute(text(
        "CREATE TEMP TABLE pen_rest ON COMMIT DROP AS SELECT * FROM unnest(CAST(:g AS integer[]), "
        "CAST(:m AS date[]), CAST(:a AS bigint[]), CAST(:b AS bigint[])) AS t(g, m, f300, f130)"),
        {"g": [r[0] for r in cal.rest_rows], "m": [r[1] for r in cal.rest_rows],
         "a": [_hundredths(r[2]) for r in cal.rest_rows], "b": [_hundredths(r[3]) for r in cal.rest_rows]})
    await conn.execute(text(
        "CREATE TEMP TABLE pen_due ON COMMIT DROP AS SELECT * FROM unnest(CAST(:m AS date[]), CAST(:d AS date[])) "
        "AS t(m, due)"), {"m": list(dues), "d": list(dues.values())})
    for table in ("pen_f", "pen_rest", "pen_due", "pen_group"):
        await conn.execute(text(f"ANALYZE {table}"))
    return dues


# Per account × month of origin: the debt, what was paid before C, and Σ base × f over the paid parts
# (in integers: kopecks × hundredths of the rate sums)
# (a payment on day L late by 31+ days finds its row in pen_f; earlier ones add nothing). The unpaid rest
# uses pen_rest. When allocations exceed the debt (credits of other services of the month), the parts are
# clipped in payment order as the calculator does — `over` rows, recomputed below.
_CALC = """
CREATE TEMP TABLE pen_calc ON COMMIT DROP AS
WITH debt AS (
    SELECT c.account_id, coalesce(c.corrects_period, c.period) AS m, sum(c.amount) AS amount
    FROM charges c
    WHERE c.period <= :p AND coalesce(c.corrects_period, c.period) <= :lm
      AND coalesce(c.corrects_period, c.period) >= :fm
    GROUP BY 1, 2 HAVING sum(c.amount) > 0
), pay AS (
    SELECT pa.account_id, pa.month_of_origin AS m, sum(pa.amount) AS paid,
           CAST(coalesce(sum(CAST(pa.amount * 100 AS bigint) * f.f300), 0) AS bigint) AS n300,
           CAST(coalesce(sum(CAST(pa.amount * 100 AS bigint) * f.f130), 0) AS bigint) AS n130,
           max(p.paid_on) FILTER (WHERE p.paid_on > du.due) AS last_paid
    FROM payment_allocations pa JOIN payments p ON p.id = pa.payment_id
    JOIN pen_due du ON du.m = pa.month_of_origin
    LEFT JOIN pen_group pg ON pg.account_id = pa.account_id
    LEFT JOIN pen_f f ON f.g = coalesce(pg.g, 0) AND f.m = pa.month_of_origin AND f.day = p.paid_on
    WHERE pa.kind = 'charge' AND p.paid_on < :c
    GROUP BY 1, 2
)
SELECT d.account_id, d.m, coalesce(pg.g, 0) AS g, d.amount, coalesce(y.paid, 0) > d.amount AS over,
       coalesce(y.n300, 0::bigint) AS n300, coalesce(y.n130, 0::bigint) AS n130, greatest(d.amount - coalesce(y.paid, 0), 0) AS rest,
       y.last_paid
FROM debt d JOIN pen_due du ON du.m = d.m
LEFT JOIN pay y ON y.account_id = d.account_id AND y.m = d.m
LEFT JOIN pen_group pg ON pg.account_id = d.account_id
"""

# pairs whose payments exceed the debt: parts clipped in payment order (payments of one day together)
_OVER = """
UPDATE pen_calc c SET n300 = x.n300, n130 = x.n130, rest = 0, last_paid = x.last_paid
FROM (
    SELECT account_id, m, CAST(coalesce(sum(CAST(used * 100 AS bigint) * f300), 0) AS bigint) AS n300,
           CAST(coalesce(sum(CAST(used * 100 AS bigint) * f130), 0) AS bigint) AS n130,
           max(paid_on) FILTER (WHERE used > 0 AND paid_on > due) AS last_paid
    FROM (
        SELECT q.*, least(q.paid, greatest(q.amount - (sum(q.paid) OVER w - q.paid), 0)) AS used
        FROM (
            SELECT c.account_id, c.m, c.g, c.amount, du.due, p.paid_on, sum(pa.amount) AS paid,
                   min(f.f300) AS f300, min(f.f130) AS f130
            FROM pen_calc c JOIN pen_due du ON du.m = c.m
            JOIN payment_allocations pa ON pa.account_id = c.account_id AND pa.month_of_origin = c.m
                                       AND pa.kind = 'charge'
            JOIN payments p ON p.id = pa.payment_id AND p.paid_on < :c
            LEFT JOIN pen_f f ON f.g = c.g AND f.m = c.m AND f.day = p.paid_on
            WHERE c.over
            GROUP BY 1, 2, 3, 4, 5, 6
        ) q
        WINDOW w AS (PARTITION BY q.account_id, q.m ORDER BY q.paid_on)
    ) z
    GROUP BY 1, 2
) x
WHERE c.over AND c.account_id = x.account_id AND c.m = x.m
"""

_POST = f"""
WITH calc AS (
    SELECT c.account_id, c.m, c.rest,
           -- round(x / (DIVISOR × 10⁴), 2) half up for x ≥ 0, in bigint: kopecks = ⌊(2x + q) / 2q⌋, q = DIVISOR × 100
           ((2 * ((c.n300 + CAST({{rest}} * 100 AS bigint) * r.f300) * {EARLY_WEIGHT}
                  + (c.n130 + CAST({{rest}} * 100 AS bigint) * r.f130) * {LATE_WEIGHT}) + {DIVISOR * 100})
            / {DIVISOR * 200}) * 0.01 AS total,
           CASE WHEN c.rest > 0 THEN CAST(:c AS date) - 1 - du.due
                ELSE coalesce(c.last_paid - du.due, 0) END AS days
    FROM pen_calc c JOIN pen_rest r ON r.g = c.g AND r.m = c.m JOIN pen_due du ON du.m = c.m
), prior AS (
    SELECT account_id, month_of_origin AS m, coalesce(sum(amount) FILTER (WHERE kind = 'accrual'), 0) AS accrued,
           sum(amount) AS net
    FROM penalty_charges WHERE period <= :p
    GROUP BY 1, 2
), diff AS (
    SELECT coalesce(c.account_id, pr.account_id) AS account_id, coalesce(c.m, pr.m) AS m,
           greatest(coalesce(c.total, 0) - coalesce(pr.accrued, 0), -coalesce(pr.net, 0)) AS amount,
           coalesce(c.days, 0) AS days, coalesce(c.rest, 0) AS rest
    FROM calc c FULL JOIN prior pr ON pr.account_id = c.account_id AND pr.m = c.m
), ins AS (
    INSERT INTO penalty_charges(account_id, month_of_origin, period, kind, amount, days, debt, run_id)
    SELECT account_id, m, :p, 'accrual', amount, days, rest, :run FROM diff WHERE amount <> 0
    ORDER BY account_id, m  -- the indexes (account, month) and (period, account) are then filled in order
    RETURNING account_id, amount
)
SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount, (SELECT count(*) FROM (SELECT account_id FROM ins
       GROUP BY 1) a) AS accounts FROM ins
"""


async def run_penalties(conn: AsyncConnection, period: Period, *, job_id=None, created_by: int | None = None,
                        progress: Progress = _noop) -> PenaltyRunResult:
    """Compute and post the penalties of `period` for the whole tenant, in the caller's transaction."""
    await open_for_posting(conn, period, what="расчёт пеней")
    # one penalty run per tenant at a time; allocations stay still while it reads them
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/penalties'), 0)"))
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/alloc'), 0)"))
    await conn.execute(text(f"SET LOCAL work_mem = '{RUN_WORK_MEM}'"))
    await conn.execute(text("SET LOCAL jit = off"))
    cfg = await load_settings(conn)
    shown = {"debt_scope": cfg["scope"].value, "rate_date": cfg["rate_date"].value, "due_day": cfg["due_day"]}
    run_id = (await conn.execute(text(
        "INSERT INTO penalty_runs(period, job_id, settings, created_by) VALUES (:p, :j, CAST(:s AS jsonb), :u) "
        "RETURNING id"), {"p": period.first_day, "j": job_id, "s": json.dumps(shown), "u": created_by})).scalar_one()
    result = PenaltyRunResult(run_id, period, settings=shown)
    for table in TEMP:
        await conn.execute(text(f"DROP TABLE IF EXISTS pg_temp.{table}"))
    marks = [time.perf_counter()]

    def lap(name: str) -> None:
        marks.append(time.perf_counter())
        result.timings[name] = round(marks[-1] - marks[-2], 3)

    await progress(5, "Календарь правил")
    dues = await _fill_calendar(conn, period, cfg)
    lap("calendar")
    params = {"p": period.first_day, "c": period.next().first_day,
              "fm": min(dues, default=period.first_day), "lm": max(dues, default=date(1900, 1, 1))}
    await progress(15, "Долги и оплаты по месяцам возникновения")
    await conn.execute(text(_CALC), params)
    lap("debts")
    await conn.execute(text(_OVER), {"c": params["c"]})
    lap("clipped")
    await progress(70, "Запись пеней")
    await conn.execute(text(
        "DELETE FROM penalty_charges pc WHERE period = :p AND kind = 'accrual' AND NOT EXISTS "
        "(SELECT 1 FROM penalty_charges s WHERE s.storno_of = pc.id)"), {"p": period.first_day})
    rest = "c.rest" if cfg["scope"] is PenaltyScope.ALL_DEBTS else "0"
    stats = (await conn.execute(text(_POST.replace("{rest}", rest)),
                                {"p": period.first_day, "c": params["c"], "run": run_id})).one()
    lap("post")
    result.rows, result.accounts, result.amount = stats.n, stats.accounts, str(Decimal(stats.amount))
    await conn.execute(text(
        "UPDATE penalty_runs SET status = 'done', finished_at = clock_timestamp(), accounts = :a, rows = :r, "
        "amount = :x, stats = CAST(:s AS jsonb) WHERE id = :id"),
        {"a": result.accounts, "r": result.rows, "x": Decimal(result.amount), "id": run_id,
         "s": json.dumps(result.as_dict(), ensure_ascii=False)})
    for table in TEMP:
        await conn.execute(text(f"DROP TABLE IF EXISTS pg_temp.{table}"))
    await progress(100, "Готово")
    return result


__all__ = ["PenaltyRunResult", "month_dues", "run_penalties"]
