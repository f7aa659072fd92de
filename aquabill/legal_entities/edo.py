"""Documents sent to counterparties through an EDO operator (`edo_messages`, t0033): queueing, and the life of a
message with its history. The sending itself (HTTP, signature) is `channels/edo/runner.py`'s; nothing here
commits or talks to the network.

queued ──claim──▶ sending ──posted──▶ sent ──▶ delivered ──▶ signed
   ▲                 │  │                          └──────▶ rejected (the buyer's reason)
   │   no answer /   │  └─ refused (4xx) or too many attempts ──▶ failed
   └─ 5xx: unknown ◀─┘
A message is claimed ('sending', a lease in `next_at`) in its own committed transaction before the HTTP call.
A 'sending' whose lease ran out was interrupted mid-call (the process died): it turns 'unknown', and so does one
whose call got no answer; an 'unknown' is resolved by asking the operator again with the same operation id —
Diadoc answers a repeated PostMessage operationId with the first call's message — so it is never sent twice.
A document goes out once (the unique index edo_messages_once); after 'failed' or 'rejected' it may be queued again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.legal_entities import edo_store

OPERATOR = "diadoc"
SENDABLE = {"upd": "УПД", "act": "акт", "ukd": "УКД", "advance_invoice": "счёт-фактура на аванс"}
STATUSES = {"queued": "В очереди", "sending": "Отправляется", "sent": "Отправлен", "delivered": "Доставлен",
            "signed": "Подписан покупателем", "rejected": "Отказ в подписи", "failed": "Ошибка отправки",
            "unknown": "Проверяется у оператора"}
ACTIVE = ("queued", "sending", "sent", "delivered", "unknown")
FINAL = ("signed", "rejected", "failed")
MAX_ATTEMPTS = 8
MAX_IDS = 1000
LEASE_SECONDS = 300  # a claimed message not finished in this time was interrupted (its sender died)
POLL_SECONDS = 60  # how often a sent message's status is asked
MAX_POLL_SECONDS = 3600

# a history entry of the bound parameters :hs (status) and :hr (reason)
_ENTRY = "jsonb_build_array(jsonb_build_object('at', now(), 'status', CAST(:hs AS text), 'reason', CAST(:hr AS text)))"
_APPEND = "history = history || " + _ENTRY


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt after `attempts` failed ones: 1, 2, 4 … minutes, at most an hour."""
    return min(60 * 2 ** max(attempts - 1, 0), 3600)


def _label(row: dict[str, Any]) -> dict[str, Any]:
    row["status_name"] = STATUSES.get(row["status"], row["status"])
    for entry in row.get("history") or []:
        entry["status_name"] = STATUSES.get(entry.get("status"), entry.get("status"))
        if isinstance(entry.get("at"), str):
            entry["at"] = datetime.fromisoformat(entry["at"])
    return row


async def queue_document(conn: AsyncConnection, document_id: int, *, user_id: int | None) -> dict[str, Any]:
    """Queue the document for sending; a document already on its way (or signed) is not queued again: its
    message is returned (`created` False). Refused (422) with the reason a person can fix."""
    doc = (await conn.execute(text(
        "SELECT d.id, d.kind, d.number, d.status, d.xml IS NOT NULL AS has_xml, d.file_name, c.edo_id, "
        "coalesce(nullif(c.short_name, ''), c.name) AS counterparty FROM legal_documents d "
        "JOIN counterparties c ON c.id = d.counterparty_id WHERE d.id = :id"), {"id": document_id})).mappings().first()
    if doc is None:
        raise NotFound("Документ не найден", field="document_id")
    if doc["kind"] not in SENDABLE:
        raise Invalid("Через ЭДО отправляются УПД, акты, УКД и счета-фактуры на аванс; счёт на оплату "
                      "отправляется письмом", field="document_id")
    if doc["status"] != "issued":
        raise Invalid(f"Документ № {doc['number']} аннулирован: отправлять нечего", field="document_id")
    if not doc["has_xml"]:
        raise Invalid(f"У документа № {doc['number']} нет XML-файла: его не отправить через ЭДО", field="document_id")
    if not doc["edo_id"]:
        raise Invalid(f"У контрагента «{doc['counterparty']}» не указан идентификатор участника ЭДО: заполните его "
                      "в карточке контрагента", field="edo_id")
    settings = await edo_store.require_enabled(conn)
    _check_file_ids(doc, settings["participant_id"])
    row = (await conn.execute(text(
        "INSERT INTO edo_messages(document_id, operator, created_by, history) "
        f"VALUES (:d, :op, :u, {_ENTRY}) "
        "ON CONFLICT (document_id) WHERE status NOT IN ('failed', 'rejected') DO NOTHING RETURNING id"),
        {"d": document_id, "op": OPERATOR, "u": user_id, "hs": "queued", "hr": ""})).first()
    message = await document_message(conn, document_id)
    assert message is not None
    return {**message, "created": row is not None}


