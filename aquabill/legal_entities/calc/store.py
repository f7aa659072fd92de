"""Reading the calculation's results (runs, a month's charges per contract, a contract's lines with their
explanation) and the month's precipitation for stormwater (entered by staff, audited: `stormwater_precipitation` is
in t0033's AUDITED list, the caller's transaction carries the user). Nothing commits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.periods import Period
from aquabill.legal_entities.calc.explain import explain
from aquabill.legal_entities.catalogue import clean

JOB_KIND = "legal.run"
METHODS = {"meter": "По прибору учёта", "average": "По среднесуточному объёму", "capacity": "По пропускной способности",
           "contract": "По договору", "sewage": "Водоотведение по объёму воды", "stormwater": "Поверхностные стоки",
           "sub_deduction": "Вычет субабонента"}
RUN_KINDS = {"month": "Расчёт месяца", "recalc": "Перерасчёт закрытого месяца"}
RUN_STATUSES = {"running": "Выполняется", "done": "Завершён", "failed": "Ошибка"}
MAX_MM = Decimal("2000")  # more than any month's precipitation on record in Russia: a typo


async def active_job(conn: AsyncConnection) -> dict[str, Any] | None:
    """The calculation job queued or running now, if any."""
    row = (await conn.execute(text(
        "SELECT id, status, progress, message, params, created_at FROM jobs WHERE kind = :k "
        "AND status IN ('queued', 'running') ORDER BY created_at DESC LIMIT 1"), {"k": JOB_KIND})).mappings().first()
    return dict(row) if row else None


async def ensure_idle(conn: AsyncConnection) -> None:
    """Refuse (409) a new start while a calculation is queued or running. Two starts at once are serialised by a
    transaction lock: the second sees the first's job once it has committed, and is refused."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/legal-run-start', 0))"))
    busy = await active_job(conn)
    if busy is not None:
        raise Conflict("Расчёт начислений юридическим лицам уже запущен: дождитесь его завершения")


async def record_failure(conn: AsyncConnection, period: date, contract_id: int | None, error: str,
                         user_id: int | None) -> None:
    """A run that failed (its own transaction rolled back) is still listed, with the reason."""
    await conn.execute(text(
        "INSERT INTO legal_runs(period, status, contract_id, error, finished_at, created_by) "
        "VALUES (:p, 'failed', :c, :e, clock_timestamp(), :u)"),
        {"p": Period.of(period).first_day, "c": contract_id, "e": error[:2000], "u": user_id})


