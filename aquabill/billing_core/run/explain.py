"""Every charge explains itself: for an account's month, one plain-Russian explanation per charge line, built
from what the run kept with the line (t0025: the reading interval, the average, persons × norm, the meter's
failure day, the day segments; the house's common-property figures; a recalculation's reason and the recomputed
lines) and the reference data it names (meters, the coefficients' decrees). Older lines, written before the run
kept its inputs, are explained from their method, volume, tariff and coefficient alone.

`explain_charges` serves the staff account card, the portal and the bots; `explain_summary` is the short answer
to "why is my bill like this" that an operator reads out or a bot sends (≤ 3,500 characters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run import explain_answer, explain_text
from aquabill.billing_core.run.explain_facts import (
    COMPUTED,
    Coefficient,
    CommonFigures,
    Facts,
    Meter,
    Row,
    row_of,
)

ADJUSTMENTS = {"one_off": "разовое начисление", "storno": "сторно (отмена ранее начисленного)",
               "installment": "платёж по рассрочке"}

_ROWS = """
    SELECT c.*, s.code AS service_code, s.name AS service_name, s.kind AS service_kind
    FROM charges c JOIN services s ON s.id = c.service_id
    WHERE c.account_id = :a AND c.period = :p
    ORDER BY s.sort, s.id, c.corrects_period NULLS FIRST, c.method, c.id"""
# what a recalculation row corrects: the month's computed rows and the recalculations posted before it
_BEFORE = """
    SELECT c.service_id, coalesce(c.corrects_period, c.period) AS month, sum(c.amount) AS amount,
           bool_or(c.method = 'average') AS had_average
    FROM charges c
    WHERE c.account_id = :a AND ((c.period = ANY(:months) AND c.corrects_period IS NULL AND c.method = ANY(:computed))
          OR (c.corrects_period = ANY(:months) AND c.method = 'recalculation' AND c.period < :p))
    GROUP BY 1, 2"""


@dataclass
class ChargeExplanation:
    """One charge line of the month and how it was computed."""

    charge_id: int
    service_code: str
    service_name: str
    method: str
    amount: Decimal
    volume: Decimal
    corrects_period: str | None
    lines: list[str] = field(default_factory=list)
    tariff: Decimal = Decimal(0)
    coefficient: Decimal = Decimal(1)

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {"charge_id": self.charge_id, "service_code": self.service_code, "service_name": self.service_name,
                "method": self.method, "amount": self.amount, "volume": self.volume,
                "corrects_period": self.corrects_period, "tariff": self.tariff, "coefficient": self.coefficient,
                "lines": self.lines, "text": self.text}


async def _services(conn: AsyncConnection) -> dict[int, dict[str, Any]]:
    rows = await conn.execute(text("SELECT id, code, name, kind FROM services"))
    return {r.id: dict(r._mapping) for r in rows}


def _meter_ids(values: dict[str, Any]) -> set[int]:
    ids = {values["meter_id"]} if values.get("meter_id") else set()
    inputs = values.get("inputs") or {}
    for s in [*(inputs.get("segments") or []), *(values.get("segments") or [])]:
        if s.get("meter_id"):
            ids.add(int(s["meter_id"]))
    for line in inputs.get("lines") or []:
        ids |= _meter_ids(line)
    return ids


async def _facts(conn: AsyncConnection, account_id: int, raw: list[dict[str, Any]]) -> Facts:
    meter_ids = set().union(*(_meter_ids(v) for v in raw)) if raw else set()
    facts = Facts()
    if meter_ids:
        rows = await conn.execute(text(
            "SELECT id, serial, installed_on, failed_on, verified_until, digits, reversible FROM meters "
            "WHERE id = ANY(CAST(:ids AS int[]))"), {"ids": sorted(meter_ids)})
        facts.meters = {r.id: Meter(**r._mapping) for r in rows}
    facts.coefficients = [Coefficient(**r._mapping) for r in await conn.execute(text(
        "SELECT service_kind, value, valid_from, source, basis FROM coefficients ORDER BY valid_from"))]
    cfg = {k: v for k, v in await conn.execute(text(
        "SELECT key, value FROM billing_settings WHERE key IN ('average_max_periods', 'average_min_months')"))}
    facts.avg_periods = int(cfg.get("average_max_periods", 3))
    facts.avg_min_months = int(cfg.get("average_min_months", 3))
    runs = sorted({v["run_id"] for v in raw if v.get("run_id") and (
        v["method"] == "common" or any(x.get("method") == "common" for x in (v.get("inputs") or {}).get("lines") or []))})
    if runs:
        rows = await conn.execute(text(
            "SELECT v.run_id, v.period, v.building_volume, v.individual_volume, v.norm, v.common_area, v.capped, "
            "v.volume, v.total_area FROM common_property_volumes v "
            "WHERE v.run_id = ANY(CAST(:runs AS int[])) AND v.house_id = (SELECT p.house_id FROM accounts a "
            "JOIN premises p ON p.id = a.premise_id WHERE a.id = :a)"), {"runs": runs, "a": account_id})
        for r in rows:
            m = dict(r._mapping)
            key = (m.pop("run_id"), m.pop("period"))
            facts.common[key] = CommonFigures(**m)
    return facts


async def _load(conn: AsyncConnection, account_id: int, period: Period) -> tuple[list[dict[str, Any]], Facts]:
    raw = [dict(r._mapping) for r in await conn.execute(text(_ROWS), {"a": account_id, "p": period.first_day})]
    return raw, await _facts(conn, account_id, raw)


def _explain_rows(rows: list[Row], facts: Facts) -> list[list[str]]:
    """The explanation of each computed row, given its month's rows (sewage reads the water's)."""
    out = []
    for row in rows:
        if row.method == "common":
            out.append(explain_text.common(row, facts))
        elif row.service_kind == "sewage":
            out.append(explain_text.sewage(row, facts, rows))
        else:
            out.append(explain_text.water(row, facts))
    return out


async def explain_charges(conn: AsyncConnection, account_id: int, period: Period) -> list[ChargeExplanation]:
    """One explanation per charge line of the account's month (none when the month has no charges)."""
    raw, facts = await _load(conn, account_id, period)
    services = await _services(conn)
    rows = [row_of(v, period=period, service=services[v["service_id"]]) for v in raw]
    computed = [r for r in rows if r.method in COMPUTED]
    explained = dict(zip((r.id for r in computed), _explain_rows(computed, facts), strict=True))
    recalcs = [(v, r) for v, r in zip(raw, rows, strict=True) if r.method == "recalculation"]
    before: dict[tuple[int, Any], Any] = {}
    if recalcs:
        months = sorted({v["corrects_period"] for v, _ in recalcs})
        for b in await conn.execute(text(_BEFORE), {"a": account_id, "months": months, "p": period.first_day,
                                                    "computed": list(COMPUTED)}):
            before[(b.service_id, b.month)] = b
    by_month: dict[Any, list[tuple[int, Row]]] = {}  # corrected month → (recalculation row id, recomputed line)
    for v, row in recalcs:
        for x in (row.inputs or {}).get("lines") or []:
            by_month.setdefault(v["corrects_period"], []).append(
                (row.id, row_of(x, period=row.corrects_period or period, service=services[v["service_id"]])))
    recomputed: dict[int, list[list[str]]] = {}
    for pairs in by_month.values():  # (the recomputed sewage reads the recomputed water of the same month)
        for (row_id, _), lines in zip(pairs, _explain_rows([r for _, r in pairs], facts), strict=True):
            recomputed.setdefault(row_id, []).append(lines)
    for v, row in recalcs:
        b = before.get((v["service_id"], v["corrects_period"]))
        explained[row.id] = explain_text.recalculation(
            row, Decimal(b.amount) if b else Decimal(0), recomputed.get(row.id, []), bool(b and b.had_average))
    out = []
    for row in rows:
        lines = explained.get(row.id) or explain_text.adjustment(row, ADJUSTMENTS.get(row.method, row.method))
        out.append(ChargeExplanation(
            charge_id=row.id, service_code=row.service_code, service_name=row.service_name, method=row.method,
            amount=row.amount, volume=row.volume,
            corrects_period=str(row.corrects_period) if row.corrects_period else None, lines=lines,
            tariff=row.tariff, coefficient=row.coefficient))
    return out


