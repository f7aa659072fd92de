"""The account card: address, parameters with history, residents, absences, meters with their latest
readings, recent readings and charges by month."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.metering.meters import list_meters
from aquabill.billing_core.metering.reading_entry import list_readings
from aquabill.billing_core.penalties.store import account_penalties
from aquabill.billing_core.periods import Period
from aquabill.billing_core.registry.absences import list_absences
from aquabill.billing_core.registry.account_parameters import current_values, parameter_history
from aquabill.billing_core.registry.queries import account_card
from aquabill.billing_core.registry.residents import list_residents

CHARGE_METHODS = {
    "meter": "по прибору учёта", "norm": "по нормативу", "average": "по среднему",
    "substitute": "замещающий объём", "common": "на общее имущество", "one_off": "разовое начисление",
    "recalculation": "перерасчёт", "storno": "сторно", "installment": "рассрочка",
}


async def charges_by_month(conn: AsyncConnection, account_id: int, months: int = 12) -> list[dict[str, Any]]:
    """The latest `months` periods with charges, newest first, each with its lines and total."""
    rows = await conn.execute(text("""
        SELECT c.id, c.period, c.service_id, s.name AS service_name, c.method, c.volume, c.tariff, c.coefficient,
               c.amount, c.days, c.corrects_period, c.note
        FROM charges c JOIN services s ON s.id = c.service_id
        WHERE c.account_id = :a AND c.period IN (
          SELECT DISTINCT period FROM charges WHERE account_id = :a ORDER BY period DESC LIMIT :n)
        ORDER BY c.period DESC, s.sort, s.id, c.id"""), {"a": account_id, "n": months})
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


async def full_card(conn: AsyncConnection, account_id: int, *, readings: int = 20, charge_months: int = 12,
                    on: date | None = None) -> dict[str, Any] | None:
    """Everything the card shows, or None for an unknown account."""
    account = await account_card(conn, account_id)
    if account is None:
        return None
    on = on or date.today()
    params = await parameter_history(conn, account_id)
    meters, _ = await list_meters(conn, account_id=account_id, limit=500)
    recent, readings_total = await list_readings(conn, account_id=account_id, limit=readings)
    return {
        "account": account,
        "parameters": {"current": current_values(params, on), "history": params},
        "residents": await list_residents(conn, account_id),
        "absences": await list_absences(conn, account_id),
        "meters": meters,
        "readings": {"items": recent, "total": readings_total},
        "charges": await charges_by_month(conn, account_id, charge_months),
        "penalties": await account_penalties(conn, account_id),  # the penalty balance, apart from the debt
    }
