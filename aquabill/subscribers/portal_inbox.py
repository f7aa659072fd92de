"""The subscriber's notifications inbox (`subscriber_inbox`): newest first, the number unread, marking read.

An item of another subscriber and one that does not exist get the same `NotFound`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import NotFound


async def unread_count(conn: AsyncConnection, subscriber_id: int) -> int:
    return (await conn.execute(text(
        "SELECT count(*) FROM subscriber_inbox WHERE subscriber_id = :s AND read_at IS NULL"),
        {"s": subscriber_id})).scalar_one()


async def inbox(conn: AsyncConnection, subscriber_id: int, *, limit: int = 20,
                offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of notices (`id`, `kind`, `title`, `body`, `created_at`, `read_at`, `account_number`) and
    their number."""
    rows = await conn.execute(text(
        "SELECT i.id, i.kind, i.title, i.body, i.created_at, i.read_at, i.account_id, a.number AS account_number "
        "FROM subscriber_inbox i LEFT JOIN accounts a ON a.id = i.account_id WHERE i.subscriber_id = :s "
        "ORDER BY i.created_at DESC, i.id DESC LIMIT :l OFFSET :o"), {"s": subscriber_id, "l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(*) FROM subscriber_inbox WHERE subscriber_id = :s"),
                                {"s": subscriber_id})).scalar_one()
    return [dict(r._mapping) for r in rows], total


async def mark_read(conn: AsyncConnection, subscriber_id: int, item_id: int) -> None:
    """Mark one notice read (reading it again changes nothing)."""
    found = (await conn.execute(text(
        "UPDATE subscriber_inbox SET read_at = coalesce(read_at, now()) WHERE id = :i AND subscriber_id = :s "
        "RETURNING id"), {"i": item_id, "s": subscriber_id})).first()
    if found is None:
        raise NotFound("Уведомление не найдено")


async def mark_all_read(conn: AsyncConnection, subscriber_id: int) -> int:
    """Mark every unread notice read; how many were unread."""
    result = await conn.execute(text(
        "UPDATE subscriber_inbox SET read_at = now() WHERE subscriber_id = :s AND read_at IS NULL"),
        {"s": subscriber_id})
    return result.rowcount
