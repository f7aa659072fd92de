"""Documents of a request's phases, works done (labour and materials) and the act of completed works,
which for a paid request posts a one-off charge (service `paid_works`) on the account in the open period."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.adjustments import OneOff, create_one_off
from aquabill.billing_core.money import money
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import current_open_period
from aquabill.contact_center.requests.flow import MAX_TEXT, record_event
from aquabill.contact_center.requests.store import OPEN, Outbox, load_request

PAID_SERVICE = ("paid_works", "Платные работы и услуги")
MAX_DOCUMENT = 20 * 1024 * 1024
MAX_MONEY = Decimal("100000000")


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, fields=[{"field": field, "message": message}])


async def add_document(conn: AsyncConnection, request_id: int, *, name: str, file_name: str = "",
                       content: bytes | None = None, note: str = "", by: int | None, now: datetime,
                       out: Outbox) -> dict[str, Any]:
    """Attach a document to the request's current phase (a file, or only a note that it exists on paper)."""
    req = await load_request(conn, request_id, lock=True)
    if req["status"] in ("closed", "cancelled"):
        raise Conflict(f"Заявка {req['number']} закрыта: документы не принимаются")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise _invalid("name", "Укажите название документа (до 200 знаков)")
    if content is not None and len(content) > MAX_DOCUMENT:
        raise _invalid("content", "Файл больше 20 МБ")
    doc_id = (await conn.execute(text(
        "INSERT INTO request_documents(request_id, phase_id, name, file_name, content, note, created_at, created_by) "
        "VALUES (:r, :p, :n, :f, :c, :note, :now, :by) RETURNING id"),
        {"r": request_id, "p": req["phase_id"], "n": name, "f": (file_name or "").strip()[:300], "c": content,
         "note": (note or "").strip()[:MAX_TEXT], "now": now, "by": by})).scalar_one()
    await record_event(conn, request_id, "document", now, user_id=by, phase_id=req["phase_id"], note=name)
    return {"id": doc_id, "request_id": request_id, "phase_id": req["phase_id"], "name": name,
            "file_name": file_name, "size": len(content) if content is not None else None}


async def document_content(conn: AsyncConnection, document_id: int) -> tuple[str, bytes]:
    row = (await conn.execute(text("SELECT file_name, name, content FROM request_documents WHERE id = :d"),
                              {"d": document_id})).first()
    if row is None or row.content is None:
        raise NotFound("Файл документа не найден")
    return row.file_name or row.name, bytes(row.content)


def _dec(raw: Any, field: str, *, places: int = 2) -> Decimal:
    try:
        value = Decimal(str(raw if raw not in (None, "") else 0).replace(",", "."))
    except InvalidOperation as exc:
        raise _invalid(field, "Ожидается число") from exc
    if not value.is_finite() or value < 0 or value >= MAX_MONEY:
        raise _invalid(field, "Число должно быть неотрицательным и меньше 100 000 000")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise _invalid(field, f"Не более {places} знаков после запятой")
    return value


def work_amounts(labour_cost: Decimal, materials: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
    """(materials with their amount = round(quantity × price, 2), materials cost, total) — pure."""
    rows, cost = [], Decimal("0.00")
    for i, m in enumerate(materials):
        name = str(m.get("name") or "").strip()
        if not name:
            raise _invalid(f"materials[{i}].name", "Укажите материал")
        quantity = _dec(m.get("quantity"), f"materials[{i}].quantity", places=3)
        price = _dec(m.get("price"), f"materials[{i}].price")
        amount = money(quantity * price)
        cost += amount
        rows.append({"name": name[:200], "unit": str(m.get("unit") or "шт.")[:20], "quantity": str(quantity),
                     "price": str(price), "amount": str(amount)})
    return rows, cost, money(labour_cost + cost)


async def add_work(conn: AsyncConnection, request_id: int, values: dict[str, Any], *, by: int | None,
                   now: datetime, out: Outbox) -> dict[str, Any]:
    """Record works done: description, labour hours and cost, materials (quantity × price)."""
    req = await load_request(conn, request_id, lock=True)
    if req["status"] not in (*OPEN, "done"):
        raise Conflict(f"Заявка {req['number']} закрыта: работы не добавляются")
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM work_acts WHERE request_id = :r)"),
                           {"r": request_id})).scalar_one():
        raise Conflict("По заявке уже оформлен акт: работы не добавляются")
    description = (values.get("description") or "").strip()
    if not description or len(description) > MAX_TEXT:
        raise _invalid("description", "Опишите выполненные работы")
    hours = _dec(values.get("labour_hours"), "labour_hours")
    labour = _dec(values.get("labour_cost"), "labour_cost")
    materials, materials_cost, total = work_amounts(labour, list(values.get("materials") or []))
    if len(materials) > 200:
        raise _invalid("materials", "Не более 200 строк материалов")
    performed_on = values.get("performed_on") or now.date()
    work_id = (await conn.execute(text(
        "INSERT INTO works(request_id, description, performed_on, labour_hours, labour_cost, materials, "
        "materials_cost, total, created_at, created_by) "
        "VALUES (:r, :d, :on, :h, :l, CAST(:m AS jsonb), :mc, :t, :now, :by) RETURNING id"),
        {"r": request_id, "d": description, "on": performed_on, "h": hours, "l": labour,
         "m": json.dumps(materials, ensure_ascii=False), "mc": materials_cost, "t": total, "now": now,
         "by": by})).scalar_one()
    await record_event(conn, request_id, "work", now, user_id=by, phase_id=req["phase_id"],
                 note=f"{description[:200]}: {total} ₽")
    return {"id": work_id, "request_id": request_id, "description": description, "performed_on": performed_on,
            "labour_hours": hours, "labour_cost": labour, "materials": materials, "materials_cost": materials_cost,
            "total": total}


