"""Meters: install (on an account, or a building meter on a house), the replacement act, failure,
verification and seal; search by serial number.

A commercial meter (kind 'commercial', migration t0032) belongs to a legal entity's contract point and has
neither an account nor a house: it is installed by `legal_entities.point_meters`, but fetched, replaced (the new
one stays on the point), marked failed and re-verified here like any other; the individuals' meter list leaves it
out. Dates that change billing (installation, removal, failure) are refused inside a closed period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.metering.readings import NewReading, ReadingOutcome, record_readings
from aquabill.billing_core.periods_guard import ensure_open
from aquabill.billing_core.reference.services import get_service

METER_KINDS = {"individual": "Индивидуальный", "communal": "Общий (квартирный)", "building": "Общедомовой"}
# kind names for display; 'commercial' is not installed here (see legal_entities.point_meters)
KIND_NAMES = {**METER_KINDS, "commercial": "Коммерческий (точка подключения)"}
STATES = {"active": "Работает", "verification_overdue": "Истёк срок поверки", "failed": "Неисправен",
          "removed": "Снят"}


@dataclass(frozen=True, slots=True)
class MeterInstall:
    """What an installation (or the new meter of a replacement act) states."""

    serial: str
    installed_on: date
    digits: int = 5
    fraction_digits: int = 3
    initial_reading: Decimal = Decimal(0)
    verified_until: date | None = None
    seal_number: str | None = None
    sealed_on: date | None = None
    reversible: bool = False


def check_install(m: MeterInstall) -> None:
    """Rules on the stated values alone (pure)."""
    if not (m.serial or "").strip() or len(m.serial.strip()) > 64:
        raise Invalid("Укажите заводской номер счётчика (до 64 знаков)", field="serial")
    if not 1 <= m.digits <= 12:
        raise Invalid("Разрядность счётчика: от 1 до 12 знаков до запятой", field="digits")
    if not 0 <= m.fraction_digits <= 4:
        raise Invalid("Знаков после запятой: от 0 до 4", field="fraction_digits")
    value = m.initial_reading
    if not value.is_finite() or value < 0:
        raise Invalid("Начальное показание не может быть отрицательным", field="initial_reading")
    if value >= Decimal(10) ** m.digits:
        raise Invalid(f"Начальное показание {value} превышает разрядность счётчика ({m.digits} знаков)",
                           field="initial_reading")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > m.fraction_digits:
        raise Invalid(f"Начальное показание: не более {m.fraction_digits} знаков после запятой",
                           field="initial_reading")
    if m.verified_until is not None and m.verified_until <= m.installed_on:
        raise Invalid("Дата следующей поверки должна быть позже даты установки", field="verified_until")
    _check_seal(m.seal_number, m.sealed_on, m.installed_on)


def _check_seal(number: str | None, sealed_on: date | None, installed_on: date) -> None:
    if number is not None and len(number.strip()) > 64:
        raise Invalid("Номер пломбы: до 64 знаков", field="seal_number")
    if bool(number and number.strip()) != (sealed_on is not None):
        raise Invalid("Укажите и номер пломбы, и дату опломбирования", field="sealed_on")
    if sealed_on is not None and sealed_on < installed_on:
        raise Invalid("Дата опломбирования не может быть раньше установки счётчика", field="sealed_on")


def meter_state(m: dict[str, Any], today: date) -> str:
    if m["removed_on"] is not None and m["removed_on"] <= today:
        return "removed"
    if m["failed_on"] is not None and m["failed_on"] <= today:
        return "failed"
    if m["verified_until"] is not None and m["verified_until"] < today:
        return "verification_overdue"
    return "active"


SELECT_SQL = """
    SELECT m.id, m.kind, m.account_id, m.house_id, m.service_id, m.serial, m.digits, m.fraction_digits,
           m.reversible, m.installed_on, m.initial_reading, m.verified_until, m.failed_on, m.removed_on,
           m.seal_number, m.sealed_on, m.replaces_id, m.contract_point_id,
           (SELECT n.id FROM meters n WHERE n.replaces_id = m.id ORDER BY n.id LIMIT 1) AS replaced_by_id,
           s.code AS service_code, s.name AS service_name, s.unit, a.number AS account_number,
           -- a commercial meter has no house: no address (NULL) rather than ", "
           nullif(concat_ws(', ', nullif(concat_ws(' ', se.kind, se.name), ''),
                            nullif(concat_ws(' ', st.kind, st.name), ''), 'д. ' || h.number,
                            nullif('кв. ' || p.number, 'кв. ')), '') AS address,
           lr.id AS last_reading_id, lr.read_on AS last_read_on, lr.value AS last_value
    FROM meters m
    JOIN services s ON s.id = m.service_id
    LEFT JOIN accounts a ON a.id = m.account_id
    LEFT JOIN premises p ON p.id = a.premise_id
    LEFT JOIN houses h ON h.id = coalesce(m.house_id, p.house_id)
    LEFT JOIN streets st ON st.id = h.street_id
    LEFT JOIN settlements se ON se.id = st.settlement_id
    LEFT JOIN LATERAL (
      SELECT r.id, r.read_on, r.value FROM readings r
      WHERE r.meter_id = m.id AND r.status = 'accepted' ORDER BY r.read_on DESC, r.id DESC LIMIT 1
    ) lr ON true
