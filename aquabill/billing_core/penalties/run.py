"""The penalty run of a month P: set-based SQL over every account × month of origin, posting one row per
account.

Debt of a month of origin m: the account's charges of m (coalesce(corrects_period, period), all services
and methods netted, posted up to P), when positive; due on `due_date(m, payment_due_day)`. Payments
against it: its `payment_allocations` (kind 'charge') with their payment's `paid_on`, before the
calculation date C = the first day of P + 1 month. That is exactly the input of `calc.calculate_penalty`
(amount, due, payments, C); the rule calendar (calendar.py, Python, a few thousand rows) turns each part
into a lookup, SQL sums the parts per account × month of origin exactly (kopecks × hundredths of the rate
sums, in bigint) and rounds once per month of origin, half up to the kopeck — money.py's rule, as an
integer division on these non-negative sums: kopecks = ⌊(2x + q) / 2q⌋ for x / q roubles × 100.

The paid parts' sums live in the incremental state (state.py): the first run, and any run after a change of
key rates, rules, deferrals or settings, rebuilds it from the tables; other runs apply the changes the
triggers recorded since. The unpaid rest of each pair is priced with this run's calendar (`_CALC`).

Accrual per month: the account's row of P holds Σ over its months of origin of round(cumulative penalty as
of C) − the account's accruals of earlier periods, so Σ accruals over the months = Σ of the calculator's
totals as of the last run, and whatever changed in the history (a late allocation, a reversed payment, a
new deferral or key rate) lands as a difference in P. The per-month breakdown of an account is computed on
demand (detail.py). Re-running an open P replaces its accruals (idempotent; rows already reversed by a
storno stay and count as accrued, so a reversed penalty is not charged again). A negative difference never
takes the account's net penalty below zero (after a storno the forgiven part is not refunded twice). A
closed P is refused: its rows never change.

No table lock (t0018): payments, allocations and charges are written while a run works — it takes the
recorded changes and reads the tables statement by statement, each statement consistent with the records
it consumes (state.py); whatever commits meanwhile stays recorded and is applied by the next run. Runs of
a tenant are serialised (an advisory lock; so is a penalty storno). Before the first run ever the
triggers record nothing; from the moment a run holds the lock `/penalty_log` they do (t0018:
`penalty_log_off`), and the run waits for the writers that started without recording.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.penalties.calc import GRACE_DAYS, PenaltyScope, due_date
from aquabill.billing_core.penalties.calendar import (
    DIVISOR,
    EARLY_WEIGHT,
    LATE_WEIGHT,
    NoKeyRate,
    build_calendar,
)
from aquabill.billing_core.penalties.rules import Moratorium
from aquabill.billing_core.penalties.state import (
    Progress,
    apply_changes,
    build_full,
    fingerprint,
    no_progress,
    save_meta,
    state_meta,
)
from aquabill.billing_core.penalties.store import load_key_rates, load_rules, load_settings
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import open_for_posting
from aquabill.billing_core.run import tuning

# per sort/hash of the run's statements: the billing run's setting (run/compute.py reads the same variable)

TEMP = ("pen_f", "pen_group", "pen_later", "pen_calc")


@dataclass
class PenaltyRunResult:
    run_id: int
    period: Period
    rows: int = 0
    accounts: int = 0
    amount: str = "0.00"
    settings: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # full / incremental and its counts
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "period": str(self.period), "rows": self.rows, "accounts": self.accounts,
                "amount": self.amount, "settings": self.settings, "state": self.state, "timings": self.timings}


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
        raise Invalid("Ставки пеней должны иметь не более двух знаков после запятой")
    return int(scaled)


async def _fill_calendar(conn: AsyncConnection, period: Period, cfg: dict[str, Any]
                         ) -> tuple[dict[str, list[Any]], str, bool]:
    """The calendar tables; returns the unpaid rest's parameters of the pass (`_CALC`), the fingerprint of
    what they depend on, whether deferral groups exist."""
    first = (await conn.execute(text("SELECT min(period) FROM charges"))).scalar()
    calc_date = period.next().first_day
    dues = month_dues(Period.of(first), period, cfg["due_day"]) if first is not None else {}
    start = min(dues.values(), default=calc_date) + timedelta(days=GRACE_DAYS + 1)
    groups = await _deferral_groups(conn, start, calc_date - timedelta(days=1))
    rules, key_rates = await load_rules(conn), await load_key_rates(conn)
    fp = fingerprint(rate_date=cfg["rate_date"], due_day=cfg["due_day"], rules=rules, key_rates=key_rates,
                     groups=groups, calc_date=calc_date)
    try:
        cal = build_calendar(calc_date, dues, rules=rules, key_rates=key_rates,
                             rate_date=cfg["rate_date"], groups=groups)
    except NoKeyRate as exc:
        raise Invalid(str(exc)) from exc
    await conn.execute(text(
        "CREATE TEMP TABLE pen_f ON COMMIT DROP AS SELECT * FROM unnest(CAST(:g AS integer[]), CAST(:m AS date[]), "
        "CAST(:d AS date[]), CAST(:a AS bigint[]), CAST(:b AS bigint[])) AS t(g, m, day, f300, f130)"),
        {"g": [r[0] for r in cal.f_rows], "m": [r[1] for r in cal.f_rows], "d": [r[2] for r in cal.f_rows],
         "a": [_hundredths(r[3]) for r in cal.f_rows], "b": [_hundredths(r[4]) for r in cal.f_rows]})
    for table in ("pen_f", "pen_group"):
        await conn.execute(text(f"ANALYZE {table}"))
    # the unpaid rest of each (group, month of origin): its weighted calendar sum k (hundredths) and the days
    # of delay at C − 1 — parameters of the pass (not a temporary table: parallel workers can read them)
    rest = {"rg": [r[0] for r in cal.rest_rows], "rm": [r[1] for r in cal.rest_rows],
            "rk": [EARLY_WEIGHT * _hundredths(r[2]) + LATE_WEIGHT * _hundredths(r[3]) for r in cal.rest_rows],
            "rd": [(calc_date - timedelta(days=1) - dues[r[1]]).days for r in cal.rest_rows]}
    return rest, fp, bool(groups)


# One pass over the state, per account: Σ over its pairs of the cumulative penalty as of C, rounded once per
# month of origin (half up to the kopeck, in bigint: kopecks = ⌊(2x + q) / 2q⌋, q = DIVISOR × 100), the
# unpaid debt and the longest delay. A CREATE TABLE AS of parameters and the state only: the scan and the
# partial sums run in parallel workers where the server allows them.
_CALC = f"""
CREATE TEMP TABLE pen_calc ON COMMIT DROP AS
SELECT s.account_id,
       sum((2 * (s.n300 * {EARLY_WEIGHT} + s.n130 * {LATE_WEIGHT} + {{rest}} * r.k) + {DIVISOR * 100})
           / {DIVISOR * 200}) AS total_kop,
       sum(greatest(s.debt_kop - s.paid_kop, 0)) AS debt_kop,
       max(r.days) FILTER (WHERE s.debt_kop > s.paid_kop) AS days
