"""The life of a request: creation (directly or from an appeal), assignment (automatic by division and
territory with caps, or by hand), acceptance, phases of its route with SLA deadlines, completion, closing,
cancelling; and the timers: reassignment when the assignee does not react in time, overdue marking and
escalation up the divisions' heads.

Every function takes `now` (no wall clock inside: the API passes the current time, tests explicit times)
and an Outbox collecting the real-time events to publish after commit. Services never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.contact_center.requests.assignment import Candidate, choose_executor
from aquabill.contact_center.requests.setup import check_kind, document_names, require_user
from aquabill.contact_center.requests.sla import (
    WORKING_HOURS,
    escalation_level_due,
    phase_deadline,
    reaction_deadline,
)
from aquabill.contact_center.requests.store import OPEN, STATUSES, Outbox, load_request
from aquabill.contact_center.work_calendar import working_hours

MAX_TEXT = 4000


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, fields=[{"field": field, "message": message}])


async def record_event(conn: AsyncConnection, request_id: int, kind: str, now: datetime, *, user_id: int | None = None,
                 to_user_id: int | None = None, phase_id: int | None = None, note: str = "") -> None:
    await conn.execute(text(
        "INSERT INTO request_events(request_id, kind, at, user_id, to_user_id, phase_id, note) "
        "VALUES (:r, :k, :at, :u, :t, :p, :n)"),
        {"r": request_id, "k": kind, "at": now, "u": user_id, "t": to_user_id, "p": phase_id, "n": note})


async def _phase(conn: AsyncConnection, phase_id: int | None) -> dict[str, Any] | None:
    if phase_id is None:
        return None
    row = (await conn.execute(text("SELECT * FROM route_phases WHERE id = :i"), {"i": phase_id})).first()
    return dict(row._mapping) if row else None


async def candidates(conn: AsyncConnection, division_id: int) -> list[Candidate]:
    """The executors of a division with their territory and current load (open requests assigned)."""
    rows = await conn.execute(text("""
        SELECT e.user_id, e.division_id, e.cap, e.active AND u.is_active AS active,
               (SELECT count(*) FROM requests r WHERE r.assignee_user_id = e.user_id
                 AND r.status IN ('assigned', 'in_work')) AS load,
               coalesce((SELECT array_agg(house_id) FROM executor_territories t
                         WHERE t.executor_id = e.id AND house_id IS NOT NULL), '{}') AS houses,
               coalesce((SELECT array_agg(street_id) FROM executor_territories t
                         WHERE t.executor_id = e.id AND street_id IS NOT NULL), '{}') AS streets
        FROM executors e JOIN users u ON u.id = e.user_id WHERE e.division_id = :d"""), {"d": division_id})
    return [Candidate(user_id=r.user_id, division_id=r.division_id, cap=r.cap, load=r.load, active=r.active,
                      houses=frozenset(r.houses), streets=frozenset(r.streets)) for r in rows]


async def _street_of(conn: AsyncConnection, house_id: int | None) -> int | None:
    if house_id is None:
        return None
    return (await conn.execute(text("SELECT street_id FROM houses WHERE id = :h"), {"h": house_id})).scalar()


async def _set_assignee(conn: AsyncConnection, req: dict[str, Any], user_id: int, now: datetime,
                        reaction_minutes: int | None, *, by: int | None, kind: str, out: Outbox,
                        division_id: int | None = None, note: str = "") -> dict[str, Any]:
    previous = req["assignee_user_id"]
    if division_id is None:
        division_id = (await conn.execute(text("SELECT division_id FROM executors WHERE user_id = :u"),
                                          {"u": user_id})).scalar() or req["division_id"]
    await conn.execute(text(
        "UPDATE requests SET assignee_user_id = :u, division_id = :d, assigned_at = :now, accepted_at = NULL, "
        "reaction_deadline = :rd, status = 'assigned' WHERE id = :i"),
        {"u": user_id, "d": division_id, "now": now, "rd": reaction_deadline(now, reaction_minutes), "i": req["id"]})
    await record_event(conn, req["id"], kind, now, user_id=by, to_user_id=user_id, phase_id=req["phase_id"], note=note)
    fresh = await load_request(conn, req["id"])
    out.add("request.assigned", fresh, previous_assignee_user_id=previous, reassigned=kind == "reassigned")
    return fresh


async def _auto_assign(conn: AsyncConnection, req: dict[str, Any], phase: dict[str, Any] | None, now: datetime,
                       out: Outbox, *, by: int | None, exclude: frozenset[int] = frozenset(),
                       kind: str = "assigned") -> dict[str, Any] | None:
    """Assign by the phase's rule (a person, or the best candidate of a division); None when nobody fits."""
    reaction = phase["reaction_minutes"] if phase else None
    if phase and phase["executor_user_id"] is not None and phase["executor_user_id"] not in exclude:
        return await _set_assignee(conn, req, phase["executor_user_id"], now, reaction, by=by, kind=kind, out=out)
    division_id = (phase or {}).get("division_id") or req["division_id"]
    if division_id is None:
        return None
    chosen = choose_executor(await candidates(conn, division_id), division_id=division_id, house_id=req["house_id"],
                             street_id=await _street_of(conn, req["house_id"]), exclude=exclude)
    if chosen is None:
        return None
    return await _set_assignee(conn, req, chosen.user_id, now, reaction, by=by, kind=kind, out=out,
                               division_id=division_id)