"""
_FIELDS = ("id", "kind", "account_id", "house_id", "service_id", "serial", "digits", "fraction_digits",
           "reversible", "installed_on", "initial_reading", "verified_until", "failed_on", "removed_on",
           "seal_number", "sealed_on", "replaces_id", "contract_point_id", "replaced_by_id", "service_code",
           "service_name", "unit", "account_number", "address")


def meter_row(r, today: date) -> dict[str, Any]:
    d = {f: getattr(r, f) for f in _FIELDS}
    d["last_reading"] = ({"id": r.last_reading_id, "read_on": r.last_read_on, "value": r.last_value}
                         if r.last_reading_id is not None else None)
    d["state"] = meter_state(d, today)
    d["state_name"] = STATES[d["state"]]
    d["kind_name"] = KIND_NAMES.get(d["kind"], d["kind"])
    return d


async def list_meters(conn: AsyncConnection, q: str = "", *, account_id: int | None = None,
                      house_id: int | None = None, installed: bool | None = None, limit: int = 50,
                      offset: int = 0) -> tuple[list[dict], int]:
    """Search by serial number (any part, case-insensitive) or account number (prefix); filter by account,
    by house (its building meters and the meters of its accounts) and by being installed now. The meters of
    the individuals and of buildings: commercial meters are listed on their contracts' cards."""
    today = date.today()
    where, params = ["m.kind <> 'commercial'"], {"limit": limit, "offset": offset, "today": today}
    if q.strip():
        where.append("(lower(m.serial) LIKE :like OR a.number LIKE :prefix)")
        params["like"] = f"%{q.strip().lower()}%"
        params["prefix"] = q.strip().replace("%", "").replace("_", "") + "%"
    if account_id is not None:
        where.append("m.account_id = :account_id")
        params["account_id"] = account_id
    if house_id is not None:
        where.append("h.id = :house_id")
        params["house_id"] = house_id
    if installed is not None:
        where.append(("" if installed else "NOT ") + "(m.removed_on IS NULL OR m.removed_on > :today)")
    cond = " AND ".join(where)
    rows = await conn.execute(text(f"{SELECT_SQL} WHERE {cond} ORDER BY m.serial, m.installed_on, m.id "
                                   "LIMIT :limit OFFSET :offset"), params)
    total = (await conn.execute(text(
        "SELECT count(*) FROM meters m LEFT JOIN accounts a ON a.id = m.account_id "
        "LEFT JOIN premises p ON p.id = a.premise_id LEFT JOIN houses h ON h.id = coalesce(m.house_id, p.house_id) "
        f"WHERE {cond}"), params)).scalar_one()
    return [meter_row(r, today) for r in rows], total


async def get_meter(conn: AsyncConnection, meter_id: int, *, lock: bool = False) -> dict[str, Any]:
    if lock:
        await conn.execute(text("SELECT id FROM meters WHERE id = :id FOR UPDATE"), {"id": meter_id})
    row = (await conn.execute(text(f"{SELECT_SQL} WHERE m.id = :id"), {"id": meter_id})).first()
    if row is None:
        raise NotFound("Счётчик не найден", field="meter_id")
    return meter_row(row, date.today())