def _check_file_ids(doc: dict[str, Any], participant_id: str) -> None:
    """The file name (= ИдФайл, order ЕД-7-26/970@: R_T_A_O_…, A the recipient, O the sender) must name the
    counterparty's and our current EDO ids: the operator refuses a file addressed otherwise. A document issued
    before the ids were filled in names the parties by INN (`issue/parties.py`): it has to be issued again."""
    parts = (doc["file_name"] or "").split("_")
    if len(parts) < 5:
        return
    recipient, sender = parts[2], parts[3]
    if recipient != doc["edo_id"] or (participant_id and sender != participant_id):
        raise Invalid(f"Файл документа № {doc['number']} адресован от «{sender}» к «{recipient}», а сейчас "
                      f"идентификатор ЭДО организации «{participant_id}», контрагента «{doc['edo_id']}»: "
                      "документ выписан до того, как их заполнили, — аннулируйте его и выпишите заново",
                      field="edo_id")


async def queue_many(conn: AsyncConnection, *, period: date | None = None, ids: list[int] | None = None,
                     user_id: int | None) -> dict[str, Any]:
    """Queue a month's issued documents (`period`) or the listed ones, in one statement; counts: documents,
    queued, already (on their way or signed), no_edo_id (the counterparty has no EDO id) and misaddressed (the
    file names other EDO ids: issued before they were filled in) — those two not queued."""
    if (period is None) == (ids is None):
        raise Invalid("Укажите месяц (period) или список документов (ids)", field="period")
    if ids is not None and not 1 <= len(ids) <= MAX_IDS:
        raise Invalid(f"Список документов: от 1 до {MAX_IDS}", field="ids")
    settings = await edo_store.require_enabled(conn)
    scope = "d.period = :period" if period is not None else "d.id = ANY(:ids)"
    row = (await conn.execute(text(
        "WITH docs AS (SELECT d.id, c.edo_id, c.edo_id <> '' AND (split_part(d.file_name, '_', 5) = '' OR "
        "  (split_part(d.file_name, '_', 3) = c.edo_id AND (:me = '' OR split_part(d.file_name, '_', 4) = :me))) "
        "  AS addressed FROM legal_documents d JOIN counterparties c ON c.id = d.counterparty_id "
        f"  WHERE {scope} AND d.status = 'issued' AND d.kind = ANY(:kinds) AND d.xml IS NOT NULL), "
        "ins AS (INSERT INTO edo_messages(document_id, operator, created_by, history) "
        f"  SELECT id, :op, :u, {_ENTRY} FROM docs WHERE addressed ORDER BY id "
        "  ON CONFLICT (document_id) WHERE status NOT IN ('failed', 'rejected') DO NOTHING RETURNING document_id) "
        "SELECT (SELECT count(*) FROM docs) AS documents, (SELECT count(*) FROM ins) AS queued, "
        "(SELECT count(*) FROM docs WHERE edo_id = '') AS no_edo_id, "
        "(SELECT count(*) FROM docs WHERE edo_id <> '' AND NOT addressed) AS misaddressed"),
        {"period": period.replace(day=1) if period else None, "ids": ids, "kinds": list(SENDABLE), "op": OPERATOR,
         "u": user_id, "hs": "queued", "hr": "", "me": settings["participant_id"]})).mappings().one()
    result = dict(row)
    result["already"] = result["documents"] - result["queued"] - result["no_edo_id"] - result["misaddressed"]
    return result