async def _enter_phase(conn: AsyncConnection, req: dict[str, Any], phase: dict[str, Any], now: datetime,
                       out: Outbox, *, by: int | None) -> dict[str, Any]:
    # working time: the tenant's zone, hours and calendar (sla.WorkingHours, work_calendar.working_hours)
    hours = await working_hours(conn, now) if phase["working_time"] else WORKING_HOURS
    deadline = phase_deadline(now, phase["time_limit_minutes"], working_time=phase["working_time"], hours=hours)
    await conn.execute(text(
        "UPDATE requests SET phase_id = :p, phase_started_at = :now, phase_deadline = :dl, overdue_at = NULL, "
        "escalation_level = 0, escalated_at = NULL, escalated_to_user_id = NULL, "
        "division_id = coalesce(CAST(:d AS int), division_id) WHERE id = :i"),
        {"p": phase["id"], "now": now, "dl": deadline, "d": phase["division_id"], "i": req["id"]})
    await record_event(conn, req["id"], "phase", now, user_id=by, phase_id=phase["id"], note=phase["name"])
    req = await load_request(conn, req["id"])
    out.add("request.phase", req)
    keeps = req["assignee_user_id"] is not None and phase["executor_user_id"] is None and phase["division_id"] is None
    if keeps:  # the phase names nobody: the current executor carries on
        return req
    assigned = await _auto_assign(conn, req, phase, now, out, by=by)
    if assigned is not None:
        return assigned
    await conn.execute(text("UPDATE requests SET status = 'new', assignee_user_id = NULL, reaction_deadline = NULL, "
                            "accepted_at = NULL WHERE id = :i"), {"i": req["id"]})
    await record_event(conn, req["id"], "unassigned", now, user_id=by, phase_id=phase["id"],
                 note="Нет свободного исполнителя: назначьте вручную")
    return await load_request(conn, req["id"])


async def _first_phase(conn: AsyncConnection, route_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(text("SELECT * FROM route_phases WHERE route_id = :r ORDER BY ordinal LIMIT 1"),
                              {"r": route_id})).first()
    return dict(row._mapping) if row else None


