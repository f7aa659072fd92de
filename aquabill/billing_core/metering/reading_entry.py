"""Readings entered one by one (operator, pages, API), the readings list, and the confirmation of a
flagged reading. Validation itself is `record_readings` / `check_reading`; this adds the closed-period
guard and the operator's confirmation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.metering.readings import NewReading, record_readings
from aquabill.billing_core.metering.validation import (
    DEFAULT_MAX_DAILY_M3,
    KnownReading,
    MeterSpec,
    ReadingStatus,
    check_reading,
)
from aquabill.billing_core.periods_guard import ensure_open

SOURCES = {"operator": "Оператор", "import": "Загрузка файла", "portal": "Личный кабинет", "bot": "Бот",
           "controller": "Контролёр", "bank": "Банк"}
STATUSES = {"accepted": "Принято", "flagged": "На проверке", "rejected": "Отклонено"}


def parse_reading_value(raw: str | Decimal | int) -> Decimal:
    """A reading typed by a person: `123,456` or `123.456`."""
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation as exc:
        raise Invalid(f"Показание «{raw}» не является числом", field="value") from exc
    if not value.is_finite():
        raise Invalid(f"Показание «{raw}» не является числом", field="value")
    return value


def reading_row(r) -> dict[str, Any]:
    return {"id": r.id, "meter_id": r.meter_id, "serial": r.serial, "service_name": r.service_name,
            "account_id": r.account_id, "read_on": r.read_on, "value": r.value, "source": r.source,
            "source_name": SOURCES.get(r.source, r.source), "status": r.status,
            "status_name": STATUSES.get(r.status, r.status), "consumption": r.consumption, "rollover": r.rollover,
            "reason": r.reason, "created_at": r.created_at, "created_by": r.created_by}


SELECT_SQL = """
    SELECT r.id, r.meter_id, m.serial, s.name AS service_name, m.account_id, r.read_on, r.value, r.source,
           r.status, r.consumption, r.rollover, r.reason, r.created_at, r.created_by
    FROM readings r JOIN meters m ON m.id = r.meter_id JOIN services s ON s.id = m.service_id
