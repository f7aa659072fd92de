"""Setting one parameter of an account from a date (through `set_parameters`, which keeps the history)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.parameters import (
    ParameterValue,
    history,
    parameter_types,
    parse_value,
    set_parameters,
)
from aquabill.billing_core.periods_guard import ensure_open
from aquabill.billing_core.registry.queries import require_account


def with_value(row: dict[str, Any]) -> dict[str, Any]:
    """A history row with `value` (the number or the text) for display."""
    return {**row, "value": row["value_num"] if row["value_num"] is not None else row["value_text"]}


async def parameter_history(conn: AsyncConnection, account_id: int) -> list[dict[str, Any]]:
    return [with_value(r) for r in await history(conn, account_id)]


def current_values(rows: list[dict[str, Any]], on: date) -> list[dict[str, Any]]:
    """The value of each kind in force on `on` (pure; rows as from `parameter_history`)."""
    return [r for r in rows if r["valid_from"] <= on and (r["valid_to"] is None or r["valid_to"] >= on)]


async def set_account_parameter(conn: AsyncConnection, account_id: int, *, kind: str, value: str,
                                valid_from: date) -> dict[str, Any]:
    """Returns {"status": inserted | corrected | unchanged, "history": the kind's history}."""
    await require_account(conn, account_id)
    types = await parameter_types(conn)
    if kind not in types:
        raise Invalid(f"Неизвестный параметр «{kind}»", field="kind")
    try:
        num, txt = parse_value(types[kind], value)
    except ValueError as exc:
        raise Invalid(f"Значение параметра: {exc}", field="value") from exc
    if txt is not None and len(txt) > 500:
        raise Invalid("Значение параметра: не более 500 знаков", field="value")
    if num is not None and (num >= 10 ** 10 or -num.normalize().as_tuple().exponent > 4):
        raise Invalid("Значение параметра: до 10 знаков до запятой и не более 4 после", field="value")
    await ensure_open(conn, valid_from, what=f"значение параметра с {valid_from:%d.%m.%Y}", field="valid_from",
                      account_id=account_id)
    counts = await set_parameters(conn, [ParameterValue(account_id, kind, valid_from, num, txt)])
    status = next(k for k in ("inserted", "corrected", "unchanged") if counts[k])
    return {"status": status,
            "history": [r for r in await parameter_history(conn, account_id) if r["kind"] == kind]}
