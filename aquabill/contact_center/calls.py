"""Queries of the telephony tables (`ami_connections`, `calls`) in the current tenant transaction."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.registry.phones import normalise_phone
from aquabill.contact_center.call_record import CallRecord

CONNECTION_COLS = "host, port, username, enabled, technology, originate_context, updated_at, updated_by"
CALL_COLS = ("c.id, c.linkedid, c.uniqueid, c.direction, c.caller, c.caller_normalised, c.called, c.queue, "
             "c.agent_extension, c.started_at, c.answered_at, c.ended_at, c.duration_s, c.wait_s, c.status, "
             "c.hangup_cause, c.recording, c.account_id, c.callback_of, c.created_by, "
             "a.number AS account_number, a.holder AS account_holder")


async def get_connection(conn: AsyncConnection, *, with_secret: bool = False) -> dict[str, Any] | None:
    cols = CONNECTION_COLS + (", secret_encrypted" if with_secret else "")
    row = (await conn.execute(text(f"SELECT {cols} FROM ami_connections WHERE id = 1"))).mappings().first()
    return dict(row) if row else None


async def save_connection(conn: AsyncConnection, values: dict[str, Any], user_id: int | None) -> None:
    """Insert or update the single row; `secret_encrypted` is changed only when given."""
    cols = ["host", "port", "username", "enabled", "technology", "originate_context"]
    if "secret_encrypted" in values:
        cols.append("secret_encrypted")
    params = {c: values[c] for c in cols} | {"user_id": user_id}
    await conn.execute(text(
        f"INSERT INTO ami_connections(id, {', '.join(cols)}, updated_by) "
        f"VALUES (1, {', '.join(':' + c for c in cols)}, :user_id) "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in cols)}, "
        "updated_by = EXCLUDED.updated_by, updated_at = now()"), params)


_UPSERT = text("""
INSERT INTO calls(linkedid, uniqueid, direction, caller, caller_normalised, called, queue, agent_extension,
                  started_at, answered_at, ended_at, duration_s, wait_s, status, hangup_cause, recording, account_id)
VALUES (:linkedid, :uniqueid, :direction, :caller, :caller_normalised, :called, :queue, :agent_extension,
        :started_at, :answered_at, :ended_at, :duration_s, :wait_s, :status, :hangup_cause, :recording, :account_id)
ON CONFLICT (linkedid) DO UPDATE SET
  queue = coalesce(EXCLUDED.queue, calls.queue),
  agent_extension = coalesce(calls.agent_extension, EXCLUDED.agent_extension),
  answered_at = coalesce(calls.answered_at, EXCLUDED.answered_at),
  ended_at = coalesce(calls.ended_at, EXCLUDED.ended_at),
  duration_s = CASE WHEN calls.ended_at IS NULL AND EXCLUDED.ended_at IS NOT NULL
                    THEN round(extract(epoch FROM EXCLUDED.ended_at - calls.started_at))::int
                    ELSE calls.duration_s END,
  wait_s = CASE WHEN calls.status = 'in_progress' AND coalesce(EXCLUDED.answered_at, EXCLUDED.ended_at) IS NOT NULL
                THEN round(extract(epoch FROM coalesce(calls.answered_at, EXCLUDED.answered_at, EXCLUDED.ended_at)
                                              - calls.started_at))::int
                ELSE calls.wait_s END,
  status = CASE WHEN calls.status = 'in_progress' THEN EXCLUDED.status ELSE calls.status END,
  hangup_cause = coalesce(calls.hangup_cause, EXCLUDED.hangup_cause),
  recording = coalesce(EXCLUDED.recording, calls.recording)
RETURNING id, account_id, direction, caller, caller_normalised, called, started_at, status, duration_s, wait_s
""")


async def upsert_call(conn: AsyncConnection, r: CallRecord, *, caller_normalised: str | None,
                      account_id: int | None) -> dict[str, Any]:
    """Write what is known of a call; the first version of each fact wins (a repeated event changes nothing),
    the times of an outbound call pre-created by click-to-call stay those of the request."""
    row = (await conn.execute(_UPSERT, {
        "linkedid": r.linkedid, "uniqueid": r.uniqueid, "direction": r.direction, "caller": r.caller,
        "caller_normalised": caller_normalised, "called": r.called, "queue": r.queue,
        "agent_extension": r.agent_extension, "started_at": r.started_at, "answered_at": r.answered_at,
        "ended_at": r.ended_at, "duration_s": r.duration_s, "wait_s": r.wait_s,
        "status": r.status if r.ended_at else "in_progress", "hangup_cause": r.hangup_cause,
        "recording": r.recording, "account_id": account_id,
    })).mappings().one()
    return dict(row)


async def insert_outbound(conn: AsyncConnection, *, call_ref: str, extension: str, number: str,
                          number_normalised: str | None, account_id: int | None, callback_of: int | None,
                          user_id: int | None) -> int:
    return (await conn.execute(text(
        "INSERT INTO calls(linkedid, uniqueid, direction, caller, called, caller_normalised, agent_extension, "
        "started_at, status, account_id, callback_of, created_by) "
        "VALUES (:ref, :ref2, 'outbound', :caller, :number, :norm, :ext, now(), 'in_progress', :account_id, "
        ":callback_of, :user_id) RETURNING id"),
        {"ref": call_ref, "ref2": call_ref, "caller": extension, "ext": extension, "number": number, "norm": number_normalised,
         "account_id": account_id, "callback_of": callback_of, "user_id": user_id})).scalar_one()


_LOSE = text("""
WITH lost AS (
  SELECT id, greatest(started_at, answered_at, CAST(CAST(:seen AS jsonb) ->> linkedid AS timestamptz)) AS ended
  FROM calls WHERE status = 'in_progress' AND ended_at IS NULL
   AND started_at <= coalesce(CAST(:before AS timestamptz), 'infinity') FOR UPDATE)
