"""Installment agreements: an account's debt is moved into an agreement and charged back in monthly
instalments on later receipts.

- The debt is split into N instalments cut down to kopecks, the residual in the last one
  (1000.00 over 3 → 333.33, 333.33, 333.34).
- Signing posts, in the period of the signing date (which must not be closed), a row method
  'installment' of −debt (source ('agreement', id)); the schedule starts there or later.
- Each instalment is a row method 'installment' of +amount in its period (source ('schedule', row id)),
  posted by the billing run of that period for the accounts in its scope (`post_due_instalments`), or at
  once when its period is already open. Posting is idempotent: an instalment is posted at most once
  (unique index), so re-runs never duplicate it.
- Cancelling drops the instalments not posted yet and returns the rest of the debt (debt − posted
  instalments) as one 'installment' row in the current open period.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.adjustments.periods import ACTING_USER
from aquabill.billing_core.money import KOPECK, money
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import current_open_period, ensure_open, open_for_posting
from aquabill.billing_core.reference.services import get_service
from aquabill.billing_core.registry.queries import require_account

MAX_MONTHS = 120
MAX_DEBT = Decimal("1000000000")
MAX_NOTE = 500
STATUSES = ("active", "cancelled")


def split_debt(debt: Decimal, months: int) -> list[Decimal]:
    """Equal instalments cut down to kopecks, the residual in the last one; they sum to the debt exactly."""
    each = (debt / months).quantize(KOPECK, rounding=ROUND_DOWN)
    return [each] * (months - 1) + [debt - each * (months - 1)]


def schedule_periods(first: Period, months: int) -> list[Period]:
    periods = [first]
    for _ in range(months - 1):
        periods.append(periods[-1].next())
    return periods


def check_agreement(*, number: str, debt: Decimal, months: int, signed_on: date, first_period: Period,
                    note: str) -> None:
    """The terms are well-formed (pure)."""
    if not number or len(number) > 32:
        raise Invalid("Номер соглашения: от 1 до 32 знаков", field="number")
    if not debt.is_finite() or debt != money(debt):
        raise Invalid("Сумма долга указывается в рублях с точностью до копейки", field="debt")
    if not Decimal(0) < debt < MAX_DEBT:
        raise Invalid("Сумма долга должна быть больше нуля и меньше 1 000 000 000 ₽", field="debt")
    if not 1 <= months <= MAX_MONTHS:
        raise Invalid(f"Срок рассрочки: от 1 до {MAX_MONTHS} месяцев", field="months")
    if debt < KOPECK * months:
        raise Invalid("Ежемесячный платёж получается меньше копейки: уменьшите срок", field="months")
    if first_period < Period.of(signed_on):
        raise Invalid(f"Первый платёж ({first_period}) не может быть раньше месяца подписания "
                           f"({Period.of(signed_on)})", field="first_period")
    if len(note) > MAX_NOTE:
        raise Invalid(f"Примечание: не более {MAX_NOTE} знаков", field="note")


_POST = """
    INSERT INTO charges(account_id, service_id, period, method, amount, run_id, note, source, source_id)
    SELECT a.account_id, a.service_id, s.period, 'installment', s.amount, :run,
           'Рассрочка по соглашению № ' || a.number || ': платёж ' || s.seq || ' из ' || a.months, 'schedule', s.id
    FROM installment_schedule s JOIN installment_agreements a ON a.id = s.agreement_id {join}
    WHERE a.status = 'active' AND {cond}
    ORDER BY a.account_id, s.id
    ON CONFLICT DO NOTHING"""


async def post_due_instalments(conn: AsyncConnection, period: date, run_id: int | None = None) -> int:
    """The billing run's hook: post the instalments of `period` of the accounts in the run's scope (temp
    table run_acc); already posted ones are skipped. Returns the number of rows posted."""
    res = await conn.execute(text(_POST.format(join="JOIN run_acc r ON r.account_id = a.account_id",
                                               cond="s.period = :p")), {"p": period, "run": run_id})
    return res.rowcount


async def _default_service(conn: AsyncConnection) -> int:
    found = (await conn.execute(text("SELECT id FROM services WHERE active ORDER BY sort, id LIMIT 1"))).scalar()
    if found is None:
        raise Invalid("Нет ни одной действующей услуги: укажите услугу", field="service_id")
    return found


async def create_agreement(conn: AsyncConnection, *, account_id: int, number: str, signed_on: date, debt: Decimal,
                           months: int, first_period: Period, service_id: int | None = None,
                           note: str = "") -> dict[str, Any]:
    """Sign an agreement: the schedule, the −debt row in the signing month, instalments of open periods."""
    number, note = (number or "").strip(), (note or "").strip()
    check_agreement(number=number, debt=debt, months=months, signed_on=signed_on, first_period=first_period,
                    note=note)
    await require_account(conn, account_id)
    if service_id is None:
        service_id = await _default_service(conn)
    else:
        await get_service(conn, service_id)
    period = Period.of(signed_on)
    periods = schedule_periods(first_period, months)
    what = f"соглашение о рассрочке ({period} — {periods[-1]})"
    await ensure_open(conn, period.first_day, until=periods[-1].first_day, what=what, field="signed_on")
    await open_for_posting(conn, period, what=what, field="signed_on")
    if (await conn.execute(text("SELECT 1 FROM installment_agreements WHERE number = :n"), {"n": number})).first():
        raise Conflict(f"Соглашение № {number} уже есть", field="number")
    agreement_id = (await conn.execute(text(f"""
        INSERT INTO installment_agreements(account_id, service_id, number, signed_on, period, debt, months,
                                           first_period, note, created_by)
        VALUES (:a, :s, :n, :d, :p, :debt, :m, :f, :note, {ACTING_USER}) RETURNING id"""),
        {"a": account_id, "s": service_id, "n": number, "d": signed_on, "p": period.first_day, "debt": debt,
         "m": months, "f": first_period.first_day, "note": note})).scalar_one()
    await conn.execute(text("""
        INSERT INTO installment_schedule(agreement_id, seq, period, amount)
        SELECT :id, n, p, a FROM unnest(CAST(:ps AS date[]), CAST(:amounts AS numeric[])) WITH ORDINALITY AS x(p, a, n)
        ORDER BY n"""),
        {"id": agreement_id, "ps": [p.first_day for p in periods], "amounts": split_debt(debt, months)})
    await conn.execute(text("""
        INSERT INTO charges(account_id, service_id, period, method, amount, note, source, source_id)
        VALUES (:a, :s, :p, 'installment', :amount, :note, 'agreement', :id)"""),
        {"a": account_id, "s": service_id, "p": period.first_day, "amount": -debt, "id": agreement_id,
         "note": f"Долг перенесён в рассрочку по соглашению № {number} от {signed_on:%d.%m.%Y}"})
    await conn.execute(text(_POST.format(
        join="", cond="a.id = :id AND s.period IN (SELECT period FROM periods WHERE status = 'open')")),
        {"id": agreement_id, "run": None})
    return await get_agreement(conn, agreement_id)


_COLS = """g.id, g.account_id, ac.number AS account_number, g.service_id, sv.code AS service, g.number, g.signed_on,
           to_char(g.period, 'YYYY-MM') AS period, g.debt, g.months, to_char(g.first_period, 'YYYY-MM') AS first_period,
           g.status, g.cancelled_on, to_char(g.cancel_period, 'YYYY-MM') AS cancel_period, g.note, g.created_by,
           g.created_at,
           coalesce((SELECT sum(s.amount) FROM installment_schedule s
                     WHERE s.agreement_id = g.id AND EXISTS (SELECT 1 FROM charges c WHERE c.source = 'schedule'
                                                             AND c.source_id = s.id)), 0) AS posted"""
_FROM = "installment_agreements g JOIN accounts ac ON ac.id = g.account_id JOIN services sv ON sv.id = g.service_id"


def _agreement(row) -> dict[str, Any]:
    item = dict(row._mapping)
    item["remaining"] = item["debt"] - item["posted"] if item["status"] == "active" else Decimal("0.00")
    return item


async def list_agreements(conn: AsyncConnection, *, account_id: int | None = None, status: str | None = None,
                          limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    if status is not None and status not in STATUSES:
        raise Invalid("Состояние соглашения: active или cancelled", field="status")
    where, params = ["true"], {"l": limit, "o": offset, "a": account_id, "st": status}
    if account_id is not None:
        where.append("g.account_id = :a")
    if status is not None:
        where.append("g.status = :st")
    cond = " AND ".join(where)
    used = {k: v for k, v in params.items() if f":{k}" in cond}
    rows = await conn.execute(text(f"SELECT {_COLS} FROM {_FROM} WHERE {cond} ORDER BY g.id DESC "
                                   "LIMIT :l OFFSET :o"), {**used, "l": limit, "o": offset})
    total = (await conn.execute(text(f"SELECT count(*) FROM installment_agreements g WHERE {cond}"), used)).scalar_one()
    return [_agreement(r) for r in rows], total


async def get_agreement(conn: AsyncConnection, agreement_id: int) -> dict[str, Any]:
    """The agreement with its schedule (each instalment with the charge row that posted it, if any) and
    the agreement's own rows (the debt moved in, the rest returned on cancel)."""
    row = (await conn.execute(text(f"SELECT {_COLS} FROM {_FROM} WHERE g.id = :id"), {"id": agreement_id})).first()
    if row is None:
        raise NotFound("Соглашение о рассрочке не найдено", field="installment_agreement_id")
    schedule = await conn.execute(text("""
        SELECT s.seq AS n, to_char(s.period, 'YYYY-MM') AS period, s.amount, c.id AS charge_id, c.id IS NOT NULL AS posted
        FROM installment_schedule s LEFT JOIN charges c ON c.source = 'schedule' AND c.source_id = s.id
        WHERE s.agreement_id = :id ORDER BY s.seq"""), {"id": agreement_id})
    charges = await conn.execute(text("""
        SELECT id, to_char(period, 'YYYY-MM') AS period, amount, note FROM charges
        WHERE source = 'agreement' AND source_id = :id ORDER BY id"""), {"id": agreement_id})
    return {**_agreement(row), "schedule": [dict(r._mapping) for r in schedule],
            "charges": [dict(r._mapping) for r in charges]}