async def create_request(conn: AsyncConnection, values: dict[str, Any], *, by: int | None, now: datetime,
                         out: Outbox) -> dict[str, Any]:
    """A new request: directly (kind, description, account or house or address) or from an appeal
    (`appeal_id`). The route is the given one or the first active route of the kind; its first phase starts
    now and the request is assigned automatically when the phase names an executor or a division."""
    kind = check_kind(values.get("kind") or "")
    description = (values.get("description") or "").strip()
    appeal_id = values.get("appeal_id")
    if not description:
        if appeal_id is None:
            raise _invalid("description", "Опишите, что нужно сделать")
        description = f"По обращению № {appeal_id}"
    address = (values.get("address_text") or "").strip()
    if len(description) > MAX_TEXT or len(address) > 500:
        raise _invalid("description", f"Описание — до {MAX_TEXT} знаков, адрес — до 500")
    account_id, house_id = values.get("account_id"), values.get("house_id")
    if account_id is not None:
        found = (await conn.execute(text(
            "SELECT p.house_id FROM accounts a JOIN premises p ON p.id = a.premise_id WHERE a.id = :a"),
            {"a": account_id})).first()
        if found is None:
            raise NotFound("Лицевой счёт не найден", fields=[{"field": "account_id", "message": "не найден"}])
        if house_id is not None and house_id != found.house_id:
            raise _invalid("house_id", "Дом не совпадает с домом лицевого счёта")
        house_id = found.house_id
    elif house_id is not None and not (await conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM houses WHERE id = :h)"), {"h": house_id})).scalar_one():
        raise NotFound("Дом не найден", fields=[{"field": "house_id", "message": "не найден"}])
    # the house's division (t0007) until a phase names one
    division_id = (await conn.execute(text("SELECT division_id FROM houses WHERE id = :h"), {"h": house_id})).scalar() \
        if house_id is not None else None
    if account_id is None and house_id is None and not address:
        raise _invalid("address_text", "Укажите лицевой счёт, дом или адрес")
    route_id = values.get("route_id")
    if route_id is not None:
        route = (await conn.execute(text("SELECT kind, active FROM request_routes WHERE id = :r"),
                                    {"r": route_id})).first()
        if route is None:
            raise NotFound("Маршрут не найден", fields=[{"field": "route_id", "message": "не найден"}])
        if route.kind != kind or not route.active:
            raise _invalid("route_id", "Маршрут отключён или предназначен для заявок другого вида")
    else:
        route_id = (await conn.execute(text(
            "SELECT id FROM request_routes WHERE kind = :k AND active ORDER BY id LIMIT 1"), {"k": kind})).scalar()
    request_id = (await conn.execute(text(
        "INSERT INTO requests(kind, route_id, appeal_id, account_id, house_id, division_id, address_text, description, "
        "created_at, created_by) VALUES (:k, :r, :ap, :a, :h, :div, :addr, :d, :now, :by) RETURNING id"),
        {"k": kind, "r": route_id, "ap": appeal_id, "a": account_id, "h": house_id, "div": division_id,
         "addr": address, "d": description, "now": now, "by": by})).scalar_one()
    await record_event(conn, request_id, "created", now, user_id=by,
                 note=f"Из обращения № {appeal_id}" if appeal_id is not None else "")
    req = await load_request(conn, request_id)
    out.add("request.created", req, appeal_id=appeal_id)
    phase = await _first_phase(conn, route_id) if route_id is not None else None
    if phase is not None:
        req = await _enter_phase(conn, req, phase, now, out, by=by)
    return req


def _require_status(req: dict[str, Any], allowed: tuple[str, ...], action: str) -> None:
    if req["status"] not in allowed:
        raise Conflict(f"Заявка {req['number']} в статусе «{STATUSES.get(req['status'], req['status'])}»: "
                       f"{action} невозможно")


async def assign(conn: AsyncConnection, request_id: int, user_id: int, *, by: int | None, now: datetime,
                 out: Outbox) -> dict[str, Any]:
    """Assign by hand (any active user; the cap is not applied to a manual assignment)."""
    req = await load_request(conn, request_id, lock=True)
    _require_status(req, OPEN, "назначение")
    await require_user(conn, user_id)
    phase = await _phase(conn, req["phase_id"])
    kind = "reassigned" if req["assignee_user_id"] is not None else "assigned"
    return await _set_assignee(conn, req, user_id, now, phase["reaction_minutes"] if phase else None, by=by,
                               kind=kind, out=out)


async def accept(conn: AsyncConnection, request_id: int, *, by: int, now: datetime, out: Outbox) -> dict[str, Any]:
    """The assignee accepts the request (stops the reaction timer)."""
    req = await load_request(conn, request_id, lock=True)
    _require_status(req, ("assigned",), "принятие в работу")
    if req["assignee_user_id"] != by:
        raise Conflict("Принять заявку может только назначенный исполнитель")
    await conn.execute(text("UPDATE requests SET status = 'in_work', accepted_at = :now, reaction_deadline = NULL "
                            "WHERE id = :i"), {"now": now, "i": request_id})
    await record_event(conn, request_id, "accepted", now, user_id=by, phase_id=req["phase_id"])
    return await load_request(conn, request_id)


