"""Storno: a charge row is reversed by a new row, never by changing it.

The new row (method 'storno', source ('storno', original id)) has the negated amount and volume, the
original's service, tariff and coefficient, and `corrects_period` = the original's period. It goes into
the original's period while that period is open, otherwise into the current (earliest) open period.

Refused: a row already reversed (also enforced by a unique index, so concurrent requests cannot both
succeed), a storno row itself, instalment rows (cancel the agreement instead), and rows the billing run
replaces (computed and recalculation rows) while their period is still open — the run recomputes those
from the data; they are reversed once the period is closed.

What is reversed: one row (`charge_id`), every row of an account in a period (optionally of one service),
or every row of a one-off charge document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import current_open_period
from aquabill.billing_core.registry.queries import require_account
from aquabill.billing_core.run.posting import COMPUTED

REPLACED_BY_RUN = (*COMPUTED, "recalculation")
NOT_REVERSIBLE = ("storno", "installment")
MAX_NOTE = 500

_CANDIDATES = """
    SELECT c.id, c.period, c.method, st.id AS storno_id
    FROM charges c LEFT JOIN charges st ON st.source = 'storno' AND st.source_id = c.id
    WHERE {cond} ORDER BY c.id"""


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    period: date
    method: str
    storno_id: int | None
    period_status: str


async def _candidates(conn: AsyncConnection, cond: str, params: dict[str, Any]) -> list[_Row]:
    rows = (await conn.execute(text(_CANDIDATES.format(cond=cond)), params)).all()
    # the periods involved are locked FOR SHARE: none can be closed while the storno is written
    status = dict((await conn.execute(text(
        "SELECT period, status FROM periods WHERE period = ANY(CAST(:ps AS date[])) ORDER BY period FOR SHARE"),
        {"ps": sorted({r.period for r in rows})})).all())
    return [_Row(r.id, r.period, r.method, r.storno_id, status.get(r.period, "open")) for r in rows]


def _check_one(row: _Row) -> None:
    if row.method == "storno":
        raise Invalid(f"Строка № {row.id} сама является сторно и не сторнируется", field="charge_id")
    if row.method == "installment":
        raise Invalid("Строки рассрочки не сторнируются: расторгните соглашение о рассрочке",
                           field="charge_id")
    if row.storno_id is not None:
        raise Conflict(f"Начисление № {row.id} уже сторнировано (строка сторно № {row.storno_id})",
                            field="charge_id")


def _check_open_period(rows: list[_Row]) -> None:
    computed = [r for r in rows if r.period_status == "open" and r.method in REPLACED_BY_RUN]
    if computed:
        p = Period.of(computed[0].period)
        raise Conflict(
            f"Период {p} открыт: начисления расчёта в нём не сторнируются — они пересчитываются при каждом "
            "расчёте. Исправьте данные и пересчитайте период (или сторнируйте после закрытия периода)",
            field="charge_id")


async def storno(conn: AsyncConnection, *, charge_id: int | None = None, account_id: int | None = None,
                 period: Period | None = None, service_id: int | None = None, one_off_id: int | None = None,
                 note: str = "") -> dict[str, Any]:
    """Reverse the selected rows; returns the storno rows and their sum."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"Примечание: не более {MAX_NOTE} знаков", field="note")
    selectors = sum(x is not None for x in (charge_id, account_id, one_off_id))
    if selectors != 1:
        raise Invalid("Укажите, что сторнировать: строку начисления (charge_id), лицевой счёт и период "
                           "(account_id, period) или разовое начисление (one_off_id)", field="charge_id")
    if charge_id is not None:
        rows = await _candidates(conn, "c.id = :id", {"id": charge_id})
        if not rows:
            raise NotFound("Начисление не найдено", field="charge_id")
        _check_one(rows[0])
    else:
        if account_id is not None:
            if period is None:
                raise Invalid("Укажите период, начисления которого сторнируются", field="period")
            await require_account(conn, account_id)
            cond = "c.account_id = :a AND c.period = :p" + (" AND c.service_id = :s" if service_id is not None else "")
            what = f"лицевого счёта за {period}"
            params: dict[str, Any] = {"a": account_id, "p": period.first_day, "s": service_id}
        else:
            found = (await conn.execute(text("SELECT 1 FROM one_off_charges WHERE id = :id"),
                                        {"id": one_off_id})).first()
            if found is None:
                raise NotFound("Разовое начисление не найдено", field="one_off_id")
            cond, params, what = "c.source = 'one_off' AND c.source_id = :d", {"d": one_off_id}, "документа"
        every = await _candidates(conn, cond, {k: v for k, v in params.items() if f":{k}" in cond})
        rows = [r for r in every if r.method not in NOT_REVERSIBLE and r.storno_id is None]
        if not rows:
            if any(r.storno_id is not None for r in every):
                raise Conflict(f"Начисления {what} уже сторнированы", field="charge_id")
            raise NotFound(f"Нет начислений {what}, которые можно сторнировать", field="charge_id")
    _check_open_period(rows)
    closed = [r.id for r in rows if r.period_status == "closed"]
    target = await current_open_period(conn) if closed else None
    ids = [r.id for r in rows]
    posted = (await conn.execute(text("""
        INSERT INTO charges(account_id, service_id, period, method, volume, tariff, coefficient, amount, days,
                            corrects_period, note, source, source_id)
        SELECT c.account_id, c.service_id, CASE WHEN c.id = ANY(CAST(:closed AS bigint[])) THEN :target
                                                ELSE c.period END,
               'storno', -c.volume, c.tariff, c.coefficient, -c.amount, 0, c.period,
               'Сторно начисления № ' || c.id || ' за ' || to_char(c.period, 'MM.YYYY')
                 || CASE WHEN :note = '' THEN '' ELSE ': ' || :note END,
               'storno', c.id
        FROM charges c WHERE c.id = ANY(CAST(:ids AS bigint[])) ORDER BY c.id
        ON CONFLICT DO NOTHING
        RETURNING id, account_id, service_id, to_char(period, 'YYYY-MM') AS period, method, volume, amount,
                  to_char(corrects_period, 'YYYY-MM') AS corrects_period, source_id AS storno_of, note"""),
        {"closed": closed, "target": target.first_day if target else None, "note": note, "ids": ids})).all()
    if len(posted) != len(ids):  # another request reversed some of them meanwhile
        raise Conflict("Часть начислений уже сторнирована другим пользователем: обновите данные и повторите",
                            field="charge_id")
    items = sorted((dict(r._mapping) for r in posted), key=lambda r: r["storno_of"])
    return {"rows": items, "count": len(items), "amount": sum((r["amount"] for r in items), start=0)}