async def _insert(conn: AsyncConnection, m: MeterInstall, *, kind: str, service_id: int, account_id: int | None,
                  house_id: int | None, contract_point_id: int | None = None, replaces_id: int | None = None) -> int:
    serial = m.serial.strip()
    busy = (await conn.execute(text(
        "SELECT m.installed_on, a.number FROM meters m LEFT JOIN accounts a ON a.id = m.account_id "
        "WHERE lower(m.serial) = lower(:serial) AND m.service_id = :service_id "
        "AND (m.removed_on IS NULL OR m.removed_on > :on) AND m.id IS DISTINCT FROM :replaces "
        "ORDER BY m.id LIMIT 1"),
        {"serial": serial, "service_id": service_id, "on": m.installed_on, "replaces": replaces_id})).first()
    if busy is not None:
        where = f" (лицевой счёт {busy.number})" if busy.number else ""
        raise Conflict(f"Счётчик № {serial} этой услуги уже установлен с {busy.installed_on:%d.%m.%Y}{where}",
                            field="serial")
    return (await conn.execute(text("""
        INSERT INTO meters(kind, account_id, house_id, contract_point_id, service_id, serial, digits, fraction_digits,
                           reversible, installed_on, initial_reading, verified_until, seal_number, sealed_on,
                           replaces_id)
        VALUES (:kind, :account_id, :house_id, :contract_point_id, :service_id, :serial, :digits, :fraction_digits,
                :reversible, :installed_on, :initial_reading, :verified_until, :seal_number, :sealed_on,
                :replaces_id)
        RETURNING id"""), {
        "kind": kind, "account_id": account_id, "house_id": house_id, "contract_point_id": contract_point_id,
        "service_id": service_id, "serial": serial,
        "digits": m.digits, "fraction_digits": m.fraction_digits, "reversible": m.reversible,
        "installed_on": m.installed_on, "initial_reading": m.initial_reading, "verified_until": m.verified_until,
        "seal_number": (m.seal_number or "").strip() or None, "sealed_on": m.sealed_on,
        "replaces_id": replaces_id})).scalar_one()


async def install_meter(conn: AsyncConnection, m: MeterInstall, *, service_id: int, kind: str = "individual",
                        account_id: int | None = None, house_id: int | None = None) -> dict[str, Any]:
    """A meter on an account (individual or communal) or a building meter on a house."""
    if kind not in METER_KINDS:
        raise Invalid("Вид счётчика: " + ", ".join(METER_KINDS), field="kind")
    if kind == "building":
        if house_id is None or account_id is not None:
            raise Invalid("Общедомовой счётчик устанавливается на дом: укажите house_id (без лицевого счёта)",
                               field="house_id")
        if not (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM houses WHERE id = :id)"),
                                   {"id": house_id})).scalar_one():
            raise NotFound("Дом не найден", field="house_id")
    else:
        if account_id is None or house_id is not None:
            raise Invalid("Счётчик устанавливается на лицевой счёт: укажите account_id (без дома)",
                               field="account_id")
        if not (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = :id)"),
                                   {"id": account_id})).scalar_one():
            raise NotFound("Лицевой счёт не найден", field="account_id")
    await get_service(conn, service_id)
    check_install(m)
    await ensure_open(conn, m.installed_on, what=f"установка счётчика {m.installed_on:%d.%m.%Y}",
                      field="installed_on", account_id=account_id, house_id=house_id)
    meter_id = await _insert(conn, m, kind=kind, service_id=service_id, account_id=account_id, house_id=house_id)
    return await get_meter(conn, meter_id)


def _outcome(o: ReadingOutcome) -> dict[str, Any]:
    return {"reading_id": o.reading_id, "meter_id": o.meter_id, "read_on": o.read_on, "value": o.value,
            "status": o.status, "reason": o.reason, "consumption": o.consumption, "rollover": o.rollover}


