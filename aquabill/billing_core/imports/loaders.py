"""Loading parsed rows, set-based: look the natural keys up in one query per table, report the lines that
name unknown objects, and write the rest with INSERT … SELECT FROM unnest(…) … ON CONFLICT (parameters
through `set_parameters`, readings through `record_readings`). Every write is idempotent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.imports.lookups import (
    Outcome,
    Progress,
    account_ids,
    arrays,
    closed_months,
    closed_reason,
    service_ids,
    unnest,
    upsert,
)
from aquabill.billing_core.imports.registry_loaders import load_accounts, load_houses
from aquabill.billing_core.imports.report import ImportReport
from aquabill.billing_core.imports.rows import MeterRow, NormRow, ParameterRow, ReadingRow, TariffRow
from aquabill.billing_core.metering.readings import NewReading, record_readings
from aquabill.billing_core.parameters import ParameterValue, parameter_types, parse_value, set_parameters

Loader = Callable[[AsyncConnection, list, ImportReport, Progress, "int | None"], Awaitable[None]]

PARAMETER_MAX = Decimal(10) ** 10  # account_parameters.value_num is numeric(14, 4)
PARAMETER_SCALE = 4
PARAMETER_TEXT_MAX = 500


def _ddmmyyyy(day: date) -> str:
    return f"{day:%d.%m.%Y}"


async def _known_accounts(conn: AsyncConnection, rows: list[tuple[int, Any]], report: ImportReport
                          ) -> tuple[list[tuple[int, Any]], dict[str, int]]:
    ids = await account_ids(conn, (r.account_number for _, r in rows))
    kept = []
    for line, r in rows:
        if r.account_number in ids:
            kept.append((line, r))
        else:
            report.fail(line, f"Лицевой счёт {r.account_number} не найден")
    return kept, ids


async def _known_services(conn: AsyncConnection, rows: list[tuple[int, Any]], report: ImportReport
                          ) -> tuple[list[tuple[int, Any]], dict[str, int]]:
    ids = await service_ids(conn)
    kept = []
    for line, r in rows:
        if r.service in ids:
            kept.append((line, r))
        else:
            report.fail(line, f"Услуга «{r.service}» не найдена (коды услуг: {', '.join(sorted(ids))})")
    return kept, ids


def _mark(report: ImportReport, line: int, outcome: Outcome) -> None:
    _, status, reason = outcome
    if status == "failed":
        report.fail(line, reason)
    else:
        report.mark(line, status)


# ---- parameters ----------------------------------------------------------------------------------------

def _parameter_value(value_type: str, raw: str) -> tuple[Decimal | None, str | None]:
    num, txt = parse_value(value_type, raw)
    if txt is not None and len(txt) > PARAMETER_TEXT_MAX:
        raise ValueError(f"не более {PARAMETER_TEXT_MAX} знаков")
    if num is not None:
        exponent = num.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > PARAMETER_SCALE:
            raise ValueError(f"больше {PARAMETER_SCALE} знаков после запятой: «{raw}»")
        if num >= PARAMETER_MAX:
            raise ValueError(f"слишком большое число: «{raw}»")
    return num, txt


async def load_parameters(conn: AsyncConnection, rows: list[tuple[int, ParameterRow]], report: ImportReport,
                          progress: Progress, user_id: int | None = None) -> None:
    rows, accounts = await _known_accounts(conn, rows, report)
    types = await parameter_types(conn)
    values: list[tuple[int, ParameterValue]] = []
    for line, r in rows:
        if r.parameter not in types:
            report.fail(line, f"Неизвестный параметр «{r.parameter}» (известны: {', '.join(sorted(types))})")
            continue
        try:
            num, txt = _parameter_value(types[r.parameter], r.value)
        except ValueError as exc:
            report.fail(line, f"Столбец value: {exc}")
            continue
        values.append((line, ParameterValue(accounts[r.account_number], r.parameter, r.valid_from, num, txt)))
    if not values:
        return
    await progress(40, "Проверка значений")
    cols = (("account_id", "int"), ("kind", "text"), ("valid_from", "date"))
    existing = {(p.account_id, p.kind, p.valid_from): (p.value_num, p.value_text) for p in await conn.execute(text(
        "SELECT p.account_id, p.kind, p.valid_from, p.value_num, p.value_text FROM account_parameters p "
        f"JOIN {unnest(cols)} USING (account_id, kind, valid_from)"),
        arrays((v for _, v in values), cols))}
    changed = []
    for line, v in values:
        before = existing.get((v.account_id, v.kind, v.valid_from))
        if before == (v.value_num, v.value_text):
            report.mark(line, "unchanged")
        else:
            changed.append((line, v, "inserted" if before is None else "updated"))
    closed = await closed_months(conn, (v.valid_from for _, v, _ in changed))
    allowed = []
    for line, v, status in changed:
        if v.valid_from.replace(day=1) in closed:
            report.fail(line, closed_reason(v.valid_from, f"значение параметра с {_ddmmyyyy(v.valid_from)}"))
        else:
            report.mark(line, status)
            allowed.append(v)
    await set_parameters(conn, allowed)


# ---- tariffs and norms ---------------------------------------------------------------------------------

async def _load_dated(conn: AsyncConnection, table: str, key: str, value: str, what: str,
                      rows: list[tuple[int, Any]], report: ImportReport) -> None:
    """Tariffs and norms: (service, key, valid_from) → one value and the act that set it (`basis`; an empty or
    missing basis keeps the stored one); none may start in a closed period."""
    rows, services = await _known_services(conn, rows, report)
    wanted = {(services[r.service], getattr(r, key), r.valid_from): (getattr(r, value), r.basis) for _, r in rows}
    closed = await closed_months(conn, (d for _, _, d in wanted))

    def refuse(k: tuple, _new: tuple, _old: tuple | None) -> str | None:
        day = k[2]
        return closed_reason(day, f"{what} с {_ddmmyyyy(day)}") if day.replace(day=1) in closed else None

    done = await upsert(conn, table, (("service_id", "int"), (key, "text"), ("valid_from", "date")),
                        ((value, "numeric"), ("basis", "text")), wanted, refuse=refuse,
                        merge=lambda old, new: (new[0], new[1] or old[1]))
    for line, r in rows:
        _mark(report, line, done[(services[r.service], getattr(r, key), r.valid_from)])


async def load_tariffs(conn: AsyncConnection, rows: list[tuple[int, TariffRow]], report: ImportReport,
                       progress: Progress, user_id: int | None = None) -> None:
    await _load_dated(conn, "tariffs", "tariff_group", "price", "тариф", rows, report)


async def load_norms(conn: AsyncConnection, rows: list[tuple[int, NormRow]], report: ImportReport,
                     progress: Progress, user_id: int | None = None) -> None:
    await _load_dated(conn, "norms", "improvement", "volume", "норматив", rows, report)


# ---- meters --------------------------------------------------------------------------------------------

async def load_meters(conn: AsyncConnection, rows: list[tuple[int, MeterRow]], report: ImportReport,
                      progress: Progress, user_id: int | None = None) -> None:
    rows, accounts = await _known_accounts(conn, rows, report)
    rows, services = await _known_services(conn, rows, report)
    shared = {(m.serial, m.service_id, m.installed_on) for m in await conn.execute(text(
        "SELECT serial, service_id, installed_on FROM meters "
        "WHERE kind <> 'individual' AND serial = ANY(CAST(:s AS text[]))"), {"s": sorted({r.serial for _, r in rows})})}
    kept = []
    for line, r in rows:
        if (r.serial, services[r.service], r.installed_on) in shared:
            report.fail(line, f"Счётчик {r.serial} с этой датой установки уже есть как общедомовой или "
                              "коммунальный: загрузка индивидуальных счётчиков его не меняет")
        else:
            kept.append((line, r))
    wanted = {(r.serial, services[r.service], r.installed_on): (
        accounts[r.account_number], r.digits, r.initial_reading, r.verified_until, r.removed_on) for _, r in kept}
    closed = await closed_months(conn, (d for k, v in wanted.items() for d in (k[2], v[4])))

    def refuse(key: tuple, new: tuple, old: tuple | None) -> str | None:
        if old is None and key[2].replace(day=1) in closed:
            return closed_reason(key[2], f"установка счётчика {_ddmmyyyy(key[2])}")
        removed = new[4]
        if removed is not None and removed != (old[4] if old else None) and removed.replace(day=1) in closed:
            return closed_reason(removed, f"снятие счётчика {_ddmmyyyy(removed)}")
        return None

    stored = await upsert(conn, "meters", (("serial", "text"), ("service_id", "int"), ("installed_on", "date")), (
        ("account_id", "int"), ("digits", "int"), ("initial_reading", "numeric"), ("verified_until", "date"),
        ("removed_on", "date")), wanted, merge=_merge_meter, refuse=refuse)
    for line, r in kept:
        _mark(report, line, stored[(r.serial, services[r.service], r.installed_on)])


def _merge_meter(old: tuple, new: tuple) -> tuple:
    """Empty dates in the file keep the stored ones (a removal is never undone by an older file)."""
    return (*new[:3], old[3] if new[3] is None else new[3], old[4] if new[4] is None else new[4])


# ---- readings ------------------------------------------------------------------------------------------

def pick_meter(serial: str, read_on: date, meters: list[tuple[int, date, date | None]]) -> int:
    """The meter with this serial: the only one, or the one installed on `read_on` (ValueError if none or
    several fit). `meters`: (id, installed_on, removed_on)."""
    if not meters:
        raise ValueError(f"Счётчик с номером {serial} не найден")
    if len(meters) == 1:
        return meters[0][0]
    alive = [m for m in meters if m[1] <= read_on and (m[2] is None or read_on <= m[2])]
    if len(alive) == 1:
        return alive[0][0]
    if not alive:
        raise ValueError(f"На {_ddmmyyyy(read_on)} не установлен ни один из {len(meters)} счётчиков "
                         f"с номером {serial}")
    raise ValueError(f"Номер {serial} на {_ddmmyyyy(read_on)} носят {len(alive)} счётчика: показание "
                     "нельзя отнести к одному из них")


async def load_readings(conn: AsyncConnection, rows: list[tuple[int, ReadingRow]], report: ImportReport,
                        progress: Progress, user_id: int | None = None) -> None:
    meters: dict[str, list[tuple[int, date, date | None]]] = defaultdict(list)
    for m in await conn.execute(text(
            "SELECT id, serial, installed_on, removed_on FROM meters WHERE serial = ANY(CAST(:s AS text[])) "
            "ORDER BY installed_on, id"), {"s": sorted({r.serial for _, r in rows})}):
        meters[m.serial].append((m.id, m.installed_on, m.removed_on))
    picked: list[tuple[int, NewReading, str]] = []
    for line, r in rows:
        try:
            meter_id = pick_meter(r.serial, r.read_on, meters.get(r.serial, []))
        except ValueError as exc:
            report.fail(line, str(exc))
            continue
        picked.append((line, NewReading(meter_id, r.read_on, r.value), r.source))
    await progress(30, "Поиск счётчиков")
    duplicates: list[tuple[int, tuple[int, date, Decimal]]] = []
    picked = await _refuse_closed(conn, picked, duplicates, report)
    by_source: dict[str, list[NewReading]] = defaultdict(list)
    line_of: dict[tuple[int, date, Decimal], int] = {}
    for line, item, source in picked:
        line_of[(item.meter_id, item.read_on, item.value)] = line
        by_source[source].append(item)
    for source, items in sorted(by_source.items()):
        for o in await record_readings(conn, items, source=source, user_id=user_id):
            key = (o.meter_id, o.read_on, o.value)
            line = line_of[key]
            if o.status == "duplicate":
                duplicates.append((line, key))
            elif o.status == "rejected":
                report.fail(line, f"Показание отклонено: {o.reason}")
            else:
                report.mark(line, "inserted")
                if o.status == "flagged":
                    report.warn(line, f"Показание сохранено, но требует проверки: {o.reason}")
    await _report_duplicates(conn, duplicates, report)


async def _refuse_closed(conn: AsyncConnection, picked: list[tuple[int, NewReading, str]],
                         duplicates: list[tuple[int, tuple[int, date, Decimal]]], report: ImportReport
                         ) -> list[tuple[int, NewReading, str]]:
    """Readings dated in a closed period: one stored before is unchanged, a new one is refused."""
    closed = await closed_months(conn, (item.read_on for _, item, _ in picked))
    late = [(line, item) for line, item, _ in picked if item.read_on.replace(day=1) in closed]
    if not late:
        return picked
    cols = (("meter_id", "int"), ("read_on", "date"), ("value", "numeric"))
    stored = {tuple(r) for r in await conn.execute(text(
        f"SELECT r.meter_id, r.read_on, r.value FROM readings r JOIN {unnest(cols)} USING (meter_id, read_on, value)"),
        arrays((item for _, item in late), cols))}
    for line, item in late:
        key = (item.meter_id, item.read_on, item.value)
        if key in stored:
            duplicates.append((line, key))
        else:
            report.fail(line, closed_reason(item.read_on, f"показание на {_ddmmyyyy(item.read_on)}"))
    return [p for p in picked if p[1].read_on.replace(day=1) not in closed]


async def _report_duplicates(conn: AsyncConnection, duplicates: list[tuple[int, tuple[int, date, Decimal]]],
                             report: ImportReport) -> None:
    """A reading stored before: unchanged, but one rejected then is still not loaded (reported again)."""
    if not duplicates:
        return
    cols = (("meter_id", "int"), ("read_on", "date"), ("value", "numeric"))
    stored: dict[tuple, tuple[str, str]] = {}
    for s in await conn.execute(text(
            "SELECT r.meter_id, r.read_on, r.value, r.status, r.reason FROM readings r "
            f"JOIN {unnest(cols)} USING (meter_id, read_on, value) ORDER BY r.id"),
            arrays((k for _, k in duplicates), cols)):
        best = stored.get((s.meter_id, s.read_on, s.value))
        if best is None or _rank(s.status) < _rank(best[0]):
            stored[(s.meter_id, s.read_on, s.value)] = (s.status, s.reason)
    for line, key in duplicates:
        status, reason = stored.get(key, ("accepted", ""))
        if status == "rejected":
            report.fail(line, f"Показание уже было отклонено: {reason}")
            continue
        report.mark(line, "unchanged")
        if status == "flagged":
            report.warn(line, f"Показание уже загружено и ждёт проверки: {reason}")


def _rank(status: str) -> int:
    return {"accepted": 0, "flagged": 1}.get(status, 2)


LOADERS: dict[str, Loader] = {
    "houses": lambda conn, rows, report, progress, user_id: load_houses(conn, rows, report, progress),
    "accounts": lambda conn, rows, report, progress, user_id: load_accounts(conn, rows, report, progress),
    "parameters": load_parameters,
    "tariffs": load_tariffs,
    "norms": load_norms,
    "meters": load_meters,
    "readings": load_readings,
}