async def cancel_agreement(conn: AsyncConnection, agreement_id: int, *, cancelled_on: date,
                           note: str = "") -> dict[str, Any]:
    """Drop the instalments not posted yet and return the rest of the debt in the current open period."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"Примечание: не более {MAX_NOTE} знаков", field="note")
    row = (await conn.execute(text(
        "SELECT id, number, account_id, service_id, status, signed_on, debt FROM installment_agreements "
        "WHERE id = :id FOR UPDATE"), {"id": agreement_id})).first()
    if row is None:
        raise NotFound("Соглашение о рассрочке не найдено", field="installment_agreement_id")
    if row.status != "active":
        raise Conflict(f"Соглашение № {row.number} уже расторгнуто", field="installment_agreement_id")
    if cancelled_on < row.signed_on:
        raise Invalid(f"Дата расторжения раньше даты подписания ({row.signed_on:%d.%m.%Y})",
                           field="cancelled_on")
    target = await current_open_period(conn)
    posted = (await conn.execute(text(
        "SELECT coalesce(sum(s.amount), 0) FROM installment_schedule s WHERE s.agreement_id = :id "
        "AND EXISTS (SELECT 1 FROM charges c WHERE c.source = 'schedule' AND c.source_id = s.id)"),
        {"id": agreement_id})).scalar_one()
    rest = row.debt - posted
    if rest <= 0:
        raise Conflict(f"Все платежи по соглашению № {row.number} уже выставлены: расторгать нечего",
                            field="installment_agreement_id")
    await conn.execute(text(
        "DELETE FROM installment_schedule s WHERE s.agreement_id = :id "
        "AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.source = 'schedule' AND c.source_id = s.id)"),
        {"id": agreement_id})
    await conn.execute(text("""
        INSERT INTO charges(account_id, service_id, period, method, amount, note, source, source_id)
        VALUES (:a, :s, :p, 'installment', :amount, :note, 'agreement', :id)"""),
        {"a": row.account_id, "s": row.service_id, "p": target.first_day, "amount": rest, "id": agreement_id,
         "note": f"Расторжение соглашения № {row.number} от {cancelled_on:%d.%m.%Y}: остаток долга возвращён"
                 + (f" ({note})" if note else "")})
    await conn.execute(text(
        "UPDATE installment_agreements SET status = 'cancelled', cancelled_on = :d, cancel_period = :p "
        "WHERE id = :id"), {"id": agreement_id, "d": cancelled_on, "p": target.first_day})
    return await get_agreement(conn, agreement_id)
