"""Readings from the subscribers' doors (the portal and the bots): the tenant's reading window, the meters a
subscriber may read, and one reading submitted with an optional photo of the meter.

A reading goes through exactly the validation every other source goes through (`add_reading`: stored
accepted, flagged or rejected with the reason; a resubmission is a duplicate); only the answer is worded for
the subscriber. Refusals before anything is stored (outside the window, not a number, a bad photo) raise
`Invalid` with a plain Russian sentence.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound, PeriodClosed
from aquabill.billing_core.metering.reading_entry import add_reading, parse_reading_value
from aquabill.billing_core.periods import Period
from aquabill.subscribers.links import require_linked

DEFAULT_DAYS = (15, 25)
SOURCES = ("portal", "bot")
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/heic": "HEIC"}
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
          "ноября", "декабря")
METER_NOT_FOUND = "Счётчик не найден"


# ---- the window --------------------------------------------------------------------------------------------

def _days_setting(raw: Any) -> tuple[int, int]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return DEFAULT_DAYS
    if (isinstance(raw, list | tuple) and len(raw) == 2 and all(isinstance(x, int) and 1 <= x <= 31 for x in raw)):
        return int(raw[0]), int(raw[1])
    return DEFAULT_DAYS


async def reading_days(conn: AsyncConnection) -> tuple[int, int]:
    """The tenant's window: the first and last day of the month readings are taken (`portal_reading_days`)."""
    raw = (await conn.execute(text("SELECT value FROM billing_settings WHERE key = 'portal_reading_days'"))).scalar()
    return _days_setting(raw)