async def list_runs(conn: AsyncConnection, *, limit: int = 20, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    rows = (await conn.execute(text(
        "SELECT r.id, r.period, r.kind, r.status, r.contract_id, k.number AS contract_number, r.contracts, r.lines, "
        "r.amount, r.error, r.started_at, r.finished_at, coalesce(u.full_name, u.login) AS started_by "
        "FROM legal_runs r LEFT JOIN contracts k ON k.id = r.contract_id LEFT JOIN users u ON u.id = r.created_by "
        "ORDER BY r.id DESC LIMIT :limit OFFSET :offset"), {"limit": limit, "offset": offset})).mappings().all()
    total = await conn.scalar(text("SELECT count(*) FROM legal_runs"))
    return [{**dict(r), "kind_name": RUN_KINDS.get(r["kind"], r["kind"]),
             "status_name": RUN_STATUSES.get(r["status"], r["status"])} for r in rows], int(total or 0)


async def month_totals(conn: AsyncConnection, period: Period, q: str = "", *, limit: int = 30,
                       offset: int = 0) -> dict[str, Any]:
    """Per contract, the lines posted to the month (charges of the month and recalculations posted to it): number,
    counterparty, volumes by service, amount; searched by contract number, counterparty name or INN."""
    q = clean(q, field="q", what="строка поиска", limit=200)
    where = ("c.posted_period = :p AND (:q = '' OR k.number ILIKE :like OR cp.name ILIKE :like "
             "OR cp.short_name ILIKE :like OR cp.inn LIKE :q)")
    params = {"p": period.first_day, "q": q, "like": f"%{q}%", "limit": limit, "offset": offset}
    base = ("FROM legal_charges c JOIN contracts k ON k.id = c.contract_id "
            "JOIN counterparties cp ON cp.id = k.counterparty_id JOIN services s ON s.id = c.service_id "
            f"WHERE {where}")
    rows = (await conn.execute(text(
        "SELECT k.id, k.number, coalesce(nullif(cp.short_name, ''), cp.name) AS counterparty, cp.inn, "
        "count(*) AS lines, sum(c.volume) FILTER (WHERE s.code = 'cold_water') AS water, "
        "sum(c.volume) FILTER (WHERE s.code = 'sewage') AS sewage, "
        "sum(c.volume) FILTER (WHERE s.code = 'stormwater') AS stormwater, "
        "sum(c.amount) FILTER (WHERE c.kind = 'recalc') AS recalc, sum(c.amount) AS amount "
        f"{base} GROUP BY k.id, k.number, cp.short_name, cp.name, cp.inn ORDER BY upper(k.number) "
        "LIMIT :limit OFFSET :offset"), params)).mappings().all()
    totals = (await conn.execute(text(
        f"SELECT count(DISTINCT k.id) AS contracts, coalesce(sum(c.amount), 0) AS amount {base}"), params)).one()
    return {"period": str(period), "items": [dict(r) for r in rows], "total": int(totals.contracts),
            "amount": totals.amount, "limit": limit, "offset": offset, "q": q}


async def contract_charges(conn: AsyncConnection, contract_id: int, period: Period | None = None) -> dict[str, Any]:
    """The contract's lines posted to the month (the latest month with lines when none is given), each with its
    explanation, and the month's totals by service."""
    contract = (await conn.execute(text("SELECT id, number FROM contracts WHERE id = :id"), {"id": contract_id})).first()
    if contract is None:
        raise NotFound("Договор не найден", field="contract_id")
    months = [r[0] for r in await conn.execute(text(
        "SELECT DISTINCT posted_period FROM legal_charges WHERE contract_id = :c ORDER BY 1 DESC LIMIT 36"),
        {"c": contract_id})]
    chosen = period.first_day if period else (months[0] if months else None)
    rows = [] if chosen is None else (await conn.execute(text(
        "SELECT c.id, c.kind, c.method, c.period, c.posted_period, c.date_from, c.date_to, c.volume, c.tariff_group, "
        "c.price, c.price_includes_vat, c.vat_mode, c.amount, c.details, s.code AS service, s.name AS service_name, "
        "p.name AS point_name, o.name AS object_name "
        "FROM legal_charges c JOIN services s ON s.id = c.service_id LEFT JOIN contract_points p ON p.id = c.point_id "
        "LEFT JOIN contract_objects o ON o.id = c.object_id WHERE c.contract_id = :c AND c.posted_period = :p "
        "ORDER BY c.kind, s.sort, c.point_id NULLS LAST, c.period, c.date_from, c.id"),
        {"c": contract_id, "p": chosen})).mappings().all()
    lines = [{**dict(r), "method_name": METHODS.get(r["method"], r["method"]),
              "explanation": explain(r["method"] if r["kind"] == "charge" else "recalc", r["details"])}
             for r in rows]
    services: dict[str, dict[str, Any]] = {}
    for line in lines:
        s = services.setdefault(line["service"], {"service": line["service"], "name": line["service_name"],
                                                  "volume": Decimal(0), "amount": Decimal(0)})
        s["volume"] += line["volume"]
        s["amount"] += line["amount"]
    return {"contract_id": contract.id, "number": contract.number,
            "period": str(Period.of(chosen)) if chosen else None, "months": [str(Period.of(m)) for m in months],
            "lines": lines, "services": list(services.values()),
            "amount": sum((line["amount"] for line in lines), Decimal(0))}


async def list_precipitation(conn: AsyncConnection, *, limit: int = 24) -> list[dict[str, Any]]:
    return [dict(r) for r in (await conn.execute(text(
        "SELECT pr.month, pr.mm, pr.source, pr.created_at, coalesce(u.full_name, u.login) AS entered_by "
        "FROM stormwater_precipitation pr LEFT JOIN users u ON u.id = pr.created_by ORDER BY pr.month DESC "
        "LIMIT :limit"), {"limit": limit})).mappings()]


def parse_mm(value: object) -> Decimal:
    try:
        mm = Decimal(str(value).strip().replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError):
        raise Invalid(f"Осадки «{value}»: укажите число миллиметров, например 42,4", field="mm") from None
    if not mm.is_finite() or mm < 0 or mm > MAX_MM or mm != mm.quantize(Decimal("0.01")):
        raise Invalid(f"Осадки: от 0 до {MAX_MM} мм, не более двух знаков после запятой", field="mm")
    return mm


async def set_precipitation(conn: AsyncConnection, month: date, mm: object, source: object = "", *,
                            user_id: int | None = None) -> dict[str, Any]:
    """The month's precipitation (mm), entered or corrected. A month already billed keeps its lines until it is
    calculated again (a closed month: recalculated into the open one)."""
    value = parse_mm(mm)
    src = clean(source, field="source", what="источник данных", limit=300)
    first = Period.of(month).first_day
    row = (await conn.execute(text(
        "INSERT INTO stormwater_precipitation(month, mm, source, created_by) VALUES (:m, :mm, :s, :u) "
        "ON CONFLICT (month) DO UPDATE SET mm = EXCLUDED.mm, source = EXCLUDED.source, created_by = EXCLUDED.created_by "
        "RETURNING month, mm, source"), {"m": first, "mm": value, "s": src, "u": user_id})).mappings().one()
    return dict(row)