UPDATE calls c SET status = 'lost', ended_at = lost.ended,
  duration_s = round(extract(epoch FROM lost.ended - c.started_at))::int,
  wait_s = coalesce(c.wait_s, round(extract(epoch FROM coalesce(c.answered_at, lost.ended) - c.started_at))::int),
  hangup_cause = coalesce(c.hangup_cause, :cause)
FROM lost WHERE c.id = lost.id
RETURNING c.id, c.linkedid, c.account_id, c.status, c.ended_at, c.duration_s, c.wait_s, c.agent_extension, c.recording
""")
LOST_CAUSE = "Связь с АТС потеряна"


async def lose_calls(conn: AsyncConnection, *, last_seen: dict[str, datetime],
                     started_before: datetime | None = None) -> list[dict[str, Any]]:
    """Calls still ringing or in progress when the link to the PBX was lost (their end will never be seen):
    status 'lost', ended at the last event the link received for the call (`last_seen`: linkedid → time),
    never before the call's start or answer."""
    seen = json.dumps({k: v.isoformat() for k, v in last_seen.items()})
    rows = (await conn.execute(_LOSE, {"seen": seen, "before": started_before,
                                       "cause": LOST_CAUSE})).mappings().all()
    return [dict(r) for r in rows]


def _call(row) -> dict[str, Any]:
    d = dict(row)
    number, holder = d.pop("account_number"), d.pop("account_holder")
    d["account"] = {"id": d["account_id"], "number": number, "holder": holder} if d["account_id"] else None
    return d


async def get_call(conn: AsyncConnection, call_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(text(
        f"SELECT {CALL_COLS} FROM calls c LEFT JOIN accounts a ON a.id = c.account_id WHERE c.id = :id"),
        {"id": call_id})).mappings().first()
    return _call(row) if row else None


async def list_calls(conn: AsyncConnection, *, date_from: date | None = None, date_to: date | None = None,
                     status: str | None = None, agent: str | None = None, number: str | None = None,
                     account_id: int | None = None, direction: str | None = None, limit: int = 50,
                     offset: int = 0, zone: str = "Europe/Moscow") -> tuple[list[dict[str, Any]], int]:
    """The call journal, newest first. Dates are local days (the app's time zone), `to` inclusive."""
    where, params = [], {"zone": zone, "limit": limit, "offset": offset}
    if date_from is not None:
        where.append("c.started_at >= (CAST(:date_from AS timestamp) AT TIME ZONE :zone)")
        params["date_from"] = datetime.combine(date_from, datetime.min.time())
    if date_to is not None:
        where.append("c.started_at < (CAST(:date_to AS timestamp) AT TIME ZONE :zone)")
        params["date_to"] = datetime.combine(date_to + timedelta(days=1), datetime.min.time())
    if status:
        where.append("c.status = :status")
        params["status"] = status
    if direction:
        where.append("c.direction = :direction")
        params["direction"] = direction
    if agent:
        where.append("c.agent_extension = :agent")
        params["agent"] = agent
    if number:
        where.append("(c.caller_normalised = :number_norm OR c.caller LIKE :number_like OR c.called LIKE :number_like)")
        params["number_norm"] = normalise_phone(number) or number
        params["number_like"] = "%" + number.replace("%", "").replace("_", "") + "%"
    if account_id is not None:
        where.append("c.account_id = :account_id")
        params["account_id"] = account_id
    cond = ("WHERE " + " AND ".join(where)) if where else ""
    rows = (await conn.execute(text(
        f"SELECT {CALL_COLS} FROM calls c LEFT JOIN accounts a ON a.id = c.account_id {cond} "
        "ORDER BY c.started_at DESC, c.id DESC LIMIT :limit OFFSET :offset"), params)).mappings().all()
    total = (await conn.execute(text(f"SELECT count(*) FROM calls c {cond}"), params)).scalar_one()
    return [_call(r) for r in rows], total