async def document_message(conn: AsyncConnection, document_id: int) -> dict[str, Any] | None:
    """The document's latest message (its EDO status, history and reason) and how many were sent before."""
    row = (await conn.execute(text(
        "SELECT m.id, m.document_id, m.operator, m.to_box, m.message_id, m.entity_id, m.status, m.reason, m.attempts, "
        "m.next_at, m.history, m.created_at, m.updated_at, count(*) OVER () AS messages FROM edo_messages m "
        "WHERE m.document_id = :d ORDER BY m.id DESC LIMIT 1"), {"d": document_id})).mappings().first()
    return _label(dict(row)) if row is not None else None


# ---- the sender's steps (each in its own short transaction, committed by the caller) -----------------------------

async def claim_due(conn: AsyncConnection, *, limit: int, lease_seconds: int = LEASE_SECONDS) -> list[dict[str, Any]]:
    """Messages to post now, claimed 'sending' with a lease (FOR UPDATE SKIP LOCKED: two senders at once take
    different rows): queued ones, and unknown ones (their post is asked again). A 'sending' whose lease ran out
    first turns 'unknown'. Each with what the post needs: the XML, the document's kind and function, the
    counterparty's EDO id."""
    await conn.execute(text(
        f"UPDATE edo_messages SET status = 'unknown', updated_at = now(), {_APPEND} "
        "WHERE status = 'sending' AND next_at <= now()"),
        {"hs": "unknown", "hr": "Отправка прервалась: результат будет уточнён у оператора"})
    rows = (await conn.execute(text(
        "WITH due AS (SELECT id, status AS was FROM edo_messages WHERE status IN ('queued', 'unknown') "
        "  AND next_at <= now() ORDER BY next_at, id LIMIT :limit FOR UPDATE SKIP LOCKED) "
        "UPDATE edo_messages m SET status = 'sending', attempts = m.attempts + 1, updated_at = now(), "
        "  next_at = now() + make_interval(secs => :lease) FROM due WHERE m.id = due.id "
        "RETURNING m.id, m.document_id, m.attempts, due.was, m.to_box"),
        {"limit": limit, "lease": lease_seconds})).mappings().all()
    if not rows:
        return []
    docs = {r["id"]: dict(r) for r in (await conn.execute(text(
        "SELECT d.id, d.kind, d.function, d.number, d.xml, d.xml_sha256, d.file_name, c.edo_id "
        "FROM legal_documents d JOIN counterparties c ON c.id = d.counterparty_id WHERE d.id = ANY(:ids)"),
        {"ids": [r["document_id"] for r in rows]})).mappings()}
    return [{**dict(r), "document": docs[r["document_id"]]} for r in rows]


async def mark_sent(conn: AsyncConnection, message_id: int, *, to_box: str, operator_message_id: str,
                    entity_id: str) -> None:
    await conn.execute(text(
        "UPDATE edo_messages SET status = 'sent', to_box = :box, message_id = :mid, entity_id = :eid, reason = '', "
        f"updated_at = now(), next_at = now(), {_APPEND} WHERE id = :id"),
        {"id": message_id, "box": to_box, "mid": operator_message_id, "eid": entity_id, "hs": "sent", "hr": ""})


async def mark_unknown(conn: AsyncConnection, message_id: int, reason: str, *, attempts: int, to_box: str = "") -> str:
    """No answer to the post (its `attempts`-th): asked again after `retry_delay`; after MAX_ATTEMPTS it fails.
    The new status."""
    status = "failed" if attempts >= MAX_ATTEMPTS else "unknown"
    await conn.execute(text(
        "UPDATE edo_messages SET status = :s, to_box = coalesce(nullif(:box, ''), to_box), reason = :r, "
        f"updated_at = now(), next_at = now() + make_interval(secs => :delay), {_APPEND} WHERE id = :id"),
        {"id": message_id, "s": status, "r": reason, "box": to_box, "delay": retry_delay(attempts), "hs": status,
         "hr": reason})
    return status