async def paid_service_id(conn: AsyncConnection) -> int:
    """The service paid works are charged to (`paid_works`, made on first use)."""
    await conn.execute(text(
        "INSERT INTO services(code, name, kind, unit, sort, default_connected) "
        "VALUES (:c, :n, 'other', 'руб.', 900, false) ON CONFLICT (code) DO NOTHING"),
        {"c": PAID_SERVICE[0], "n": PAID_SERVICE[1]})
    return (await conn.execute(text("SELECT id FROM services WHERE code = :c"), {"c": PAID_SERVICE[0]})).scalar_one()


async def make_act(conn: AsyncConnection, request_id: int, *, act_date: date | None = None,
                   period: Period | None = None, account_id: int | None = None, by: int | None, now: datetime,
                   out: Outbox) -> dict[str, Any]:
    """The act of completed works of a done paid request: its amount (the works' total) is charged to the
    account as a one-off charge in the open period (or the given one, unless it is closed)."""
    req = await load_request(conn, request_id, lock=True)
    if req["kind"] != "paid":
        raise Conflict("Акт с начислением оформляется только по платной заявке")
    if req["status"] != "done":
        raise Conflict(f"Заявка {req['number']} ещё не выполнена: акт оформляется после завершения всех этапов")
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM work_acts WHERE request_id = :r)"),
                           {"r": request_id})).scalar_one():
        raise Conflict("Акт по этой заявке уже оформлен")
    account_id = account_id or req["account_id"]
    if account_id is None:
        raise _invalid("account_id", "Укажите лицевой счёт, на который начислить стоимость работ")
    amount = (await conn.execute(text("SELECT coalesce(sum(total), 0) FROM works WHERE request_id = :r"),
                                 {"r": request_id})).scalar_one()
    if amount <= 0:
        raise Conflict("Нет работ с ненулевой стоимостью: сначала внесите выполненные работы")
    act_date = act_date or now.date()
    period = period or await current_open_period(conn)
    number = (await conn.execute(text("SELECT 'А-' || lpad(nextval('work_act_numbers')::text, 6, '0')"))).scalar_one()
    charge = await create_one_off(conn, OneOff(
        period=period, service_id=await paid_service_id(conn), basis="account", account_id=account_id,
        total=money(amount), note=f"Акт № {number} от {act_date:%d.%m.%Y} по заявке {req['number']}"))
    act_id = (await conn.execute(text(
        "INSERT INTO work_acts(request_id, number, act_date, amount, account_id, period, one_off_id, created_at, "
        "created_by) VALUES (:r, :n, :d, :a, :acc, :p, :o, :now, :by) RETURNING id"),
        {"r": request_id, "n": number, "d": act_date, "a": amount, "acc": account_id, "p": period.first_day,
         "o": charge["id"], "now": now, "by": by})).scalar_one()
    await record_event(conn, request_id, "act", now, user_id=by, note=f"Акт № {number} на {amount} ₽, период {period}")
    return {"id": act_id, "request_id": request_id, "number": number, "act_date": act_date, "amount": amount,
            "account_id": account_id, "period": str(period), "one_off_id": charge["id"]}
