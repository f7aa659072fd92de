"""The dated 416-FZ penalty category of a counterparty in the tenant's database (`counterparty_category_changes`,
migration t0037; the rule that reads it is penalties.py's `category_on`, the accrual's SQL penalty_store.py's).

`record_change` writes a change of the category (called by counterparty_store.update_counterparty in the same
transaction, the counterparty's row locked); `category_changes` lists them, the newest first. Nothing commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.legal_entities.catalogue import PENALTY_CATEGORIES, PENALTY_CATEGORY_SHORT, clean
from aquabill.legal_entities.counterparties import check_category_from


async def record_change(conn: AsyncConnection, counterparty_id: int, previous: str, category: str,
                        effective_from: date | None, *, today: date, note: str = "",
                        user_id: int | None = None) -> None:
    """From `effective_from` (default `today`) the counterparty's category is `category`, before it `previous`
    (its category so far). Refused (`Invalid`, field "category_from") before the latest change or more than a year
    ahead; a change on the latest change's own day corrects that change (and removes it when it comes back to
    that change's previous category). The same category is no change: nothing is written."""
    if previous == category:
        return
    note = clean(note, field="category_note", what="основание изменения категории", limit=1000)
    latest = (await conn.execute(text(
        "SELECT id, effective_from, previous FROM counterparty_category_changes WHERE counterparty_id = :cp "
        "ORDER BY effective_from DESC LIMIT 1"), {"cp": counterparty_id})).first()
    day = check_category_from(effective_from or today, latest=latest.effective_from if latest else None, today=today)
    if latest is not None and day == latest.effective_from:
        if category == latest.previous:
            await conn.execute(text("DELETE FROM counterparty_category_changes WHERE id = :id"), {"id": latest.id})
        else:
            await conn.execute(text(
                "UPDATE counterparty_category_changes SET category = :cat, note = :note, created_at = now(), "
                "created_by = :user WHERE id = :id"), {"cat": category, "note": note, "user": user_id, "id": latest.id})
        return
    await conn.execute(text(
        "INSERT INTO counterparty_category_changes(counterparty_id, effective_from, previous, category, note, "
        "created_by) VALUES (:cp, :day, :prev, :cat, :note, :user)"),
        {"cp": counterparty_id, "day": day, "prev": previous, "cat": category, "note": note, "user": user_id})


async def category_changes(conn: AsyncConnection, counterparty_id: int) -> list[dict[str, Any]]:
    """The counterparty's changes of its category, the newest first, with the names and who wrote each."""
    rows = (await conn.execute(text(
        "SELECT h.id, h.effective_from, h.previous, h.category, h.note, h.created_at, h.created_by, "
        "coalesce(nullif(u.full_name, ''), u.login) AS created_by_name "
        "FROM counterparty_category_changes h LEFT JOIN users u ON u.id = h.created_by "
        "WHERE h.counterparty_id = :cp ORDER BY h.effective_from DESC"), {"cp": counterparty_id})).mappings()
    return [{**dict(r), "previous_name": PENALTY_CATEGORIES[r["previous"]],
             "previous_short": PENALTY_CATEGORY_SHORT[r["previous"]], "category_name": PENALTY_CATEGORIES[r["category"]],
             "category_short": PENALTY_CATEGORY_SHORT[r["category"]]} for r in rows]