async def mark_failed(conn: AsyncConnection, message_id: int, reason: str) -> None:
    await conn.execute(text(
        f"UPDATE edo_messages SET status = 'failed', reason = :r, updated_at = now(), "
        f"{_APPEND} WHERE id = :id"), {"id": message_id, "r": reason, "hs": "failed", "hr": reason})


async def release(conn: AsyncConnection, message_id: int, reason: str) -> None:
    """The settings do not work (the operator refused our key or box): back to the queue after the back-off,
    the attempt not counted."""
    await conn.execute(text(
        "UPDATE edo_messages SET status = CASE WHEN message_id = '' THEN 'queued' ELSE 'unknown' END, "
        "attempts = greatest(attempts - 1, 0), reason = :r, updated_at = now(), "
        "next_at = now() + make_interval(secs => 600) WHERE id = :id AND status = 'sending'"),
        {"id": message_id, "r": reason})


async def claim_polls(conn: AsyncConnection, *, limit: int, lease_seconds: int = LEASE_SECONDS
                      ) -> list[dict[str, Any]]:
    """Sent / delivered messages whose status is due to be asked; their next ask pushed past the lease."""
    rows = (await conn.execute(text(
        "WITH due AS (SELECT id FROM edo_messages WHERE status IN ('sent', 'delivered') AND next_at <= now() "
        "  ORDER BY next_at, id LIMIT :limit FOR UPDATE SKIP LOCKED) "
        "UPDATE edo_messages m SET next_at = now() + make_interval(secs => :lease) FROM due WHERE m.id = due.id "
        "RETURNING m.id, m.document_id, m.to_box, m.message_id, m.entity_id, m.status, m.created_at"),
        {"limit": limit, "lease": lease_seconds})).mappings().all()
    return [dict(r) for r in rows]


async def apply_state(conn: AsyncConnection, message_id: int, status: str, reason: str = "") -> bool:
    """What the operator says now; history grows only on a change; the next ask is later the older the message
    (a tenth of its age, between POLL_SECONDS and an hour). True when the status changed."""
    if status not in ("sent", "delivered", "signed", "rejected"):
        raise ValueError(status)
    before = (await conn.execute(text("SELECT status FROM edo_messages WHERE id = :id FOR UPDATE"),
                                 {"id": message_id})).scalar()
    if before not in ("sent", "delivered"):
        return False
    changed = before != status
    await conn.execute(text(
        "UPDATE edo_messages SET status = :s, reason = :r, updated_at = now(), "
        f"history = CASE WHEN :changed THEN history || {_ENTRY} ELSE history END, "
        "next_at = now() + make_interval(secs => least(greatest(:poll, "
        "  extract(epoch FROM now() - created_at)::int / 10), :maxpoll)) WHERE id = :id"),
        {"id": message_id, "s": status, "r": reason, "changed": changed, "hs": status, "hr": reason,
         "poll": POLL_SECONDS, "maxpoll": MAX_POLL_SECONDS})
    return changed


async def document_view(conn: AsyncConnection, document_id: int) -> dict[str, Any]:
    """What the document card's EDO section shows: the document (may it be sent: kind, state, XML, the
    counterparty's EDO id) and its latest message."""
    doc = (await conn.execute(text(
        "SELECT d.id, d.kind, d.number, d.status, d.xml IS NOT NULL AS has_xml, c.id AS counterparty_id, c.edo_id, "
        "coalesce(nullif(c.short_name, ''), c.name) AS counterparty FROM legal_documents d "
        "JOIN counterparties c ON c.id = d.counterparty_id WHERE d.id = :id"), {"id": document_id})).mappings().first()
    if doc is None:
        raise NotFound("Документ не найден", field="document_id")
    doc = dict(doc)
    doc["sendable"] = doc["kind"] in SENDABLE and doc["status"] == "issued" and doc["has_xml"]
    message = await document_message(conn, document_id)
    return {"document": doc, "message": message,
            "can_send": doc["sendable"] and (message is None or message["status"] in ("failed", "rejected"))}