FROM penalty_state s
JOIN unnest(CAST(:rg AS integer[]), CAST(:rm AS date[]), CAST(:rk AS bigint[]), CAST(:rd AS integer[]))
     AS r(g, m, k, days) ON r.g = s.g AND r.m = s.m
WHERE s.debt_kop > 0
GROUP BY 1
"""

# A re-run of an open period first removes its accruals (not those a storno reversed) and takes them off the
# accounts' totals
_REPLACE = """
WITH gone AS (
    DELETE FROM penalty_charges pc WHERE period = :p AND kind = 'accrual'
      AND NOT EXISTS (SELECT 1 FROM penalty_charges s WHERE s.storno_of = pc.id)
    RETURNING account_id, amount
)
UPDATE penalty_accounts t SET accrued = t.accrued - g.amount, net = t.net - g.amount
FROM (SELECT account_id, sum(amount) AS amount FROM gone GROUP BY 1) g WHERE t.account_id = g.account_id
"""

# minus what was accrued for the account before (penalty_accounts, less rows of later periods) → one row
# per account, added to the account's totals
_POST = """
WITH prior AS (
    SELECT t.account_id, t.accrued - coalesce(l.accrued, 0) AS accrued, t.net - coalesce(l.net, 0) AS net
    FROM penalty_accounts t LEFT JOIN pen_later l ON l.account_id = t.account_id
), diff AS (
    SELECT coalesce(c.account_id, pr.account_id) AS account_id,
           greatest(coalesce(c.total_kop * 0.01, 0) - coalesce(pr.accrued, 0), -coalesce(pr.net, 0)) AS amount,
           coalesce(c.days, 0) AS days, coalesce(c.debt_kop * 0.01, 0) AS debt
    FROM pen_calc c FULL JOIN prior pr ON pr.account_id = c.account_id
), ins AS (
    INSERT INTO penalty_charges(account_id, month_of_origin, period, kind, amount, days, debt, run_id)
    SELECT account_id, NULL, :p, 'accrual', amount, days, debt, :run FROM diff WHERE amount <> 0
    ORDER BY account_id  -- the indexes (account, month) and (period, account) are then filled in order
    RETURNING account_id, amount
), totals AS (  -- the accounts' totals, in place (the trigger skips this statement: see t0016)
    UPDATE penalty_accounts t SET accrued = t.accrued + i.amount, net = t.net + i.amount
    FROM ins i WHERE t.account_id = i.account_id
    RETURNING t.account_id
), fresh AS (
    INSERT INTO penalty_accounts(account_id, accrued, net)
    SELECT i.account_id, i.amount, i.amount FROM ins i
    WHERE NOT EXISTS (SELECT 1 FROM totals x WHERE x.account_id = i.account_id)
)
SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount FROM ins
"""


async def _lock_run(conn: AsyncConnection) -> None:
    """One penalty run per tenant at a time (a penalty storno takes the same lock); then the change log's
    lock (t0018), exclusive until the run commits: before the first run has committed, writers record
    their changes only while a run holds it, and the run waits here for the writers that started without
    recording (so they are in what it reads)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/penalties'), 0)"))
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/penalty_log'), 0)"))


