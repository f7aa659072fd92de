"""Penalty data in the tenant schema: settings, key rates, rules, deferrals, penalty rows and their storno."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.money import money
from aquabill.billing_core.penalties.calc import PenaltyScope, RateDate
from aquabill.billing_core.penalties.rates import KeyRate
from aquabill.billing_core.penalties.rules import Moratorium, PenaltyRules, RateRule, RateRuleKind
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import current_open_period

DEFERRAL_SCOPES = ("all", "houses", "improvement")


def _m(value: Any) -> str:
    return str(money(Decimal(value or 0)))


async def load_settings(conn: AsyncConnection) -> dict[str, Any]:
    """The tenant's penalty settings: debt scope, which day's key rate, the due day (None: the law's)."""
    rows = dict((await conn.execute(text(
        "SELECT key, value FROM billing_settings WHERE key IN "
        "('penalty_debt_scope', 'penalty_rate_date', 'payment_due_day')"))).all())
    due = rows.get("payment_due_day")
    return {"scope": PenaltyScope(rows.get("penalty_debt_scope") or PenaltyScope.ALL_DEBTS.value),
            "rate_date": RateDate(rows.get("penalty_rate_date") or RateDate.PAYMENT_DAY.value),
            "due_day": int(due) if due is not None else None}


async def load_key_rates(conn: AsyncConnection) -> tuple[KeyRate, ...]:
    rows = await conn.execute(text("SELECT valid_from, rate FROM key_rates ORDER BY valid_from"))
    return tuple(KeyRate(r.valid_from, Decimal(r.rate)) for r in rows)


async def load_rules(conn: AsyncConnection) -> PenaltyRules:
    """Active rows of `penalty_rules` (the federal ones as seeded, plus the tenant's own)."""
    rows = (await conn.execute(text(
        "SELECT kind, date_from, date_to, rate, source FROM penalty_rules WHERE active ORDER BY date_from, id"))).all()
    return PenaltyRules(
        moratoria=tuple(Moratorium(r.date_from, r.date_to, r.source) for r in rows if r.kind == "moratorium"),
        rate_rules=tuple(RateRule(r.date_from, r.date_to, RateRuleKind(r.kind), Decimal(r.rate), r.source)
                         for r in rows if r.kind != "moratorium"))


# ---- key rates ------------------------------------------------------------------------------------------

async def list_key_rates(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(text("SELECT id, valid_from, rate, source FROM key_rates ORDER BY valid_from DESC"))
    return [{"id": r.id, "valid_from": r.valid_from.isoformat(), "rate": str(r.rate), "source": r.source} for r in rows]


async def add_key_rate(conn: AsyncConnection, valid_from: date, rate: Decimal, source: str) -> dict[str, Any]:
    """A new key rate from `valid_from` (penalties already posted change only through the next runs)."""
    if not Decimal(0) <= rate < Decimal(100):
        raise Invalid("Ключевая ставка должна быть от 0 до 100 % годовых", field="rate")
    try:
        async with conn.begin_nested():
            row = (await conn.execute(text(
                "INSERT INTO key_rates(valid_from, rate, source) VALUES (:d, :r, :s) RETURNING id"),
                {"d": valid_from, "r": rate, "s": source})).scalar_one()
    except IntegrityError as exc:
        raise Conflict(f"Ключевая ставка с {valid_from:%d.%m.%Y} уже есть", field="valid_from") from exc
    return {"id": row, "valid_from": valid_from.isoformat(), "rate": str(rate), "source": source}


# ---- deferrals -------------------------------------------------------------------------------------------

def _deferral(r) -> dict[str, Any]:
    return {"id": r.id, "scope": r.scope, "house_ids": list(r.house_ids) if r.house_ids is not None else None,
            "improvement": r.improvement, "date_from": r.date_from.isoformat(), "date_to": r.date_to.isoformat(),
            "reason": r.reason}


async def list_deferrals(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(text(
        "SELECT id, scope, house_ids, improvement, date_from, date_to, reason FROM penalty_deferrals "
        "ORDER BY date_from DESC, id DESC"))
    return [_deferral(r) for r in rows]


async def add_deferral(conn: AsyncConnection, *, scope: str, date_from: date, date_to: date, reason: str,
                       house_ids: list[int] | None = None, improvement: str | None = None,
                       created_by: int | None = None) -> dict[str, Any]:
    """No penalty accrues on date_from … date_to for the accounts of the houses / improvement category /
    the whole housing stock (taken into account by the next runs of the open period)."""
    if scope not in DEFERRAL_SCOPES:
        raise Invalid("Область отсрочки: all, houses или improvement", field="scope")
    if date_to < date_from:
        raise Invalid("Конец отсрочки раньше её начала", field="date_to")
    if not reason.strip():
        raise Invalid("Укажите основание отсрочки (документ)", field="reason")
    if scope == "houses":
        ids = sorted(set(house_ids or []))
        found = (await conn.execute(text("SELECT count(*) FROM houses WHERE id = ANY(CAST(:ids AS integer[]))"),
                                    {"ids": ids})).scalar_one()
        if not ids or found != len(ids):
            raise NotFound("Дом не найден", field="house_ids")
        house_ids = ids
    else:
        house_ids = None
    if scope == "improvement":
        if not (improvement or "").strip():
            raise Invalid("Укажите степень благоустройства", field="improvement")
    else:
        improvement = None
    row = (await conn.execute(text(
        "INSERT INTO penalty_deferrals(scope, house_ids, improvement, date_from, date_to, reason, created_by) "
        "VALUES (:s, :h, :i, :a, :b, :r, :u) RETURNING id, scope, house_ids, improvement, date_from, date_to, reason"),
        {"s": scope, "h": house_ids, "i": improvement, "a": date_from, "b": date_to, "r": reason.strip(),
         "u": created_by})).one()
    return _deferral(row)


# ---- penalty rows ----------------------------------------------------------------------------------------

def _row(r) -> dict[str, Any]:
    # month_of_origin: NULL for the runs' per-account rows (the breakdown by month: detail.py)
    return {"id": r.id, "account_id": r.account_id, "account_number": r.number, "month_of_origin":
            r.month_of_origin.strftime("%Y-%m") if r.month_of_origin else None, "period": r.period.strftime("%Y-%m"), "kind": r.kind,
            "amount": str(r.amount), "days": r.days, "debt": str(r.debt), "run_id": r.run_id,
            "storno_of": r.storno_of}


async def penalty_rows(conn: AsyncConnection, *, account_id: int | None, period: Period | None, limit: int,
                       offset: int) -> dict[str, Any]:
    cond = ["TRUE"]
    params: dict[str, Any] = {"l": limit, "o": offset}
    if account_id is not None:
        cond.append("pc.account_id = :a")
        params["a"] = account_id
    if period is not None:
        cond.append("pc.period = :p")
        params["p"] = period.first_day
    where = " AND ".join(cond)
    rows = (await conn.execute(text(
        "SELECT pc.id, pc.account_id, a.number, pc.month_of_origin, pc.period, pc.kind, pc.amount, pc.days, pc.debt, "
        f"pc.run_id, pc.storno_of FROM penalty_charges pc JOIN accounts a ON a.id = pc.account_id WHERE {where} "
        "ORDER BY a.number, pc.period, pc.month_of_origin NULLS FIRST, pc.id LIMIT :l OFFSET :o"), params)).all()
    agg = (await conn.execute(text(
        f"SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount FROM penalty_charges pc WHERE {where}"),
        {k: v for k, v in params.items() if k not in ("l", "o")})).one()
    return {"items": [_row(r) for r in rows], "total": agg.n, "amount": _m(agg.amount), "limit": limit,
            "offset": offset}


async def account_penalties(conn: AsyncConnection, account_id: int) -> dict[str, Any]:
    """The account's penalty balance, kept apart from its main debt: accrued, reversed, paid, by period."""
    by_period = (await conn.execute(text(
        "SELECT to_char(period, 'YYYY-MM') AS period, sum(amount) FILTER (WHERE kind = 'accrual') AS accrued, "
        "coalesce(sum(amount) FILTER (WHERE kind = 'storno'), 0) AS storno, sum(amount) AS amount "
        "FROM penalty_charges WHERE account_id = :a GROUP BY period ORDER BY period"), {"a": account_id})).all()
    paid = (await conn.execute(text(
        "SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE account_id = :a AND kind = 'penalty'"),
        {"a": account_id})).scalar_one()
    charged = sum((Decimal(r.amount) for r in by_period), Decimal(0))
    number = (await conn.execute(text("SELECT number FROM accounts WHERE id = :a"), {"a": account_id})).scalar()
    return {"account_id": account_id, "account_number": number, "charged": _m(charged), "paid": _m(paid),
            "balance": _m(charged - Decimal(paid)),
            "periods": [{"period": r.period, "accrued": _m(r.accrued), "storno": _m(r.storno), "amount": _m(r.amount)}
                        for r in by_period]}


async def storno_penalties(conn: AsyncConnection, *, reason: str, penalty_id: int | None = None,
                           account_id: int | None = None, period: Period | None = None,
                           created_by: int | None = None) -> dict[str, Any]:
    """Reverse accrual rows (one row, or an account's rows of a period, or all its rows) by storno rows in
    the open period, each at most once; the document (penalty_stornos) is audited."""
    if not reason.strip():
        raise Invalid("Укажите причину сторно", field="reason")
    if penalty_id is not None:
        found = (await conn.execute(text("SELECT account_id FROM penalty_charges WHERE id = :id AND kind = 'accrual'"),
                                    {"id": penalty_id})).scalar()
        if found is None:
            raise NotFound("Начисление пени не найдено", field="penalty_id")
        account_id = found
    elif account_id is None:
        raise Invalid("Укажите начисление пени (penalty_id) или лицевой счёт (account_id)", field="account_id")
    elif not (await conn.execute(text("SELECT 1 FROM accounts WHERE id = :a"), {"a": account_id})).first():
        raise NotFound("Лицевой счёт не найден", field="account_id")
    target = await current_open_period(conn)
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/penalties'), 0)"))
    cond, params = "pc.account_id = :a", {"a": account_id, "t": target.first_day}
    if penalty_id is not None:
        cond += " AND pc.id = :id"
        params["id"] = penalty_id
    if period is not None:
        cond += " AND pc.period = :p"
        params["p"] = period.first_day
    todo = (await conn.execute(text(
        f"SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount FROM penalty_charges pc WHERE {cond} "
        "AND pc.kind = 'accrual' AND pc.amount <> 0 AND NOT EXISTS "
        "(SELECT 1 FROM penalty_charges s WHERE s.storno_of = pc.id)"), params)).one()
    if todo.n == 0:
        raise Conflict("Нет начислений пени для сторно (уже сторнированы или не найдены)")
    storno_id = (await conn.execute(text(
        "INSERT INTO penalty_stornos(period, account_id, rows, amount, reason, created_by) "
        "VALUES (:t, :a, :n, :x, :r, :u) RETURNING id"),
        {"t": target.first_day, "a": account_id, "n": todo.n, "x": -Decimal(todo.amount), "r": reason.strip(),
         "u": created_by})).scalar_one()
    await conn.execute(text(
        "INSERT INTO penalty_charges(account_id, service_id, month_of_origin, period, kind, amount, days, debt, "
        "storno_id, storno_of) SELECT pc.account_id, pc.service_id, pc.month_of_origin, :t, 'storno', -pc.amount, "
        f"pc.days, pc.debt, :sid, pc.id FROM penalty_charges pc WHERE {cond} AND pc.kind = 'accrual' "
        "AND pc.amount <> 0 AND NOT EXISTS (SELECT 1 FROM penalty_charges s WHERE s.storno_of = pc.id)"),
        {**params, "sid": storno_id})
    return {"id": storno_id, "period": str(target), "account_id": account_id, "rows": todo.n,
            "amount": str(-Decimal(todo.amount)), "reason": reason.strip()}


# penalty_turnover's figures per account of `{accounts}` (an SQL array): charged before / accrued / storno within,
# paid before / within — for many receipts in one pass (receipts/batch.py); it must agree with penalty_turnover.
PENALTIES_BY_ACCOUNT = """
    WITH pc AS (
        SELECT account_id, coalesce(sum(amount) FILTER (WHERE period < :f), 0) AS opening,
               coalesce(sum(amount) FILTER (WHERE period >= :f AND kind = 'accrual'), 0) AS charged,
               coalesce(sum(amount) FILTER (WHERE period >= :f AND kind = 'storno'), 0) AS storno
        FROM penalty_charges WHERE period < :t AND account_id = ANY({accounts}) GROUP BY 1
    ), pp AS (
        SELECT pa.account_id, coalesce(sum(pa.amount) FILTER (WHERE p.paid_on < :f), 0) AS before,
               coalesce(sum(pa.amount) FILTER (WHERE p.paid_on >= :f), 0) AS within
        FROM payment_allocations pa JOIN payments p ON p.id = pa.payment_id
        WHERE pa.kind = 'penalty' AND p.paid_on < :t AND pa.account_id = ANY({accounts}) GROUP BY 1
    )
    SELECT coalesce(pc.account_id, pp.account_id) AS account_id, coalesce(pc.opening, 0) AS opening,
           coalesce(pc.charged, 0) AS charged, coalesce(pc.storno, 0) AS storno,
           coalesce(pp.before, 0) AS before, coalesce(pp.within, 0) AS within
    FROM pc FULL JOIN pp ON pp.account_id = pc.account_id"""


async def penalty_turnover(conn: AsyncConnection, first: Period, last: Period, *, house_id: int | None = None,
                           account_id: int | None = None) -> dict[str, str]:
    """The penalty section of the turnover statement (kept apart from the main debt), for months
    first..last: closing = opening + charged + storno − paid (paid: allocations of kind 'penalty')."""
    params: dict[str, Any] = {"f": first.first_day, "t": last.next().first_day, "h": house_id, "a": account_id}
    acc = ("SELECT a.id FROM accounts a JOIN premises p ON p.id = a.premise_id "
           "WHERE (CAST(:h AS integer) IS NULL OR p.house_id = :h) AND (CAST(:a AS integer) IS NULL OR a.id = :a)")
    row = (await conn.execute(text(f"""
        SELECT coalesce(sum(amount) FILTER (WHERE period < :f), 0) AS opening,
               coalesce(sum(amount) FILTER (WHERE period >= :f AND kind = 'accrual'), 0) AS charged,
               coalesce(sum(amount) FILTER (WHERE period >= :f AND kind = 'storno'), 0) AS storno
        FROM penalty_charges WHERE period < :t AND account_id IN ({acc})"""), params)).one()
    paid = (await conn.execute(text(f"""
        SELECT coalesce(sum(pa.amount) FILTER (WHERE p.paid_on < :f), 0) AS before,
               coalesce(sum(pa.amount) FILTER (WHERE p.paid_on >= :f), 0) AS within
        FROM payment_allocations pa JOIN payments p ON p.id = pa.payment_id
        WHERE pa.kind = 'penalty' AND p.paid_on < :t AND pa.account_id IN ({acc})"""), params)).one()
    opening = Decimal(row.opening) - Decimal(paid.before)
    closing = opening + Decimal(row.charged) + Decimal(row.storno) - Decimal(paid.within)
    return {"opening": _m(opening), "charged": _m(row.charged), "storno": _m(row.storno),
            "paid": _m(paid.within), "closing": _m(closing)}


async def list_runs(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Penalty runs, newest first."""
    rows = (await conn.execute(text(
        "SELECT id, to_char(period, 'YYYY-MM') AS period, status, job_id, settings, accounts, rows, amount, stats, "
        "created_by, started_at, finished_at FROM penalty_runs ORDER BY id DESC LIMIT :l OFFSET :o"),
        {"l": limit, "o": offset})).all()
    total = (await conn.execute(text("SELECT count(*) FROM penalty_runs"))).scalar_one()
    items = [{**dict(r._mapping), "amount": str(r.amount), "job_id": str(r.job_id) if r.job_id else None}
             for r in rows]
    return items, total


async def last_run_period(conn: AsyncConnection) -> Period | None:
    """The period of the last finished penalty run."""
    last = (await conn.execute(text(
        "SELECT period FROM penalty_runs WHERE status = 'done' ORDER BY id DESC LIMIT 1"))).scalar()
    return Period.of(last) if last else None
