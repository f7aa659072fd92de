"""The account card: address, parameters with history, residents, absences, meters with their latest
readings, recent readings and charges by month.

The card is read with ONE statement: the account row with every section beside it as an array of rows
(`ARRAY(SELECT t FROM (<the section's query>) t)`). Each section's query is the one its own module runs
(meters, readings, residents, absences), and its rows go through that module's row function, so the card
says exactly what the separate lists say; each array keeps its query's ORDER BY (the outer select is a
plain scan of the ordered subquery). Anonymous rows reach Python as plain tuples with their values
already typed (Decimal, date, …) but without column names: the names of each section are read once per
process from a `LIMIT 0` of its query and kept (`_columns`).
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import literal_column, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.metering import meters, reading_entry
from aquabill.billing_core.money import money
from aquabill.billing_core.periods import Period
from aquabill.billing_core.registry import absences, queries, residents
from aquabill.billing_core.registry.account_parameters import current_values, with_value
from aquabill.billing_core.registry.tables import accounts

CHARGE_METHODS = {
    "meter": "по прибору учёта", "norm": "по нормативу", "average": "по среднему",
    "substitute": "замещающий объём", "common": "на общее имущество", "one_off": "разовое начисление",
    "recalculation": "перерасчёт", "storno": "сторно", "installment": "рассрочка",
}
METERS_SHOWN = 500  # an account has a handful; the bound only keeps a broken import from flooding the page

_CHARGES = """
    SELECT c.id, c.period, c.service_id, s.name AS service_name, c.method, c.volume, c.tariff, c.coefficient,
           c.amount, c.days, c.corrects_period, c.note
    FROM charges c JOIN services s ON s.id = c.service_id
    WHERE c.account_id = :a AND c.period IN (
      SELECT DISTINCT period FROM charges WHERE account_id = :a ORDER BY period DESC LIMIT :n)
    ORDER BY c.period DESC, s.sort, s.id, c.id"""

# section → its query (parameters: `parameters.history`; the others: their module's list query)
_SECTIONS = {
    "parameters": "SELECT p.id, p.kind, k.name, p.value_num, p.value_text, p.valid_from, p.valid_to "
                  "FROM account_parameters p JOIN parameter_kinds k ON k.code = p.kind "
                  "WHERE p.account_id = :a ORDER BY p.kind, p.valid_from",
    "residents": f"SELECT {residents.COLUMNS} FROM residents WHERE account_id = :a ORDER BY registered_from, id",
    "absences": f"SELECT {absences.COLUMNS} FROM absences WHERE account_id = :a ORDER BY date_from DESC, id DESC",
    "meters": f"{meters.SELECT_SQL} WHERE m.account_id = :a ORDER BY m.serial, m.installed_on, m.id LIMIT :meters",
    "readings": f"{reading_entry.SELECT_SQL} WHERE m.account_id = :a ORDER BY r.read_on DESC, r.id DESC LIMIT :readings",
    "charges": _CHARGES,
    "penalties": "SELECT to_char(period, 'YYYY-MM') AS period, sum(amount) FILTER (WHERE kind = 'accrual') AS accrued, "
                 "coalesce(sum(amount) FILTER (WHERE kind = 'storno'), 0) AS storno, sum(amount) AS amount "
                 "FROM penalty_charges WHERE account_id = :a GROUP BY period ORDER BY period",
}
_ACCOUNT = str(select(*queries.ACCOUNT_COLUMNS).select_from(queries.ACCOUNT_FROM).where(accounts.c.id == literal_column(":a"))
               .compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
_CARD = text(
    "SELECT acc.*, "
    + "".join(f"ARRAY(SELECT t FROM ({sql}) t) AS section_{name}, " for name, sql in _SECTIONS.items())
    + "(SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter_id WHERE m.account_id = :a) AS readings_total, "
      "(SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE account_id = :a AND kind = 'penalty') "
      "AS penalties_paid "
      f"FROM ({_ACCOUNT}) acc")

_ROW_TYPES: dict[str, type] = {}  # section → a named tuple of its columns (read once per process)


async def _columns(conn: AsyncConnection, params: dict[str, Any]) -> dict[str, type]:
    if len(_ROW_TYPES) < len(_SECTIONS):
        for name, sql in _SECTIONS.items():
            result = await conn.execute(text(f"SELECT * FROM ({sql}) t LIMIT 0"), params)
            _ROW_TYPES[name] = namedtuple(f"{name.title()}Row", result.keys())
    return _ROW_TYPES


def group_charges(rows: Iterable) -> list[dict[str, Any]]:
    """Charge rows (newest period first) as months, each with its lines and total."""
    grouped: OrderedDict[date, dict[str, Any]] = OrderedDict()
    for r in rows:
        month = grouped.setdefault(r.period, {"period": str(Period.of(r.period)), "total": Decimal("0.00"),
                                              "lines": []})
        month["total"] += r.amount
        month["lines"].append({
            "id": r.id, "service_id": r.service_id, "service_name": r.service_name, "method": r.method,
            "method_name": CHARGE_METHODS.get(r.method, r.method), "volume": r.volume, "tariff": r.tariff,
            "coefficient": r.coefficient, "amount": r.amount, "days": r.days,
            "corrects_period": str(Period.of(r.corrects_period)) if r.corrects_period else None, "note": r.note})
    return list(grouped.values())


def penalty_balance(account_id: int, number: str, by_period: list, paid: Decimal) -> dict[str, Any]:
    """The account's penalty balance, apart from its main debt (as `penalties.account_penalties` shows it)."""
    charged = sum((Decimal(r.amount) for r in by_period), Decimal(0))

    def m(value: Any) -> str:
        return str(money(Decimal(value or 0)))

    return {"account_id": account_id, "account_number": number, "charged": m(charged), "paid": m(paid),
            "balance": m(charged - Decimal(paid)),
            "periods": [{"period": r.period, "accrued": m(r.accrued), "storno": m(r.storno), "amount": m(r.amount)}
                        for r in by_period]}


async def full_card(conn: AsyncConnection, account_id: int, *, readings: int = 20, charge_months: int = 12,
                    on: date | None = None) -> dict[str, Any] | None:
    """Everything the card shows, or None for an unknown account (one statement)."""
    params = {"a": account_id, "n": charge_months, "readings": readings, "meters": METERS_SHOWN}
    types = await _columns(conn, params)
    row = (await conn.execute(_CARD, params)).first()
    if row is None:
        return None
    today = date.today()
    on = on or today
    section = {name: [types[name]._make(values) for values in getattr(row, f"section_{name}")] for name in types}
    history = [with_value(r._asdict()) for r in section["parameters"]]
    account = queries.account_row(row)
    return {
        "account": account,
        "parameters": {"current": current_values(history, on), "history": history},
        "residents": [residents.resident_row(r, today) for r in section["residents"]],
        "absences": [absences.absence_row(r) for r in section["absences"]],
        "meters": [meters.meter_row(r, today) for r in section["meters"]],
        "readings": {"items": [reading_entry.reading_row(r) for r in section["readings"]], "total": row.readings_total},
        "charges": group_charges(section["charges"]),
        # the penalty balance, apart from the debt
        "penalties": penalty_balance(account_id, account["number"], section["penalties"], row.penalties_paid),
    }