async def run_penalties(conn: AsyncConnection, period: Period, *, job_id=None, created_by: int | None = None,
                        progress: Progress = no_progress, full: bool = False) -> PenaltyRunResult:
    """Compute and post the penalties of `period` for the whole tenant, in the caller's transaction.
    `full`: rebuild the state from the tables even when the recorded changes would do."""
    await _lock_run(conn)
    await open_for_posting(conn, period, what="расчёт пеней")
    await conn.execute(text(tuning.work_mem_sql()))
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
    p, c = period.first_day, period.next().first_day
    rest_params, fp, grouped = await _fill_calendar(conn, period, cfg)
    lap("calendar")
    meta = await state_meta(conn)
    full = full or meta is None or meta.fingerprint != fp or meta.period > p
    await progress(15, "Пересчёт долгов по месяцам возникновения" if full else "Изменения долгов и оплат")
    if full:
        result.state = {"mode": "full", **await build_full(conn, p, c, progress)}
    else:
        result.state = {"mode": "incremental", **await apply_changes(conn, p, c, regroup=grouped, progress=progress)}
    await save_meta(conn, p, c, fp, full=full)
    lap("state")
    await progress(70, "Запись пеней")
    # the run keeps the accounts' totals itself (the trigger skips its statements: t0016)
    await conn.execute(text("SELECT set_config('aquabill.penalty_totals', 'run', true)"))
    await conn.execute(text(_REPLACE), {"p": p})
    await conn.execute(text(
        "CREATE TEMP TABLE pen_later ON COMMIT DROP AS SELECT account_id, "
        "coalesce(sum(amount) FILTER (WHERE kind = 'accrual'), 0) AS accrued, sum(amount) AS net "
        "FROM penalty_charges WHERE period > :p GROUP BY 1"), {"p": p})
    rest = "greatest(s.debt_kop - s.paid_kop, 0)" if cfg["scope"] is PenaltyScope.ALL_DEBTS else "0"
    await conn.execute(text(_CALC.replace("{rest}", rest)), rest_params)
    stats = (await conn.execute(text(_POST), {"p": p, "run": run_id})).one()
    await conn.execute(text("SELECT set_config('aquabill.penalty_totals', '', true)"))
    lap("post")
    result.rows = result.accounts = stats.n
    result.amount = str(Decimal(stats.amount))
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