"""


async def list_readings(conn: AsyncConnection, *, meter_id: int | None = None, account_id: int | None = None,
                        status: str | None = None, q: str = "", limit: int = 50,
                        offset: int = 0) -> tuple[list[dict], int]:
    """Newest first; filter by meter, account, status, serial number."""
    where, params = ["true"], {"limit": limit, "offset": offset}
    for column, value in (("r.meter_id", meter_id), ("m.account_id", account_id), ("r.status", status)):
        if value is not None:
            key = column.split(".")[1]
            where.append(f"{column} = :{key}")
            params[key] = value
    if q.strip():
        where.append("lower(m.serial) LIKE :like")
        params["like"] = f"%{q.strip().lower()}%"
    cond = " AND ".join(where)
    rows = await conn.execute(text(f"{SELECT_SQL} WHERE {cond} ORDER BY r.read_on DESC, r.id DESC "
                                   "LIMIT :limit OFFSET :offset"), params)
    total = (await conn.execute(text(
        f"SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter_id WHERE {cond}"), params)).scalar_one()
    return [reading_row(r) for r in rows], total


async def get_reading(conn: AsyncConnection, reading_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"{SELECT_SQL} WHERE r.id = :id"), {"id": reading_id})).first()
    if row is None:
        raise NotFound("Показание не найдено", field="reading_id")
    return reading_row(row)


async def add_reading(conn: AsyncConnection, meter_id: int, *, read_on: date, value: Decimal,
                      source: str = "operator", user_id: int | None = None) -> dict[str, Any]:
    """Record one reading: stored whatever its status (accepted / flagged / rejected, with the reason).
    Resubmitting the same reading stores nothing and answers with the existing one (`duplicate`)."""
    if not (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM meters WHERE id = :id)"),
                               {"id": meter_id})).scalar_one():
        raise NotFound("Счётчик не найден", field="meter_id")
    if source not in SOURCES:
        raise Invalid("Источник показания: " + ", ".join(SOURCES), field="source")
    value = parse_reading_value(value)
    await ensure_open(conn, read_on, what=f"показание на {read_on:%d.%m.%Y}", field="read_on", meter_id=meter_id)
    [outcome] = await record_readings(conn, [NewReading(meter_id, read_on, value)], source=source, user_id=user_id)
    if outcome.status == "duplicate":
        existing = (await conn.execute(text(
            "SELECT id FROM readings WHERE meter_id = :m AND read_on = :d AND value = :v "
            "ORDER BY status = 'accepted' DESC, id DESC LIMIT 1"),
            {"m": meter_id, "d": read_on, "v": value})).scalar_one()
        return {**await get_reading(conn, existing), "duplicate": True}
    return {**await get_reading(conn, outcome.reading_id), "duplicate": False}


async def _max_daily(conn: AsyncConnection) -> Decimal:
    raw = (await conn.execute(text("SELECT value FROM billing_settings WHERE key = 'max_daily_m3'"))).scalar()
    try:
        return Decimal(str(raw)) if raw is not None else DEFAULT_MAX_DAILY_M3
    except InvalidOperation:
        return DEFAULT_MAX_DAILY_M3


async def confirm_reading(conn: AsyncConnection, reading_id: int) -> dict[str, Any]:
    """An operator accepts a flagged reading after checking it. It is validated again against the
    readings accepted since (a value that is now impossible is refused); the change is in the audit log
    with the acting user."""
    row = (await conn.execute(text(
        "SELECT r.id, r.meter_id, r.read_on, r.value, r.status, r.reason, m.digits, m.fraction_digits, "
        "m.installed_on, m.initial_reading, m.removed_on, m.reversible "
        "FROM readings r JOIN meters m ON m.id = r.meter_id WHERE r.id = :id FOR UPDATE OF r, m"),
        {"id": reading_id})).first()
    if row is None:
        raise NotFound("Показание не найдено", field="reading_id")
    if row.status != ReadingStatus.FLAGGED:
        raise Conflict(f"Подтвердить можно только показание на проверке; это показание: "
                            f"«{STATUSES.get(row.status, row.status)}»", field="reading_id")
    await ensure_open(conn, row.read_on, what=f"показание на {row.read_on:%d.%m.%Y}", field="read_on",
                      meter_id=row.meter_id)
    accepted = [KnownReading(r.read_on, r.value) for r in await conn.execute(text(
        "SELECT read_on, value FROM readings WHERE meter_id = :m AND status = 'accepted' AND id <> :id "
        "ORDER BY read_on"), {"m": row.meter_id, "id": reading_id})]
    if any(k.read_on == row.read_on for k in accepted):
        raise Conflict(f"На {row.read_on:%d.%m.%Y} у счётчика уже есть принятое показание", field="reading_id")
    previous = max((k for k in accepted if k.read_on < row.read_on), key=lambda k: k.read_on, default=None)
    following = min((k for k in accepted if k.read_on > row.read_on), key=lambda k: k.read_on, default=None)
    spec = MeterSpec(row.digits, row.fraction_digits, row.installed_on, row.initial_reading, row.removed_on,
                     row.reversible)
    check = check_reading(spec, row.value, row.read_on, previous, following, max_daily_m3=await _max_daily(conn))
    if check.status is ReadingStatus.REJECTED:
        raise Invalid(f"Показание не может быть принято: {check.reason}", field="reading_id")
    await conn.execute(text(
        "UPDATE readings SET status = 'accepted', consumption = :c, rollover = :w, reason = :r WHERE id = :id"),
        {"c": check.consumption, "w": check.rollover, "id": reading_id,
         "r": f"Подтверждено оператором (было: {row.reason})" if row.reason else "Подтверждено оператором"})
    return await get_reading(conn, reading_id)