async def missing_documents(conn: AsyncConnection, req: dict[str, Any]) -> list[str]:
    phase = await _phase(conn, req["phase_id"])
    if phase is None:
        return []
    attached = {r[0] for r in await conn.execute(text(
        "SELECT name FROM request_documents WHERE request_id = :r AND phase_id = :p"),
        {"r": req["id"], "p": req["phase_id"]})}
    return [n for n in document_names(phase["required_documents"]) if n not in attached]


async def advance(conn: AsyncConnection, request_id: int, *, by: int | None, now: datetime,
                  out: Outbox) -> dict[str, Any]:
    """Complete the current phase: the next phase starts, or after the last one the request is done.
    Refused while a required document of the phase is missing."""
    req = await load_request(conn, request_id, lock=True)
    _require_status(req, OPEN, "переход к следующему этапу")
    missing = await missing_documents(conn, req)
    if missing:
        raise Invalid(f"Этап «{req['phase_name']}» нельзя завершить: не приложены обязательные документы: "
                      + ", ".join(f"«{m}»" for m in missing), code="documents_missing",
                      fields=[{"field": "documents", "message": "не приложены: " + ", ".join(missing)}])
    nxt = None
    if req["phase_id"] is not None:
        row = (await conn.execute(text(
            "SELECT * FROM route_phases WHERE route_id = :r AND ordinal > :o ORDER BY ordinal LIMIT 1"),
            {"r": req["route_id"], "o": req["phase_ordinal"]})).first()
        nxt = dict(row._mapping) if row else None
    if nxt is not None:
        return await _enter_phase(conn, req, nxt, now, out, by=by)
    await conn.execute(text("UPDATE requests SET status = 'done', reaction_deadline = NULL WHERE id = :i"),
                       {"i": request_id})
    await record_event(conn, request_id, "done", now, user_id=by, phase_id=req["phase_id"])
    req = await load_request(conn, request_id)
    out.add("request.phase", req, done=True)
    return req


async def close(conn: AsyncConnection, request_id: int, *, by: int | None, now: datetime, note: str = "",
                out: Outbox) -> dict[str, Any]:
    """Close a done request; a paid request needs its act of completed works first."""
    req = await load_request(conn, request_id, lock=True)
    _require_status(req, ("done",), "закрытие")
    if req["kind"] == "paid" and not (await conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM work_acts WHERE request_id = :r)"), {"r": request_id})).scalar_one():
        raise Conflict("Платную заявку можно закрыть только после акта выполненных работ")
    await conn.execute(text("UPDATE requests SET status = 'closed', closed_at = :now WHERE id = :i"),
                       {"now": now, "i": request_id})
    await record_event(conn, request_id, "closed", now, user_id=by, note=note.strip()[:MAX_TEXT])
    req = await load_request(conn, request_id)
    out.add("request.phase", req, closed=True)
    return req


async def cancel(conn: AsyncConnection, request_id: int, *, by: int | None, now: datetime, note: str = "",
                 out: Outbox) -> dict[str, Any]:
    req = await load_request(conn, request_id, lock=True)
    _require_status(req, OPEN, "отмена")
    if not note.strip():
        raise _invalid("note", "Укажите причину отмены")
    await conn.execute(text("UPDATE requests SET status = 'cancelled', closed_at = :now, reaction_deadline = NULL "
                            "WHERE id = :i"), {"now": now, "i": request_id})
    await record_event(conn, request_id, "cancelled", now, user_id=by, note=note.strip()[:MAX_TEXT])
    req = await load_request(conn, request_id)
    out.add("request.phase", req, cancelled=True)
    return req


# ---- timers ------------------------------------------------------------------------------------------

async def _escalation_target(conn: AsyncConnection, division_id: int | None, level: int) -> tuple[int, int] | None:
    """(level reached, head user id): level 1 is the division's head, 2 its parent's head …; the highest level
    that has a head, up to `level`; None without any."""
    best, current, n = None, division_id, 0
    while current is not None and n < level:
        row = (await conn.execute(text("SELECT head_user_id, parent_id FROM divisions WHERE id = :i"),
                                  {"i": current})).first()
        if row is None:
            break
        n += 1
        if row.head_user_id is not None:
            best = (n, row.head_user_id)
        current = row.parent_id
    return best