def _day_month(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def _clip(period: Period, day: int) -> date:
    return date(period.year, period.month, min(day, period.days))


def window_refusal(today: date, days: tuple[int, int] | list[int]) -> str | None:
    """None when `today` is inside the window; else the sentence saying when readings are taken and from
    which day to send them. A window's last day beyond the month's end means its last day; a window whose
    first day is after its last one runs over the turn of the month (e.g. 25th to 5th)."""
    first, last = int(days[0]), int(days[1])
    month = Period.of(today)
    if first <= last:
        start, end = _clip(month, first), _clip(month, last)
        if start <= today <= end:
            return None
        rule = f"Показания принимаются с {first} по {last} число месяца."
        opens = start if today < start else _clip(month.next(), first)
    else:
        start = _clip(month, first)
        if today >= start or today.day <= last:
            return None
        rule = f"Показания принимаются с {first} числа по {last} число следующего месяца."
        opens = start
    return f"{rule} Сегодня {_day_month(today)} — передайте показания с {_day_month(opens)}."


# ---- photos ------------------------------------------------------------------------------------------------

def photo_content_type(data: bytes) -> str | None:
    """The image type by its first bytes (JPEG, PNG, WebP, HEIC), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        return "image/heic"
    return None


def check_photo(data: bytes) -> str:
    """The photo's content type, or `Invalid` saying what is wrong with it."""
    if len(data) > PHOTO_MAX_BYTES:
        raise Invalid(f"Фото слишком большое ({_megabytes(len(data))} МБ): можно не больше 5 МБ. "
                      "Уменьшите его или сделайте снимок с меньшим разрешением.", field="photo")
    kind = photo_content_type(data)
    if kind is None:
        raise Invalid("Это не фотография в формате JPEG, PNG, WebP или HEIC: выберите снимок счётчика.",
                      field="photo")
    return kind


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".replace(".", ",")


async def _store_photo(conn: AsyncConnection, reading_id: int, subscriber_id: int, data: bytes, kind: str) -> None:
    await conn.execute(text(
        "INSERT INTO reading_photos(reading_id, subscriber_id, content_type, bytes, size) "
        "VALUES (:r, :s, :t, :b, :n) ON CONFLICT (reading_id) DO NOTHING"),
        {"r": reading_id, "s": subscriber_id, "t": kind, "b": data, "n": len(data)})


async def reading_photo(conn: AsyncConnection, subscriber_id: int, reading_id: int) -> tuple[str, bytes]:
    """(content type, bytes) of a reading's photo — only for a reading of an account linked to the
    subscriber; anything else is the same `NotFound`."""
    row = (await conn.execute(text(
        "SELECT ph.content_type, ph.bytes FROM reading_photos ph JOIN readings r ON r.id = ph.reading_id "
        "JOIN meters m ON m.id = r.meter_id JOIN subscriber_links l ON l.account_id = m.account_id "
        "WHERE ph.reading_id = :r AND l.subscriber_id = :s AND l.revoked_at IS NULL"),
        {"r": reading_id, "s": subscriber_id})).first()
    if row is None:
        raise NotFound("Фото не найдено")
    return row.content_type, bytes(row.bytes)


# ---- meters and history ------------------------------------------------------------------------------------

_METERS = """
SELECT m.id, m.serial, s.name AS service_name, m.digits, m.fraction_digits, m.installed_on, m.initial_reading,
       m.verified_until, last.value AS last_value, last.read_on AS last_read_on
FROM meters m JOIN services s ON s.id = m.service_id
LEFT JOIN LATERAL (SELECT r.value, r.read_on FROM readings r WHERE r.meter_id = m.id AND r.status = 'accepted'
                   ORDER BY r.read_on DESC, r.id DESC LIMIT 1) last ON true
WHERE m.account_id = :a AND m.kind = 'individual' AND m.installed_on <= :today
  AND (m.removed_on IS NULL OR m.removed_on > :today) AND (m.failed_on IS NULL OR m.failed_on > :today)
"""


def _meter(r, today: date) -> dict[str, Any]:
    return {"id": r.id, "serial": r.serial, "service_name": r.service_name, "last_value": r.last_value,
            "last_read_on": r.last_read_on, "initial_reading": r.initial_reading, "installed_on": r.installed_on,
            "digits": r.digits, "fraction_digits": r.fraction_digits, "verified_until": r.verified_until,
            "verification_overdue": r.verified_until is not None and r.verified_until < today}


async def account_meters(conn: AsyncConnection, account_id: int, today: date) -> list[dict[str, Any]]:
    """The account's individual meters in service on `today`, each with its latest accepted reading."""
    rows = await conn.execute(text(_METERS + " ORDER BY s.sort, s.id, m.serial, m.id"),
                              {"a": account_id, "today": today})
    return [_meter(r, today) for r in rows]


STATUS_NAMES = {"accepted": "Принято", "flagged": "На проверке", "rejected": "Не принято"}


async def reading_history(conn: AsyncConnection, account_id: int, *, limit: int = 20,
                          offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The account's readings (every source), newest first, with whether a photo is kept."""
    rows = await conn.execute(text(
        "SELECT r.id, r.meter_id, m.serial, s.name AS service_name, r.read_on, r.value, r.source, r.status, "
        "r.consumption, r.reason, r.created_at, ph.id IS NOT NULL AS has_photo "
        "FROM readings r JOIN meters m ON m.id = r.meter_id JOIN services s ON s.id = m.service_id "
        "LEFT JOIN reading_photos ph ON ph.reading_id = r.id "
        "WHERE m.account_id = :a ORDER BY r.read_on DESC, r.id DESC LIMIT :l OFFSET :o"),
        {"a": account_id, "l": limit, "o": offset})
    total = (await conn.execute(text(
        "SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter_id WHERE m.account_id = :a"),
        {"a": account_id})).scalar_one()
    items = [{**dict(r._mapping), "status_name": STATUS_NAMES.get(r.status, r.status)} for r in rows]
    return items, total


# ---- submitting --------------------------------------------------------------------------------------------

def number_text(value: Decimal | None) -> str:
    """123.450 → «123,45» (how the subscriber reads a figure)."""
    if value is None:
        return ""
    text_ = f"{value.normalize():f}"
    return text_.replace(".", ",")


def answer(status: str, reading: dict[str, Any], meter: dict[str, Any]) -> str:
    """The plain sentence the subscriber gets for a reading's outcome (`meter`: as `account_meters` gives it,
    before this reading)."""
    what = f"Показание {number_text(reading['value'])} по счётчику № {meter['serial']} ({meter['service_name'].lower()})"
    if status == "rejected" and meter.get("last_read_on") == reading["read_on"]:
        return (f"{what} не принято: сегодня по этому счётчику уже принято показание "
                f"{number_text(meter['last_value'])}. Если в нём ошибка, напишите нам в разделе «Обращения».")
    if status == "duplicate":
        return f"{what} уже передано {reading['read_on']:%d.%m.%Y}, повторно отправлять не нужно."
    if status == "accepted":
        used = f" Расход: {number_text(reading['consumption'])} м³." if reading.get("consumption") is not None else ""
        return f"{what} принято.{used} Спасибо!"
    if status == "flagged":
        used = f"расход {number_text(reading['consumption'])} м³ " if reading.get("consumption") is not None else ""
        return (f"{what} получено, но {used}больше обычного, поэтому его проверит специалист. "
                "Если цифры верные, ничего делать не нужно.")
    reason = (reading.get("reason") or "").rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    return (f"{what} не принято: {reason}. Проверьте цифры на счётчике (до запятой — кубометры) "
            "и передайте показание ещё раз.")


async def _meter_of(conn: AsyncConnection, account_id: int, meter_id: int, today: date) -> dict[str, Any]:
    """The account's meter in service, locked: two submissions for one meter go one after the other."""
    row = (await conn.execute(text(_METERS + " AND m.id = :m FOR UPDATE OF m"),
                              {"a": account_id, "m": meter_id, "today": today})).first()
    if row is None:
        raise NotFound(METER_NOT_FOUND, field="meter_id")
    return _meter(row, today)


def reading_value(raw: str | Decimal) -> Decimal:
    if isinstance(raw, str) and not raw.strip():
        raise Invalid("Введите показание счётчика — число с табло, например 123,456", field="value")
    try:
        return parse_reading_value(raw)
    except Invalid as exc:
        raise Invalid(f"{exc.message}: введите число с табло счётчика, например 123,456", field="value") from exc


async def submit_reading(conn: AsyncConnection, *, subscriber_id: int, account_id: int, meter_id: int,
                         value: str | Decimal, today: date, source: str, photo: bytes | None = None,
                         photo_type: str | None = None) -> dict[str, Any]:
    """Record a subscriber's reading of `today` (see the module's docstring). Returns `status` (accepted,
    flagged, rejected, duplicate), `message` for the subscriber, and the reading (`reading_id`, `meter_id`,
    `value`, `read_on`, `consumption`, `has_photo`). `photo_type` is what the sender claims; the type kept
    is the one the bytes show."""
    if source not in SOURCES:
        raise Invalid("Источник показания: " + ", ".join(SOURCES), field="source")
    await require_linked(conn, subscriber_id, account_id)
    meter = await _meter_of(conn, account_id, meter_id, today)
    refusal = window_refusal(today, await reading_days(conn))
    if refusal:
        raise Invalid(refusal, field="value")
    number = reading_value(value)
    kind = check_photo(photo) if photo else None
    try:
        async with conn.begin_nested():
            reading = await add_reading(conn, meter_id, read_on=today, value=number, source=source)
    except PeriodClosed as exc:
        raise Invalid("Расчётный период этого месяца уже закрыт, показания за него не принимаются. "
                      "Передайте показания в следующем месяце.", field="value") from exc
    except IntegrityError as exc:  # a reading of the same day accepted at the same moment by another door
        raise Conflict("Показание по этому счётчику только что передано. Обновите страницу.",
                       field="value") from exc
    status = "duplicate" if reading["duplicate"] else reading["status"]
    if photo and kind is not None:
        await _store_photo(conn, reading["id"], subscriber_id, photo, kind)
    has_photo = (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM reading_photos WHERE reading_id = :r)"),
                                    {"r": reading["id"]})).scalar_one()
    return {"status": status, "message": answer(status, reading, meter), "reading_id": reading["id"],
            "meter_id": meter_id, "value": reading["value"], "read_on": reading["read_on"],
            "consumption": reading["consumption"], "reason": reading["reason"], "has_photo": has_photo}
