"""Queries of requests: one request's row, lists with filters, the card (journal, documents, works, act)
and the shape of the real-time events about a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import NotFound
from aquabill.contact_center.requests.setup import document_names
from aquabill.contact_center.requests.sla import remaining_seconds, sla_state

STATUSES = {"new": "Новая", "assigned": "Назначена", "in_work": "В работе", "done": "Выполнена",
            "closed": "Закрыта", "cancelled": "Отменена"}
OPEN = ("new", "assigned", "in_work")
EVENT_KINDS = {"created": "Создана", "assigned": "Назначена", "reassigned": "Переназначена",
               "accepted": "Принята в работу", "phase": "Этап", "overdue": "Просрочена", "escalated": "Эскалация",
               "document": "Документ", "work": "Работы", "act": "Акт", "done": "Выполнена", "closed": "Закрыта",
               "cancelled": "Отменена", "unassigned": "Без исполнителя", "no_reaction": "Нет реакции"}


@dataclass
class Outbox:
    """Real-time events to publish once the transaction has committed: (type, data)."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add(self, event_type: str, row: dict[str, Any], **extra: Any) -> None:
        self.events.append((event_type, {**event_data(row), **extra}))


def event_data(row: dict[str, Any]) -> dict[str, Any]:
    deadline = row.get("phase_deadline")
    return {"id": row["id"], "number": row["number"], "kind": row["kind"], "status": row["status"],
            "assignee_user_id": row.get("assignee_user_id"), "phase_id": row.get("phase_id"),
            "phase": row.get("phase_name"), "deadline": deadline.isoformat() if deadline else None,
            "escalation_level": row.get("escalation_level", 0)}


_COLS = """r.id, r.number, r.kind, r.route_id, rt.name AS route_name, r.phase_id, p.name AS phase_name,
    p.ordinal AS phase_ordinal, r.status, r.appeal_id, r.account_id, a.number AS account_number, r.house_id,
    r.address_text, r.description, r.assignee_user_id, u.full_name AS assignee_name, u.login AS assignee_login,
    r.division_id, d.name AS division_name, r.assigned_at, r.reaction_deadline, r.accepted_at, r.phase_started_at,
    r.phase_deadline, r.overdue_at, r.escalation_level, r.escalated_at, r.escalated_to_user_id, r.created_at,
    r.created_by, r.closed_at"""
_FROM = """requests r LEFT JOIN request_routes rt ON rt.id = r.route_id LEFT JOIN route_phases p ON p.id = r.phase_id
    LEFT JOIN accounts a ON a.id = r.account_id LEFT JOIN users u ON u.id = r.assignee_user_id
    LEFT JOIN divisions d ON d.id = r.division_id"""