async def _reassign_silent(conn: AsyncConnection, request_id: int, now: datetime, out: Outbox) -> None:
    req = await load_request(conn, request_id, lock=True)
    if req["status"] != "assigned" or req["reaction_deadline"] is None or req["reaction_deadline"] > now:
        return
    phase = await _phase(conn, req["phase_id"])
    tried = frozenset(r[0] for r in await conn.execute(text(
        "SELECT to_user_id FROM request_events WHERE request_id = :r AND kind IN ('assigned', 'reassigned') "
        "AND phase_id IS NOT DISTINCT FROM :p AND to_user_id IS NOT NULL"), {"r": request_id, "p": req["phase_id"]}))
    silent = req["assignee_user_id"]
    found = await _auto_assign(conn, req, phase, now, out, by=None, exclude=tried | {silent}, kind="reassigned")
    if found is None:  # nobody else: the silent assignee keeps it, the timer stops (escalation follows the SLA)
        await conn.execute(text("UPDATE requests SET reaction_deadline = NULL WHERE id = :i"), {"i": request_id})
        await record_event(conn, request_id, "no_reaction", now, to_user_id=silent, phase_id=req["phase_id"],
                     note="Исполнитель не принял заявку вовремя; другого свободного исполнителя нет")


async def _check_deadline(conn: AsyncConnection, request_id: int, now: datetime, out: Outbox) -> None:
    req = await load_request(conn, request_id, lock=True)
    if req["status"] not in OPEN or req["phase_deadline"] is None or req["phase_deadline"] > now:
        return
    if req["overdue_at"] is None:
        await conn.execute(text("UPDATE requests SET overdue_at = :now WHERE id = :i"), {"now": now, "i": request_id})
        await record_event(conn, request_id, "overdue", now, to_user_id=req["assignee_user_id"], phase_id=req["phase_id"])
        out.add("request.overdue", req)
    phase = await _phase(conn, req["phase_id"])
    due = escalation_level_due(req["phase_deadline"], phase["time_limit_minutes"] if phase else 60, now)
    if due <= req["escalation_level"]:
        return
    target = await _escalation_target(conn, req["division_id"], due)
    if target is None or target[0] <= req["escalation_level"]:
        return
    level, head = target
    await conn.execute(text("UPDATE requests SET escalation_level = :l, escalated_at = :now, "
                            "escalated_to_user_id = :h WHERE id = :i"),
                       {"l": level, "now": now, "h": head, "i": request_id})
    await record_event(conn, request_id, "escalated", now, to_user_id=head, phase_id=req["phase_id"],
                 note=f"Уровень эскалации {level}: срок этапа нарушен")
    out.add("request.escalated", await load_request(conn, request_id), escalated_to_user_id=head, level=level)


async def process_timers(conn: AsyncConnection, now: datetime, out: Outbox) -> dict[str, int]:
    """One pass of the timers at `now`: reassign silent assignees, mark overdue phases and escalate."""
    silent = [r[0] for r in await conn.execute(text(
        "SELECT id FROM requests WHERE status = 'assigned' AND reaction_deadline <= :now ORDER BY id"), {"now": now})]
    for request_id in silent:
        await _reassign_silent(conn, request_id, now, out)
    # not marked overdue yet, or due for a further escalation level (see sla.escalation_level_due)
    late = [r[0] for r in await conn.execute(text(
        "SELECT r.id FROM requests r LEFT JOIN route_phases p ON p.id = r.phase_id "
        "WHERE r.status IN ('new', 'assigned', 'in_work') AND r.phase_deadline <= :now "
        "AND (r.overdue_at IS NULL OR r.division_id IS NOT NULL AND 1 + floor(extract(epoch FROM :now - r.phase_deadline) "
        "/ (60 * coalesce(p.time_limit_minutes, 60))) > r.escalation_level) ORDER BY r.id"), {"now": now})]
    before = len(out.events)
    for request_id in late:
        await _check_deadline(conn, request_id, now, out)
    return {"reaction_checked": len(silent), "deadline_checked": len(late), "events": len(out.events) - before}