async def replace_meter(conn: AsyncConnection, meter_id: int, *, removed_on: date, final_reading: Decimal,
                        new: MeterInstall, user_id: int | None = None) -> dict[str, Any]:
    """The meter replacement act: the old meter is removed on `removed_on` with its final reading, the new
    one (same account, house or contract point, same service) is installed with its initial reading and `replaces_id`.

    A rejected final reading refuses the whole act; a flagged one is kept for confirmation.
    """
    old = await get_meter(conn, meter_id, lock=True)
    if old["removed_on"] is not None:
        raise Conflict(f"Счётчик № {old['serial']} уже снят {old['removed_on']:%d.%m.%Y}", field="meter_id")
    if removed_on < old["installed_on"]:
        raise Invalid(f"Дата снятия раньше установки счётчика ({old['installed_on']:%d.%m.%Y})",
                           field="removed_on")
    if new.installed_on < removed_on:
        raise Invalid("Новый счётчик не может быть установлен раньше снятия старого", field="installed_on")
    check_install(new)
    later = (await conn.execute(text(
        "SELECT read_on FROM readings WHERE meter_id = :id AND status = 'accepted' AND read_on > :d "
        "ORDER BY read_on LIMIT 1"), {"id": meter_id, "d": removed_on})).scalar()
    if later is not None:
        raise Invalid(f"У счётчика есть принятое показание позже даты снятия ({later:%d.%m.%Y})",
                           field="removed_on")
    await ensure_open(conn, removed_on, what=f"снятие счётчика {removed_on:%d.%m.%Y}", field="removed_on",
                      meter_id=meter_id)
    await ensure_open(conn, new.installed_on, what=f"установка счётчика {new.installed_on:%d.%m.%Y}",
                      field="installed_on", meter_id=meter_id)
    [final] = await record_readings(conn, [NewReading(meter_id, removed_on, final_reading)], source="operator",
                                    user_id=user_id)
    if final.status == "rejected":
        raise Invalid(f"Конечное показание не принято: {final.reason}", field="final_reading")
    await conn.execute(text("UPDATE meters SET removed_on = :d WHERE id = :id"), {"d": removed_on, "id": meter_id})
    new_id = await _insert(conn, new, kind=old["kind"], service_id=old["service_id"], account_id=old["account_id"],
                           house_id=old["house_id"], contract_point_id=old["contract_point_id"],
                           replaces_id=meter_id)
    return {"old": await get_meter(conn, meter_id), "new": await get_meter(conn, new_id),
            "final_reading": _outcome(final)}


async def mark_failed(conn: AsyncConnection, meter_id: int, failed_on: date) -> dict[str, Any]:
    """From `failed_on` the meter is out of order (billing uses the average, then the norm)."""
    m = await get_meter(conn, meter_id, lock=True)
    if m["removed_on"] is not None:
        raise Conflict(f"Счётчик № {m['serial']} снят {m['removed_on']:%d.%m.%Y}", field="meter_id")
    if m["failed_on"] is not None:
        raise Conflict(f"Счётчик № {m['serial']} уже отмечен неисправным с {m['failed_on']:%d.%m.%Y}",
                            field="meter_id")
    if failed_on < m["installed_on"]:
        raise Invalid(f"Дата неисправности раньше установки счётчика ({m['installed_on']:%d.%m.%Y})",
                           field="failed_on")
    await ensure_open(conn, failed_on, what=f"неисправность счётчика с {failed_on:%d.%m.%Y}", field="failed_on",
                      meter_id=meter_id)
    await conn.execute(text("UPDATE meters SET failed_on = :d WHERE id = :id"), {"d": failed_on, "id": meter_id})
    return await get_meter(conn, meter_id)


async def update_verification(conn: AsyncConnection, meter_id: int, *, verified_until: date | None = None,
                              seal_number: str | None = None, sealed_on: date | None = None) -> dict[str, Any]:
    """A new verification date and/or a new seal (number and date together); unstated values are kept."""
    m = await get_meter(conn, meter_id, lock=True)
    if verified_until is None and seal_number is None and sealed_on is None:
        raise Invalid("Укажите дату следующей поверки или пломбу", field="verified_until")
    if verified_until is not None and verified_until <= m["installed_on"]:
        raise Invalid("Дата следующей поверки должна быть позже даты установки", field="verified_until")
    if seal_number is not None or sealed_on is not None:
        _check_seal(seal_number, sealed_on, m["installed_on"])
    await conn.execute(text(
        "UPDATE meters SET verified_until = coalesce(:v, verified_until), "
        "seal_number = coalesce(:n, seal_number), sealed_on = coalesce(:s, sealed_on) WHERE id = :id"),
        {"v": verified_until, "n": seal_number.strip() if seal_number else None, "s": sealed_on, "id": meter_id})
    return await get_meter(conn, meter_id)
