"""A subscriber's appeals: filed from the portal or a bot into the contact center's appeals journal (the
same `create_appeal` staff use, source 'portal' or 'bot', `appeals.subscriber_id` set), listed back with
the staff's answer (`result`) once the appeal is answered or closed.

Another subscriber's appeal and one that does not exist get the same `NotFound`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.contact_center.appeals.service import create_appeal
from aquabill.contact_center.appeals.store import STATUSES
from aquabill.subscribers.links import require_linked

SOURCES = ("portal", "bot")
TEXT_LIMIT, SUBJECT_LIMIT = 4000, 200
ANSWERED = ("answered", "closed")
# what a subscriber is told of the state of their appeal
STATUS_NAMES = {**STATUSES, "new": "Получено", "in_work": "Рассматривается"}
NOT_FOUND = "Обращение не найдено"

_SELECT = """
SELECT a.id, a.number, a.received_at, k.code AS kind, k.name AS kind_name, a.source, a.status, a.account_id,
       acc.number AS account_number, a.subject, a.text,
       CASE WHEN a.status IN ('answered', 'closed') THEN a.result ELSE '' END AS answer,
       a.answered_at, a.closed_at
FROM appeals a JOIN appeal_kinds k ON k.id = a.kind_id LEFT JOIN accounts acc ON acc.id = a.account_id
WHERE a.subscriber_id = :s"""


def _row(r) -> dict[str, Any]:
    return {**dict(r._mapping), "status_name": STATUS_NAMES.get(r.status, r.status)}


async def appeal_kinds(conn: AsyncConnection) -> list[dict[str, str]]:
    """The kinds a subscriber may choose (active ones): `code`, `name`."""
    rows = await conn.execute(text("SELECT code, name FROM appeal_kinds WHERE active ORDER BY id"))
    return [{"code": c, "name": n} for c, n in rows]


async def subscriber_appeals(conn: AsyncConnection, subscriber_id: int, *, limit: int = 20,
                             offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The subscriber's appeals, newest first, with the answer when there is one."""
    rows = await conn.execute(text(_SELECT + " ORDER BY a.received_at DESC, a.id DESC LIMIT :l OFFSET :o"),
                              {"s": subscriber_id, "l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(*) FROM appeals WHERE subscriber_id = :s"),
                                {"s": subscriber_id})).scalar_one()
    return [_row(r) for r in rows], total


async def subscriber_appeal(conn: AsyncConnection, subscriber_id: int, appeal_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(_SELECT + " AND a.id = :id"), {"s": subscriber_id, "id": appeal_id})).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return _row(row)


def _subject(subject: str, body: str) -> str:
    subject = " ".join(subject.split())[:SUBJECT_LIMIT]
    if subject:
        return subject
    first = " ".join(body.split())
    return first if len(first) <= 80 else first[:77].rstrip() + "…"


async def file_appeal(conn: AsyncConnection, subscriber_id: int, *, kind: str, body: str, subject: str = "",
                      account_id: int | None = None, source: str = "portal") -> dict[str, Any]:
    """Register the subscriber's appeal in the journal; the applicant is the subscriber (name, e-mail,
    phone as they registered), the address that of the account when one is named (it must be theirs)."""
    if source not in SOURCES:
        raise Invalid("Источник обращения: " + ", ".join(SOURCES), field="source")
    body = (body or "").strip()
    if not body:
        raise Invalid("Напишите, что случилось или о чём вы спрашиваете", field="text")
    if len(body) > TEXT_LIMIT:
        raise Invalid(f"Текст обращения слишком длинный: не больше {TEXT_LIMIT} знаков", field="text")
    if kind not in {k["code"] for k in await appeal_kinds(conn)}:
        raise Invalid("Выберите тему обращения из списка", field="kind")
    if account_id is not None:
        await require_linked(conn, subscriber_id, account_id)
    who = (await conn.execute(text(
        "SELECT full_name, coalesce(email, '') AS email, coalesce(phone, '') AS phone FROM subscribers "
        "WHERE id = :s"), {"s": subscriber_id})).first()
    if who is None:
        raise NotFound("Абонент не найден")
    values = {"kind": kind, "source": source, "account_id": account_id, "subject": _subject(subject, body),
              "text": body, "applicant_email": who.email, "applicant_phone": who.phone,
              "applicant_name": who.full_name or None, "subscriber_id": subscriber_id}
    appeal = await create_appeal(conn, values, user_id=None)
    return appeal