async def charged_months(conn: AsyncConnection, account_id: int, limit: int = 36) -> list[str]:
    """The account's months with charges, newest first (`YYYY-MM`)."""
    rows = await conn.execute(text(
        "SELECT DISTINCT period FROM charges WHERE account_id = :a ORDER BY period DESC LIMIT :n"),
        {"a": account_id, "n": limit})
    return [str(Period.of(r.period)) for r in rows]


async def explain_summary(conn: AsyncConnection, account_id: int, period: Period) -> str:
    """A short plain-Russian answer to "why is my bill like this" for the month (≤ 3,500 characters): the total
    against the previous month, and for each service what it was charged by and what changed."""
    return await _summary(conn, account_id, period, await explain_charges(conn, account_id, period))


async def _summary(conn: AsyncConnection, account_id: int, period: Period, now: list[ChargeExplanation]) -> str:
    number = (await conn.execute(text("SELECT number FROM accounts WHERE id = :a"), {"a": account_id})).scalar()
    prev_rows = [dict(r._mapping) for r in await conn.execute(text(
        "SELECT s.code AS service_code, c.method, c.volume, c.tariff, c.amount, c.corrects_period "
        "FROM charges c JOIN services s ON s.id = c.service_id WHERE c.account_id = :a AND c.period = :p"),
        {"a": account_id, "p": period.prev().first_day})]
    tariff_dates = {(r.code, r.price): (r.valid_from, r.basis) for r in await conn.execute(text(
        "SELECT DISTINCT ON (s.code, t.price) s.code, t.price, t.valid_from, t.basis FROM tariffs t "
        "JOIN services s ON s.id = t.service_id WHERE t.valid_from <= :d "
        "ORDER BY s.code, t.price, t.valid_from DESC, t.basis DESC"), {"d": period.last_day})}
    return explain_answer.summary(number or "", period, now, prev_rows, tariff_dates)


async def explain_month(conn: AsyncConnection, account_id: int, period: Period | None = None) -> dict[str, Any]:
    """What the card, the portal and the API show: the account's charged months, the month asked for (or the
    latest), each line's explanation and the short answer."""
    number = (await conn.execute(text("SELECT number FROM accounts WHERE id = :a"), {"a": account_id})).scalar()
    months = await charged_months(conn, account_id)
    month = period or (Period.parse(months[0]) if months else None)
    found = {"account_id": account_id, "number": number, "period": str(month) if month else None,
             "months": months, "items": [], "summary": ""}
    if month is not None:
        found["items"] = await explain_charges(conn, account_id, month)
        found["summary"] = await _summary(conn, account_id, month, found["items"]) if found["items"] else ""
    return found
