"""Recording readings: every submitted reading is stored (rejected ones with their reason), validated
against the meter and its neighbouring readings; resubmitting the same reading changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.metering.validation import (
    DEFAULT_MAX_DAILY_M3,
    KnownReading,
    MeterSpec,
    ReadingStatus,
    check_reading,
)


@dataclass(frozen=True, slots=True)
class NewReading:
    meter_id: int
    read_on: date
    value: Decimal


@dataclass(frozen=True, slots=True)
class ReadingOutcome:
    meter_id: int
    read_on: date
    value: Decimal
    status: str  # accepted | flagged | rejected | duplicate
    reason: str = ""
    consumption: Decimal | None = None
    reading_id: int | None = None
    rollover: bool = False


async def _max_daily(conn: AsyncConnection) -> Decimal:
    raw = (await conn.execute(text("SELECT value FROM billing_settings WHERE key = 'max_daily_m3'"))).scalar()
    return Decimal(str(raw)) if raw is not None else DEFAULT_MAX_DAILY_M3


async def record_readings(
    conn: AsyncConnection, items: list[NewReading], *, source: str, user_id: int | None = None
) -> list[ReadingOutcome]:
    """Validate and store readings in bulk (two reads, one write), in date order per meter."""
    if not items:
        return []
    meter_ids = sorted({i.meter_id for i in items})
    meters = {r.id: r for r in await conn.execute(text(
        "SELECT id, digits, fraction_digits, installed_on, initial_reading, removed_on, reversible "
        "FROM meters WHERE id = ANY(:ids)"), {"ids": meter_ids})}
    known: dict[int, list[KnownReading]] = {m: [] for m in meter_ids}
    existing: set[tuple[int, date, Decimal]] = set()
    for r in await conn.execute(text(
            "SELECT meter_id, read_on, value, status FROM readings WHERE meter_id = ANY(:ids) "
            "ORDER BY meter_id, read_on"), {"ids": meter_ids}):
        existing.add((r.meter_id, r.read_on, r.value))
        if r.status == ReadingStatus.ACCEPTED:
            known[r.meter_id].append(KnownReading(r.read_on, r.value))
    max_daily = await _max_daily(conn)

    outcomes: list[ReadingOutcome] = []
    for item in sorted(items, key=lambda i: (i.meter_id, i.read_on)):
        meter = meters.get(item.meter_id)
        if meter is None:
            outcomes.append(ReadingOutcome(item.meter_id, item.read_on, item.value, "rejected", "Счётчик не найден"))
            continue
        if (item.meter_id, item.read_on, item.value) in existing:
            outcomes.append(ReadingOutcome(item.meter_id, item.read_on, item.value, "duplicate",
                                           "Такое показание уже есть"))
            continue
        history = known[item.meter_id]
        previous = max((k for k in history if k.read_on <= item.read_on), key=lambda k: k.read_on, default=None)
        following = min((k for k in history if k.read_on > item.read_on), key=lambda k: k.read_on, default=None)
        spec = MeterSpec(meter.digits, meter.fraction_digits, meter.installed_on, meter.initial_reading,
                         meter.removed_on, meter.reversible)
        check = check_reading(spec, item.value, item.read_on, previous, following, max_daily_m3=max_daily)
        outcomes.append(ReadingOutcome(item.meter_id, item.read_on, item.value, check.status.value, check.reason,
                                       check.consumption, rollover=check.rollover))
        existing.add((item.meter_id, item.read_on, item.value))
        if check.status is ReadingStatus.ACCEPTED:
            history.append(KnownReading(item.read_on, item.value))

    stored = [o for o in outcomes if o.status != "duplicate" and o.meter_id in meters]
    if stored:
        ids = (await conn.execute(text("""
            INSERT INTO readings(meter_id, read_on, value, source, status, consumption, rollover, reason, created_by)
            SELECT m, d, v, :source, s, c, w, r, :user
            FROM unnest(CAST(:m AS int[]), CAST(:d AS date[]), CAST(:v AS numeric[]), CAST(:s AS text[]),
                        CAST(:c AS numeric[]), CAST(:w AS boolean[]), CAST(:r AS text[]))
                 WITH ORDINALITY AS x(m, d, v, s, c, w, r, n)
            ORDER BY n
            RETURNING id
        """), {"m": [o.meter_id for o in stored], "d": [o.read_on for o in stored],
               "v": [o.value for o in stored], "s": [o.status for o in stored],
               "c": [o.consumption for o in stored], "w": [o.rollover for o in stored],
               "r": [o.reason for o in stored],
               "source": source, "user": user_id})).scalars().all()
        by_key = {(o.meter_id, o.read_on, o.value): i for o, i in zip(stored, ids, strict=True)}
        outcomes = [replace(o, reading_id=by_key.get((o.meter_id, o.read_on, o.value)))
                    if o.status != "duplicate" else o for o in outcomes]
    return outcomes
