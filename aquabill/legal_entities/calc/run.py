"""`run_month`: the legal entities' calculation of a month, in the caller's transaction.

- One calculation at a time per tenant: a transaction-level advisory lock keyed by the tenant's schema is tried
  first — a second start while one runs is refused at once (Conflict, 409); the unique index
  `legal_runs_one_running` backs it (a 'running' row lives only inside the run's transaction).
- An open month (no `periods` row, or status 'open'): the month's 'charge' rows of the contracts in scope (every
  contract, or the one named) are replaced by the new lines.
- A closed month (`periods.status = 'closed'`): nothing of it changes. The month is computed anew (temp tables)
  and the differences new − old per (contract, point, service, method, tariff group, price, VAT) are inserted as
  'recalc' rows posted to the first open month; the recalc rows of this month already posted there by an earlier
  recalculation are replaced, so recalculating again is idempotent. Amounts of difference rows are new − old
  amounts (each already rounded once), never re-rounded.
- Contracts that cannot be billed (lc_problem: no diameter, no tariff, no precipitation …) get no lines; the run
  goes on and reports them (`problems`, and `legal_runs.error`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, NotFound, PeriodClosed
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import open_period
from aquabill.legal_entities.calc.compute import Progress, compute

LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended(current_schema() || '/legal-run', 0))"
BUSY = "Расчёт начислений юридическим лицам уже выполняется: повторите, когда он завершится"
COLUMNS = ("run_id, contract_id, object_id, point_id, service_id, period, posted_period, kind, method, date_from, "
           "date_to, volume, tariff_group, price, price_includes_vat, vat_mode, amount, details")
SCOPE = "(CAST(:cid AS int) IS NULL OR contract_id = :cid)"
ISSUED = ("документы за месяц уже выставлены, начисления оставлены как в них; чтобы пересчитать, отмените "
          "УПД (акт) договора")
FROZEN = f"SELECT contract_id FROM lc_problem WHERE message = '{ISSUED}'"


async def _noop(_pct: float, _msg: str) -> None:
    return None


async def run_month(conn: AsyncConnection, period: date, *, contract_id: int | None = None,
                    user_id: int | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Calculate the month of `period` (any day of it) for every contract, or for `contract_id`."""
    progress = progress or _noop
    month = Period.of(period)
    if not await conn.scalar(text(LOCK)):
        raise Conflict(BUSY)
    if contract_id is not None and not await conn.scalar(
            text("SELECT EXISTS (SELECT 1 FROM contracts WHERE id = :id)"), {"id": contract_id}):
        raise NotFound("Договор не найден", field="contract_id")
    status = await conn.scalar(text("SELECT status FROM periods WHERE period = :p"), {"p": month.first_day})
    closed = status == "closed"
    target = month.first_day
    if closed:
        found = await open_period(conn)
        if found is None or found <= month:
            raise PeriodClosed(f"Период {month} закрыт, а открытого периода после него для перерасчёта нет")
        target = found.first_day
    try:
        run_id = await conn.scalar(text(
            "INSERT INTO legal_runs(period, kind, contract_id, created_by) VALUES (:p, :k, :c, :u) RETURNING id"),
            {"p": month.first_day, "k": "recalc" if closed else "month", "c": contract_id, "u": user_id})
    except IntegrityError as exc:  # legal_runs_one_running: a run of another transaction is recorded as running
        raise Conflict(BUSY) from exc
    await progress(2, "Расчёт объёмов")
    await compute(conn, month.first_day, month.last_day, contract_id=contract_id, progress=progress)
    await progress(85, "Запись начислений")
    params = {"p": month.first_day, "target": target, "run": run_id, "cid": contract_id}
    if not closed:
        # the charges a month's issued UPD/act rests on stay as issued: such a contract is recalculated only after
        # its documents are cancelled (or, once the month is closed, as difference rows and a correction document)
        await conn.execute(text(f"""
            INSERT INTO lc_problem(contract_id, message)
            SELECT DISTINCT contract_id, '{ISSUED}' FROM legal_documents
            WHERE period = :p AND kind IN ('upd', 'act') AND status = 'issued' AND {SCOPE}"""), params)
        await conn.execute(text(f"DELETE FROM legal_charges WHERE kind = 'charge' AND period = :p AND {SCOPE} "
                                f"AND contract_id NOT IN ({FROZEN})"), params)
        lines = (await conn.execute(text(f"""
            INSERT INTO legal_charges({COLUMNS})
            SELECT :run, contract_id, object_id, point_id, service_id, :p, :p, 'charge', method, s, e, volume,
                   tariff_group, price, vat_included, vat_mode, amount, details
            FROM lc_line WHERE contract_id NOT IN ({FROZEN})
            ORDER BY contract_id, point_id NULLS LAST, service_id, s, method"""), params)).rowcount
    else:
        await conn.execute(text(
            f"DELETE FROM legal_charges WHERE kind = 'recalc' AND period = :p AND posted_period = :target "
            f"AND {SCOPE}"), params)
        lines = (await conn.execute(text(f"""
            INSERT INTO legal_charges({COLUMNS})
            SELECT :run, contract_id, max(object_id), point_id, service_id, :p, :target, 'recalc', method,
                   min(date_from), max(date_to), sum(volume), tariff_group, price, price_includes_vat, vat_mode,
                   sum(amount), jsonb_build_object('recalc_of', to_char(CAST(:p AS date), 'YYYY-MM'),
                                                   'new_volume', sum(volume) FILTER (WHERE side = 'new'),
                                                   'old_volume', sum(-volume) FILTER (WHERE side = 'old'),
                                                   'new_amount', sum(amount) FILTER (WHERE side = 'new'),
                                                   'old_amount', sum(-amount) FILTER (WHERE side = 'old'))
            FROM (SELECT 'new' AS side, contract_id, object_id, point_id, service_id, method, s AS date_from,
                         e AS date_to, volume, tariff_group, price, vat_included AS price_includes_vat, vat_mode,
                         amount FROM lc_line
                  UNION ALL
                  SELECT 'old', contract_id, object_id, point_id, service_id, method, date_from, date_to, -volume,
                         tariff_group, price, price_includes_vat, vat_mode, -amount
                  FROM legal_charges WHERE period = :p AND {SCOPE}) x
            GROUP BY contract_id, point_id, service_id, method, tariff_group, price, price_includes_vat, vat_mode
            HAVING sum(volume) <> 0 OR sum(amount) <> 0"""), params)).rowcount
    problems = [dict(r._mapping) for r in await conn.execute(text(
        "SELECT p.contract_id, k.number, p.message FROM lc_problem p JOIN contracts k ON k.id = p.contract_id "
        "ORDER BY k.number, p.message"))]
    stats = (await conn.execute(text(
        "SELECT (SELECT count(*) FROM lc_contract) AS contracts, "
        "coalesce((SELECT sum(amount) FROM legal_charges WHERE run_id = :run), 0) AS amount"), {"run": run_id})).one()
    error = "; ".join(f"Договор {p['number']}: {p['message']}" for p in problems[:50])
    if len(problems) > 50:
        error += f"; и ещё {len(problems) - 50}"
    await conn.execute(text(
        "UPDATE legal_runs SET status = 'done', contracts = :n, lines = :lines, amount = :amount, error = :error, "
        "finished_at = clock_timestamp() WHERE id = :run"),
        {"n": stats.contracts, "lines": lines, "amount": stats.amount, "error": error, "run": run_id})
    await progress(100, "Готово")
    return {"run_id": run_id, "period": str(month), "kind": "recalc" if closed else "month",
            "posted_period": str(Period.of(target)), "contracts": stats.contracts, "lines": lines,
            "amount": Decimal(stats.amount), "problems": problems}