def with_sla(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    active = row["status"] in OPEN
    deadline = row["phase_deadline"] if active else None
    row["sla_remaining_seconds"] = remaining_seconds(deadline, now)
    # marked overdue by the timers (at their time) counts as overdue too
    marked = active and row["overdue_at"] is not None
    row["sla_state"] = "overdue" if marked else sla_state(row["phase_started_at"], deadline, now)
    row["overdue"] = row["sla_state"] == "overdue"
    return row


async def load_request(conn: AsyncConnection, request_id: int, *, lock: bool = False) -> dict[str, Any]:
    if lock:
        await conn.execute(text("SELECT 1 FROM requests WHERE id = :i FOR UPDATE"), {"i": request_id})
    row = (await conn.execute(text(f"SELECT {_COLS} FROM {_FROM} WHERE r.id = :i"), {"i": request_id})).first()
    if row is None:
        raise NotFound("Заявка не найдена", fields=[{"field": "request_id", "message": "не найдена"}])
    return dict(row._mapping)


@dataclass(frozen=True, slots=True)
class RequestFilter:
    status: str | None = None
    kind: str | None = None
    assignee_user_id: int | None = None
    house_id: int | None = None
    account_id: int | None = None
    overdue_only: bool = False
    created_from: date | None = None
    created_to: date | None = None
    q: str = ""


async def list_requests(conn: AsyncConnection, f: RequestFilter, now: datetime, *, limit: int = 50,
                        offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Requests, newest first (overdue ones first when `overdue_only`)."""
    where, params = ["true"], {"now": now, "l": limit, "o": offset}
    for key, col in (("status", "r.status"), ("kind", "r.kind"), ("assignee_user_id", "r.assignee_user_id"),
                     ("house_id", "r.house_id"), ("account_id", "r.account_id")):
        value = getattr(f, key)
        if value is not None:
            where.append(f"{col} = :{key}")
            params[key] = value
    if f.overdue_only:
        where.append("r.status IN ('new', 'assigned', 'in_work') AND (r.phase_deadline <= :now OR r.overdue_at IS NOT NULL)")
    if f.created_from is not None:
        where.append("r.created_at >= CAST(:df AS date)")
        params["df"] = f.created_from
    if f.created_to is not None:
        where.append("r.created_at < CAST(:dt AS date) + 1")
        params["dt"] = f.created_to
    if f.q.strip():
        where.append("(r.number ILIKE :q OR r.description ILIKE :q OR r.address_text ILIKE :q)")
        params["q"] = f"%{f.q.strip()}%"
    cond = " AND ".join(where)
    order = "r.phase_deadline, r.id" if f.overdue_only else "r.id DESC"
    rows = await conn.execute(text(f"SELECT {_COLS} FROM {_FROM} WHERE {cond} ORDER BY {order} LIMIT :l OFFSET :o"),
                              params)
    total = (await conn.execute(text(f"SELECT count(*) FROM requests r WHERE {cond}"), params)).scalar_one()
    return [with_sla(dict(r._mapping), now) for r in rows], total


async def my_requests(conn: AsyncConnection, user_id: int, now: datetime) -> list[dict[str, Any]]:
    """The open requests assigned to the user, the nearest deadline first (for the live console)."""
    rows = await conn.execute(text(
        f"SELECT {_COLS} FROM {_FROM} WHERE r.assignee_user_id = :u AND r.status IN ('assigned', 'in_work') "
        "ORDER BY r.phase_deadline NULLS LAST, r.id LIMIT 500"), {"u": user_id})
    return [with_sla(dict(r._mapping), now) for r in rows]


async def request_card(conn: AsyncConnection, request_id: int, now: datetime) -> dict[str, Any]:
    """The request with its journal, documents (without their content), works, act and the current phase's
    required documents (with whether each is attached)."""
    req = with_sla(await load_request(conn, request_id), now)
    req["events"] = [dict(r._mapping) for r in await conn.execute(text(
        "SELECT e.id, e.kind, e.at, e.user_id, uu.full_name AS user_name, e.to_user_id, tu.full_name AS to_user_name, "
        "e.phase_id, e.note FROM request_events e LEFT JOIN users uu ON uu.id = e.user_id "
        "LEFT JOIN users tu ON tu.id = e.to_user_id WHERE e.request_id = :i ORDER BY e.id"), {"i": request_id})]
    req["documents"] = [dict(r._mapping) for r in await conn.execute(text(
        "SELECT id, phase_id, name, file_name, octet_length(content) AS size, note, created_at, created_by "
        "FROM request_documents WHERE request_id = :i ORDER BY id"), {"i": request_id})]
    req["works"] = [dict(r._mapping) for r in await conn.execute(text(
        "SELECT id, description, performed_on, labour_hours, labour_cost, materials, materials_cost, total, "
        "created_at, created_by FROM works WHERE request_id = :i ORDER BY id"), {"i": request_id})]
    req["works_total"] = sum((w["total"] for w in req["works"]), start=0)
    act = (await conn.execute(text(
        "SELECT w.id, w.number, w.act_date, w.amount, w.account_id, to_char(w.period, 'YYYY-MM') AS period, "
        "w.one_off_id, w.created_at FROM work_acts w WHERE w.request_id = :i"), {"i": request_id})).first()
    req["act"] = dict(act._mapping) if act else None
    required: list[dict[str, Any]] = []
    if req["phase_id"] is not None:
        raw = (await conn.execute(text("SELECT required_documents FROM route_phases WHERE id = :p"),
                                  {"p": req["phase_id"]})).scalar_one()
        attached = {d["name"] for d in req["documents"] if d["phase_id"] == req["phase_id"]}
        required = [{"name": n, "attached": n in attached} for n in document_names(raw)]
    req["required_documents"] = required
    return req


async def requests_of_appeal(conn: AsyncConnection, appeal_id: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await conn.execute(text(
        "SELECT id, number, status FROM requests WHERE appeal_id = :a ORDER BY id"), {"a": appeal_id})]
