"""Queries on mailboxes, stored messages and their attachments (the mail journal)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, table, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.contact_center.appeals.mail_message import MailMessage

MAILBOX_COLS = ("id, name, host, port, use_ssl, username, folder, enabled, kind_id, uid_validity, last_uid, "
                "last_polled_at, last_error, last_error_at, created_at, secret <> '' AS has_password")
# what an update may set: the settings and the polling position (reset when the box or folder changes)
_MAILBOXES = table("mailboxes", column("id"), *(column(c) for c in (
    "name", "host", "port", "use_ssl", "username", "secret", "folder", "enabled", "kind_id", "uid_validity",
    "last_uid")))


async def list_mailboxes(conn: AsyncConnection, *, enabled_only: bool = False) -> list[dict[str, Any]]:
    where = " WHERE enabled" if enabled_only else ""
    rows = await conn.execute(text(f"SELECT {MAILBOX_COLS} FROM mailboxes{where} ORDER BY id"))
    return [dict(r._mapping) for r in rows]


async def get_mailbox(conn: AsyncConnection, mailbox_id: int, *, with_secret: bool = False) -> dict[str, Any] | None:
    cols = MAILBOX_COLS + (", secret" if with_secret else "")
    row = (await conn.execute(text(f"SELECT {cols} FROM mailboxes WHERE id = :id"), {"id": mailbox_id})).first()
    return dict(row._mapping) if row else None


async def insert_mailbox(conn: AsyncConnection, values: dict[str, Any]) -> int:
    cols = list(values)
    return (await conn.execute(text(
        f"INSERT INTO mailboxes({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) RETURNING id"),
        values)).scalar_one()


async def update_mailbox(conn: AsyncConnection, mailbox_id: int, values: dict[str, Any]) -> bool:
    if not values:
        return await get_mailbox(conn, mailbox_id) is not None
    res = await conn.execute(update(_MAILBOXES).where(_MAILBOXES.c.id == mailbox_id).values(values))
    return res.rowcount == 1


async def record_poll(conn: AsyncConnection, mailbox_id: int, *, error: str | None,
                      uid_validity: int | None = None, last_uid: int | None = None) -> None:
    await conn.execute(text(
        "UPDATE mailboxes SET last_polled_at = now(), "
        "last_error = CAST(:error AS text), last_error_at = CASE WHEN CAST(:error AS text) IS NULL THEN last_error_at ELSE now() END, "
        "uid_validity = coalesce(CAST(:uv AS bigint), uid_validity), "
        "last_uid = CASE WHEN CAST(:uid AS bigint) IS NULL THEN last_uid "
        "WHEN uid_validity IS DISTINCT FROM CAST(:uv AS bigint) THEN CAST(:uid AS bigint) "  # renumbered folder
        "ELSE greatest(last_uid, CAST(:uid AS bigint)) END WHERE id = :id"),
        {"id": mailbox_id, "error": error, "uv": uid_validity, "uid": last_uid})


async def insert_message(conn: AsyncConnection, mailbox_id: int, uid: int, raw: bytes,
                         msg: MailMessage) -> int | None:
    """Store the message and its attachments; None when the mailbox already has that Message-ID."""
    message_id = (await conn.execute(text(
        "INSERT INTO mail_messages(mailbox_id, uid, message_id, from_addr, from_name, to_addr, subject, sent_at, "
        "body_text, raw, size) VALUES (:mailbox_id, :uid, :message_id, :from_addr, :from_name, :to_addr, :subject, "
        ":sent_at, :body_text, :raw, :size) ON CONFLICT (mailbox_id, message_id) DO NOTHING RETURNING id"),
        {"mailbox_id": mailbox_id, "uid": uid, "message_id": msg.message_id, "from_addr": msg.from_addr,
         "from_name": msg.from_name, "to_addr": msg.to_addr, "subject": msg.subject, "sent_at": msg.sent_at,
         "body_text": msg.body_text.replace("\x00", ""), "raw": raw, "size": len(raw)})).scalar()
    if message_id is None:
        return None
    for a in msg.attachments:
        await conn.execute(text(
            "INSERT INTO mail_attachments(message_id, file_name, content_type, size, content) "
            "VALUES (:m, :n, :t, :s, :c)"),
            {"m": message_id, "n": a.file_name.replace("\x00", ""), "t": a.content_type, "s": a.size, "c": a.content})
    return message_id


_JOURNAL = """
SELECT m.id, m.mailbox_id, b.name AS mailbox_name, m.uid, m.message_id, m.from_addr, m.from_name, m.to_addr,
       m.subject, m.sent_at, m.received_at, m.size, ap.id AS appeal_id, ap.number AS appeal_number,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', x.id, 'file_name', x.file_name,
                                                     'content_type', x.content_type, 'size', x.size) ORDER BY x.id)
                 FROM mail_attachments x WHERE x.message_id = m.id), '[]'::jsonb) AS attachments
FROM mail_messages m
JOIN mailboxes b ON b.id = m.mailbox_id
LEFT JOIN appeals ap ON ap.mail_message_id = m.id
"""


async def list_messages(conn: AsyncConnection, *, mailbox_id: int | None = None, q: str = "", limit: int = 50,
                        offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    conds, args = [], {}
    if mailbox_id is not None:
        conds.append("m.mailbox_id = :mailbox_id")
        args["mailbox_id"] = mailbox_id
    if q.strip():
        conds.append("(m.subject ILIKE :q OR m.from_addr ILIKE :q OR m.from_name ILIKE :q)")
        args["q"] = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    rows = await conn.execute(text(_JOURNAL + where + " ORDER BY m.received_at DESC, m.id DESC LIMIT :l OFFSET :o"),
                              {**args, "l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(*) FROM mail_messages m" + where), args)).scalar_one()
    return [dict(r._mapping) for r in rows], total


async def get_message(conn: AsyncConnection, message_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(text(_JOURNAL.replace("m.size,", "m.size, m.body_text,") + " WHERE m.id = :id"),
                              {"id": message_id})).first()
    return dict(row._mapping) if row else None


async def get_attachment(conn: AsyncConnection, attachment_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(text(
        "SELECT id, message_id, file_name, content_type, size, content FROM mail_attachments WHERE id = :a"),
        {"a": attachment_id})).first()
    return dict(row._mapping) if row else None
