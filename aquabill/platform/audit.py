"""Reading the audit log (written by the tenant schema's triggers): an object's history and a filtered
journal, newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.tables import audit_log


def _entry(r) -> dict:
    return {"id": r.id, "at": r.at, "table": r.table_name, "row_id": r.row_id, "action": r.action,
            "old": r.old_row, "new": r.new_row, "user_id": r.user_id, "txid": r.txid,
            "subscriber_id": r.subscriber_id, "actor": _actor(r)}


def _actor(r) -> str | None:
    """Who did it, as the journal shows it: a subscriber (portal, bots; t0021) or a staff user by id."""
    if r.subscriber_id is not None:
        return f"абонент #{r.subscriber_id}"
    return f"пользователь #{r.user_id}" if r.user_id is not None else None


async def _entries(conn: AsyncConnection, rows: list) -> list[dict]:
    """Entries as shown; an insert logged by reference (bulk tables, t0015: no copy of the row) shows the
    row as inserted — the old state of the row's next entry that has one, else the row as it stands — and
    whether that row matches the digest the insert kept (t0018: `verified`; None for inserts logged
    before digests were kept). One statement per table that has such entries on the page."""
    entries = [_entry(r) for r in rows]
    by_table: dict[str, dict[int, dict]] = {}
    for e in entries:
        if e["action"] == "insert" and e["new"] is None and e["row_id"] is not None:
            by_table.setdefault(e["table"], {})[e["id"]] = e
    for table, pending in by_table.items():
        found = await conn.execute(text(
            "SELECT l.id, x.shown, CASE WHEN l.row_hash IS NULL THEN NULL ELSE coalesce("
            "audit_row_digest(CAST(l.table_name AS regclass), x.shown) = l.row_hash, false) END AS verified "
            "FROM audit_log l CROSS JOIN LATERAL (SELECT coalesce("
            "(SELECT n.old_row FROM audit_log n WHERE n.table_name = l.table_name AND n.row_id = l.row_id "
            "AND n.id > l.id AND n.old_row IS NOT NULL ORDER BY n.id LIMIT 1), "
            f"(SELECT to_jsonb(r) FROM {_quoted(table)} r WHERE r.id = CAST(l.row_id AS bigint))) AS shown) x "
            "WHERE l.id = ANY(CAST(:ids AS bigint[]))"), {"ids": list(pending)})
        for r in found:
            e = pending[r.id]
            e["new"], e["by_reference"], e["verified"] = r.shown, True, r.verified
    return entries


def _quoted(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


async def object_history(conn: AsyncConnection, table: str, row_id: str, *, limit: int,
                         offset: int) -> tuple[list[dict[str, Any]], int]:
    cond = (audit_log.c.table_name == table) & (audit_log.c.row_id == row_id)
    rows = (await conn.execute(
        select(audit_log).where(cond).order_by(audit_log.c.id).limit(limit).offset(offset))).all()
    total = (await conn.execute(select(func.count()).select_from(audit_log).where(cond))).scalar_one()
    return await _entries(conn, rows), total


async def journal(conn: AsyncConnection, *, table: str | None, user_id: int | None, limit: int,
                  offset: int) -> tuple[list[dict[str, Any]], int]:
    q = select(audit_log).order_by(audit_log.c.id.desc())
    cq = select(func.count()).select_from(audit_log)
    for col, val in ((audit_log.c.table_name, table), (audit_log.c.user_id, user_id)):
        if val is not None:
            q, cq = q.where(col == val), cq.where(col == val)
    rows = (await conn.execute(q.limit(limit).offset(offset))).all()
    return await _entries(conn, rows), (await conn.execute(cq)).scalar_one()
