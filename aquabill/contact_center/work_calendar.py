"""The tenant's working calendar (table `working_calendar`) and working hours (table `service_hours`, t0019),
for SLA deadlines in working time.

Calendar days differ from the ordinary week (Monday–Friday working in the tenant's hours): 'holiday' (a
public holiday or a transferred day off), 'weekend' (a Saturday or Sunday off, written when a year is
loaded), 'working' (a transferred working weekend day) and 'short' (a pre-holiday working day, one hour
shorter). A year is loaded in two steps, both repeatable:

- `fill_year`: the year as the Labour Code makes it without the government's decree — its weekends, the
  public holidays of art. 112 part 1 (1–8 January, 23 February, 8 March, 1 and 9 May, 12 June, 4 November),
  the day off of a holiday falling on a weekend moved to the next working day (art. 112 part 2, except 1–8
  January, whose weekends the decree moves), and the working day before a holiday shortened by an hour
  (art. 95). Dates already in the calendar are kept.
- `replace_year`: the official list of the year (the decree «О переносе выходных дней в <year> году», as
  published in the production calendar), uploaded as CSV or JSON (`parse_upload`): it replaces the year's
  holiday / working / short dates; weekends stay unless the list names the date.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.contact_center.requests.sla import WORKING_HOURS, WorkingHours

DAY_KINDS = {"holiday": "Нерабочий день", "weekend": "Выходной день", "working": "Рабочий день (перенос)",
             "short": "Сокращённый день (на час короче)"}
UPLOAD_KINDS = {"holiday": "holiday", "нерабочий": "holiday", "праздник": "holiday", "выходной": "weekend",
                "weekend": "weekend", "working": "working", "рабочий": "working", "working-saturday": "working",
                "short": "short", "short-day": "short", "сокращённый": "short", "сокращенный": "short"}
MAX_UPLOAD_DAYS = 400
# Art. 112 part 1 of the Labour Code (as amended by Law 35-FZ of 23.04.2012): the non-working public holidays.
PUBLIC_HOLIDAYS = ((1, 1, "Новогодние каникулы"), (1, 2, "Новогодние каникулы"), (1, 3, "Новогодние каникулы"),
                   (1, 4, "Новогодние каникулы"), (1, 5, "Новогодние каникулы"), (1, 6, "Новогодние каникулы"),
                   (1, 7, "Рождество Христово"), (1, 8, "Новогодние каникулы"),
                   (2, 23, "День защитника Отечества"), (3, 8, "Международный женский день"),
                   (5, 1, "Праздник Весны и Труда"), (5, 9, "День Победы"), (6, 12, "День России"),
                   (11, 4, "День народного единства"))


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    kind: str
    note: str = ""


def _kind_refusal(day: date, kind: str) -> str | None:
    """Why `kind` cannot be given to `day` (None when it can)."""
    if kind not in DAY_KINDS:
        return "Вид дня: holiday (нерабочий), weekend (выходной), working (рабочий) или short (сокращённый)"
    if kind in ("working", "weekend") and day.weekday() < 5:
        what = "рабочим" if kind == "working" else "выходным"
        return f"{day:%d.%m.%Y} — будний день: {what} можно отметить только субботу или воскресенье"
    return None


# ---- the dates -------------------------------------------------------------------------------------------

async def list_days(conn: AsyncConnection, year: int | None = None) -> list[dict[str, Any]]:
    rows = await conn.execute(text(
        "SELECT id, day, kind, note FROM working_calendar "
        "WHERE CAST(:y AS int) IS NULL OR extract(year FROM day) = :y ORDER BY day"), {"y": year})
    return [dict(r._mapping) for r in rows]


async def year_loaded(conn: AsyncConnection, year: int) -> bool:
    """A year is loaded when its weekends are in the calendar (`fill_year` or an uploaded list)."""
    return bool((await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM working_calendar WHERE kind = 'weekend' AND day BETWEEN :a AND :b)"),
        {"a": date(year, 1, 1), "b": date(year, 12, 31)})).scalar())


async def add_day(conn: AsyncConnection, day: date, kind: str, note: str = "", *, by: int | None) -> dict[str, Any]:
    """Mark one date; a date is in the calendar at most once."""
    refusal = _kind_refusal(day, kind)
    if refusal:
        field = "kind" if kind not in DAY_KINDS else "day"
        raise Invalid(refusal, fields=[{"field": field, "message": "будний день" if field == "day" else kind}])
    note = (note or "").strip()
    if len(note) > 300:
        raise Invalid("Примечание — до 300 знаков", fields=[{"field": "note", "message": "длинное"}])
    row = (await conn.execute(text(
        "INSERT INTO working_calendar(day, kind, note, created_by) VALUES (:d, :k, :n, :by) "
        "ON CONFLICT (day) DO NOTHING RETURNING id, day, kind, note"),
        {"d": day, "k": kind, "n": note, "by": by})).first()
    if row is None:
        raise Conflict(f"{day:%d.%m.%Y} уже есть в календаре: удалите его, чтобы изменить")
    return dict(row._mapping)


async def remove_day(conn: AsyncConnection, day_id: int) -> None:
    if (await conn.execute(text("DELETE FROM working_calendar WHERE id = :i"), {"i": day_id})).rowcount == 0:
        raise NotFound("Дата календаря не найдена")


# ---- a whole year ----------------------------------------------------------------------------------------

def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise Invalid(f"Год {year}: ожидается от 2000 до 2100", fields=[{"field": "year", "message": "2000–2100"}])


def production_calendar(year: int) -> list[CalendarDay]:
    """The year by the Labour Code alone (see the module's docstring); the decree's transfers come on top."""
    _check_year(year)
    holidays = {date(year, m, d): note for m, d, note in PUBLIC_HOLIDAYS}
    days: dict[date, CalendarDay] = {h: CalendarDay(h, "holiday", n) for h, n in holidays.items()}
    first, last = date(year, 1, 1), date(year, 12, 31)
    for n in range((last - first).days + 1):
        d = first + timedelta(days=n)
        if d.weekday() >= 5 and d not in days:
            days[d] = CalendarDay(d, "weekend", "")
    for h, note in sorted(holidays.items()):
        if h.weekday() < 5 or h.month == 1:
            continue
        moved = h + timedelta(days=1)  # art. 112 part 2: to the next working day after the holiday
        while moved in days and moved.year == year:
            moved += timedelta(days=1)
        if moved.year == year:
            days[moved] = CalendarDay(moved, "holiday", f"Перенос выходного с {h:%d.%m} ({note})")
    for h in [*sorted(holidays), date(year + 1, 1, 1)]:
        eve = h - timedelta(days=1)  # art. 95 part 1: the working day before a holiday is an hour shorter
        if eve.year == year and eve not in days:
            days[eve] = CalendarDay(eve, "short", "Предпраздничный день")
    return [days[d] for d in sorted(days)]


async def _write(conn: AsyncConnection, days: list[CalendarDay], *, by: int | None, replace: bool) -> int:
    """Insert the days (`replace`: overwrite a date's kind and note); the number of rows written."""
    if not days:
        return 0
    conflict = ("DO UPDATE SET kind = EXCLUDED.kind, note = EXCLUDED.note WHERE (working_calendar.kind, "
                "working_calendar.note) IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.note)") if replace else "DO NOTHING"
    result = await conn.execute(text(
        "INSERT INTO working_calendar(day, kind, note, created_by) "
        "SELECT d, k, n, :by FROM unnest(CAST(:d AS date[]), CAST(:k AS text[]), CAST(:n AS text[])) AS x(d, k, n) "
        f"ORDER BY d ON CONFLICT (day) {conflict}"),
        {"d": [x.day for x in days], "k": [x.kind for x in days], "n": [x.note for x in days], "by": by})
    return result.rowcount


async def _lock_calendar(conn: AsyncConnection) -> None:
    """Loading a year is serialised per tenant (two at once would race on the same dates)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('working_calendar'))"))


async def fill_year(conn: AsyncConnection, year: int, *, by: int | None) -> dict[str, Any]:
    """Write the year's weekends, public holidays, their transfers and short days; dates already in the
    calendar (a decree's list, a local holiday) are kept. Running it again adds nothing."""
    days = production_calendar(year)
    await _lock_calendar(conn)
    added = await _write(conn, days, by=by, replace=False)
    return {"year": year, "added": added, "days": len(days)}


def _parse_day(raw: str, where: str) -> date:
    raw = raw.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise Invalid(f"{where}: неверная дата «{raw[:20]}» (ожидается ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)",
                  fields=[{"field": "day", "message": where}])


def _entry(day_raw: Any, kind_raw: Any, note_raw: Any, where: str) -> CalendarDay:
    day = _parse_day(str(day_raw or ""), where)
    kind = UPLOAD_KINDS.get(str(kind_raw or "holiday").strip().lower())
    if kind is None:
        raise Invalid(f"{where}: неизвестный вид дня «{str(kind_raw)[:30]}» (holiday, working, short, weekend)",
                      fields=[{"field": "kind", "message": where}])
    refusal = _kind_refusal(day, kind)
    if refusal:
        raise Invalid(f"{where}: {refusal}", fields=[{"field": "kind", "message": where}])
    note = str(note_raw or "").strip()
    if len(note) > 300:
        raise Invalid(f"{where}: примечание — до 300 знаков", fields=[{"field": "note", "message": where}])
    return CalendarDay(day, kind, note)


def parse_upload(raw: str | bytes) -> list[CalendarDay]:
    """A year's official list: JSON (`[{"day", "kind", "note"}]` or `{"days": [...]}`) or CSV lines
    `date;kind;note` (`,` or tab also separate; a header line naming `day`/`date`/`дата` is skipped)."""
    try:
        body = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise Invalid("Файл не в кодировке UTF-8", fields=[{"field": "file", "message": "UTF-8"}]) from exc
    body = body.strip()
    if not body:
        raise Invalid("Список дат пуст", fields=[{"field": "file", "message": "пусто"}])
    if body[0] in "[{":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise Invalid(f"Неверный JSON: {exc}", fields=[{"field": "file", "message": "JSON"}]) from exc
        items = data.get("days") if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            raise Invalid("JSON: ожидается список объектов {\"day\", \"kind\", \"note\"}",
                          fields=[{"field": "file", "message": "JSON"}])
        entries = [_entry(x.get("day") or x.get("date"), x.get("kind"), x.get("note"), f"Элемент {i}")
                   for i, x in enumerate(items, 1)]
    else:
        sep = max((";", ",", "\t"), key=body.splitlines()[0].count)
        entries = []
        for n, row in enumerate(csv.reader(io.StringIO(body), delimiter=sep), 1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if n == 1 and cells[0].lower() in ("day", "date", "дата"):
                continue
            entries.append(_entry(cells[0], cells[1] if len(cells) > 1 else "", sep.join(cells[2:]), f"Строка {n}"))
    if len(entries) > MAX_UPLOAD_DAYS:
        raise Invalid(f"Слишком много дат: {len(entries)} (не больше {MAX_UPLOAD_DAYS})")
    seen: set[date] = set()
    for e in entries:
        if e.day in seen:
            raise Invalid(f"Дата {e.day:%d.%m.%Y} указана дважды", fields=[{"field": "day", "message": "дважды"}])
        seen.add(e.day)
    return entries


async def replace_year(conn: AsyncConnection, year: int, days: list[CalendarDay], *, by: int | None) -> dict[str, Any]:
    """The year's official list replaces its holiday / working / short dates (weekends stay unless listed).
    The same list again changes nothing."""
    _check_year(year)
    stray = next((d for d in days if d.day.year != year), None)
    if stray is not None:
        raise Invalid(f"Дата {stray.day:%d.%m.%Y} не из {year} года", fields=[{"field": "day", "message": "год"}])
    await _lock_calendar(conn)
    removed = (await conn.execute(text(
        "DELETE FROM working_calendar WHERE day BETWEEN :a AND :b AND kind <> 'weekend' "
        "AND NOT day = ANY(CAST(:keep AS date[]))"),
        {"a": date(year, 1, 1), "b": date(year, 12, 31), "keep": [d.day for d in days]})).rowcount
    written = await _write(conn, days, by=by, replace=True)
    return {"year": year, "written": written, "removed": removed}


# ---- the working hours -----------------------------------------------------------------------------------

def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"Неизвестный часовой пояс «{name[:64]}» (например, Europe/Moscow, Asia/Yekaterinburg)",
                      fields=[{"field": "zone", "message": "часовой пояс"}]) from exc


async def load_service_hours(conn: AsyncConnection) -> dict[str, Any]:
    """The tenant's time zone and working day ({zone, day_start, day_end}); Moscow 08:00–17:00 by default."""
    row = (await conn.execute(text("SELECT zone, day_start, day_end FROM service_hours WHERE id = 1"))).first()
    if row is None:
        return {"zone": WORKING_HOURS.zone.key, "day_start": WORKING_HOURS.start, "day_end": WORKING_HOURS.end}
    return dict(row._mapping)


async def save_service_hours(conn: AsyncConnection, zone: str, day_start: time, day_end: time, *,
                             by: int | None) -> dict[str, Any]:
    zone = (zone or "").strip()
    _zone(zone)
    if day_start >= day_end:
        raise Invalid("Рабочий день должен заканчиваться позже, чем начинается",
                      fields=[{"field": "day_end", "message": "раньше начала"}])
    await conn.execute(text(
        "INSERT INTO service_hours(id, zone, day_start, day_end, updated_by) VALUES (1, :z, :s, :e, :by) "
        "ON CONFLICT (id) DO UPDATE SET zone = EXCLUDED.zone, day_start = EXCLUDED.day_start, "
        "day_end = EXCLUDED.day_end, updated_by = EXCLUDED.updated_by, updated_at = now() "
        "WHERE (service_hours.zone, service_hours.day_start, service_hours.day_end) IS DISTINCT FROM "
        "(EXCLUDED.zone, EXCLUDED.day_start, EXCLUDED.day_end)"),
        {"z": zone, "s": day_start, "e": day_end, "by": by})
    return await load_service_hours(conn)


async def working_hours(conn: AsyncConnection, since: date | datetime) -> WorkingHours:
    """The tenant's working hours and zone with the calendar's dates from `since` on (the SLA only looks
    forward). A moment is taken in the tenant's zone."""
    own = await load_service_hours(conn)
    zone = _zone(own["zone"])
    first = since.astimezone(zone).date() if isinstance(since, datetime) else since
    rows = (await conn.execute(text("SELECT day, kind FROM working_calendar WHERE day >= :s"), {"s": first})).all()
    return WorkingHours(start=own["day_start"], end=own["day_end"], weekdays=WORKING_HOURS.weekdays, zone=zone,
                        holidays=frozenset(r.day for r in rows if r.kind in ("holiday", "weekend")),
                        working_days=frozenset(r.day for r in rows if r.kind == "working"),
                        short_days=frozenset(r.day for r in rows if r.kind == "short"))
