"""The bots' tables (t0023): chats with their conversation state, updates already handled, the tenant's bot
settings per channel. SQL only; the conversation is in `conversation.py`."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.subscribers.bot.types import CHANNELS


async def prune_updates(conn: AsyncConnection, older_than: timedelta) -> int:
    """Forget handled updates older than `older_than` (messengers stop retrying long before)."""
    res = await conn.execute(text("DELETE FROM bot_updates WHERE received_at < now() - make_interval(secs => :s)"),
                             {"s": older_than.total_seconds()})
    return res.rowcount or 0


_CHAT = "SELECT id, subscriber_id, state, notify FROM bot_chats WHERE channel = :c AND chat_key = :k FOR UPDATE"


_BEGIN = """
WITH fresh AS (INSERT INTO {s}bot_updates(channel, update_key) VALUES (:c, :u) ON CONFLICT DO NOTHING RETURNING 1),
chat AS (SELECT id, subscriber_id, state, notify FROM {s}bot_chats WHERE channel = :c AND chat_key = :k FOR UPDATE)
SELECT EXISTS (SELECT 1 FROM fresh) AS fresh, chat.id, chat.subscriber_id, chat.state, chat.notify,
       set_config('aquabill.subscriber_id', coalesce(chat.subscriber_id::text, ''), true) AS bound{bind}
FROM (SELECT 1) one LEFT JOIN chat ON true"""
# binding the tenant in the same statement (`schema` given): its tables named with their schema, the
# transaction's search_path and audit user set for the statements after it (as tenants.context.bind_tenant)
_BIND = (",\n       set_config('search_path', :sp, true) AS bound_path, "
         "set_config('aquabill.user_id', '', true) AS bound_user")
_BEGIN_PLAIN = text(_BEGIN.format(s="", bind=""))
_BEGIN_BOUND: dict[str, Any] = {}  # quoted schema → its statement


def _begin_sql(schema: str) -> Any:
    found = _BEGIN_BOUND.get(schema)
    if found is None:
        if len(_BEGIN_BOUND) > 10_000:
            _BEGIN_BOUND.clear()
        found = _BEGIN_BOUND[schema] = text(_BEGIN.format(s=schema + ".", bind=_BIND))
    return found


async def begin_update(conn: AsyncConnection, channel: str, update_key: str, chat_key: str,
                       schema: str = "") -> tuple[bool, dict[str, Any] | None]:
    """In one round trip: record the update (False when it was handled before), lock the chat's row and name
    its subscriber for the audit (see `bind_subscriber`). The chat is None when it has no row yet.
    With `schema` (quoted) the same statement binds the transaction to that tenant schema; without it the
    caller has bound the transaction (`tenant_transaction`)."""
    params = {"c": channel, "u": update_key[:128], "k": chat_key}
    if schema:
        row = (await conn.execute(_begin_sql(schema), {**params, "sp": schema})).one()
    else:
        row = (await conn.execute(_BEGIN_PLAIN, params)).one()
    return row.fresh, (_chat(row, new=False) if row.id is not None else None)


def _chat(row, *, new: bool) -> dict[str, Any]:
    state = row.state if not isinstance(row.state, str) else json.loads(row.state)
    return {"id": row.id, "subscriber_id": row.subscriber_id, "state": state or {}, "notify": row.notify, "new": new}


async def open_chat(conn: AsyncConnection, channel: str, chat_key: str, name: str = "", *,
                    absent: bool = False) -> dict[str, Any]:
    """The chat's row, locked for this transaction (one update of a chat at a time), its subscriber named for
    the audit (`bind_subscriber`). On first contact the bot creates a subscriber for the chat (created_via =
    the channel, no e-mail or phone) and the row. `absent`: the caller has just looked (`begin_update`) and
    found no row, so no second look. Returns `id`, `subscriber_id`, `state` (dict), `notify`, `new`."""
    params = {"c": channel, "k": chat_key}
    row = None if absent else (await conn.execute(text(_CHAT), params)).first()
    if row is not None:
        await bind_subscriber(conn, row.subscriber_id)
        return _chat(row, new=False)
    sid = (await conn.execute(text(
        "INSERT INTO subscribers(full_name, created_via, preferred_channel) VALUES (:n, :c, :c) RETURNING id"),
        {"n": name[:200], "c": channel})).scalar_one()
    created = (await conn.execute(text(
        "INSERT INTO bot_chats(channel, chat_key, subscriber_id) VALUES (:c, :k, :s) "
        "ON CONFLICT (channel, chat_key) DO NOTHING RETURNING id, subscriber_id, state, notify, "
        "set_config('aquabill.subscriber_id', subscriber_id::text, true) AS bound"),
        {**params, "s": sid})).first()
    if created is not None:
        return _chat(created, new=True)
    # another delivery of the same chat's first message won the race: drop ours, use its chat
    await conn.execute(text("DELETE FROM subscribers WHERE id = :s"), {"s": sid})
    row = (await conn.execute(text(_CHAT), params)).one()
    await bind_subscriber(conn, row.subscriber_id)
    return _chat(row, new=False)


async def bind_subscriber(conn: AsyncConnection, subscriber_id: int) -> None:
    """Name the subscriber in the transaction for the audit triggers (who: the chat's subscriber)."""
    await conn.execute(text("SELECT set_config('aquabill.subscriber_id', :s, true)"), {"s": str(subscriber_id)})


async def save_chat(conn: AsyncConnection, chat_id: int, state: dict[str, Any], notify: bool) -> None:
    await conn.execute(text(
        "UPDATE bot_chats SET state = CAST(:s AS jsonb), notify = :n, updated_at = now() WHERE id = :id"),
        {"s": json.dumps(state, ensure_ascii=False), "n": notify, "id": chat_id})


async def notify_chats(conn: AsyncConnection, channel: str, account_id: int | None = None) -> list[str]:
    """Chats that asked for notifications (of the subscribers linked to `account_id` when given)."""
    rows = await conn.execute(text(
        "SELECT DISTINCT c.chat_key FROM bot_chats c "
        "WHERE c.channel = :c AND c.notify AND (CAST(:a AS integer) IS NULL OR EXISTS ("
        "  SELECT 1 FROM subscriber_links l WHERE l.subscriber_id = c.subscriber_id AND l.account_id = :a "
        "  AND l.revoked_at IS NULL)) ORDER BY 1"), {"c": channel, "a": account_id})
    return list(rows.scalars())


# ---- settings ---------------------------------------------------------------------------------------------

_SETTINGS = ("SELECT id, channel, token_sealed, webhook_secret_hash, enabled, username, last_error, updated_at "
             "FROM bot_settings")


async def get_settings(conn: AsyncConnection, channel: str) -> dict[str, Any] | None:
    row = (await conn.execute(text(_SETTINGS + " WHERE channel = :c"), {"c": channel})).first()
    return dict(row._mapping) if row else None


async def list_settings(conn: AsyncConnection) -> dict[str, dict[str, Any] | None]:
    """Every channel, None where the tenant has no bot."""
    rows = {r.channel: dict(r._mapping) for r in await conn.execute(text(_SETTINGS))}
    return {c: rows.get(c) for c in CHANNELS}


_SETTING_COLUMNS = ("token_sealed", "webhook_secret_hash", "enabled", "username", "last_error")


async def save_settings(conn: AsyncConnection, channel: str, values: dict[str, Any], user_id: int | None) -> None:
    """Insert or update the channel's row with the given columns (the others keep their values)."""
    values = {k: v for k, v in values.items() if k in _SETTING_COLUMNS}
    cols = list(values)
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols) + ", updated_at = now(), updated_by = EXCLUDED.updated_by"
    await conn.execute(text(
        f"INSERT INTO bot_settings(channel, updated_by{''.join(', ' + c for c in cols)}) "
        f"VALUES (:channel, :user{''.join(', :' + c for c in cols)}) "
        f"ON CONFLICT (channel) DO UPDATE SET {assignments}"), {**values, "channel": channel, "user": user_id})


async def record_error(conn: AsyncConnection, channel: str, error: str) -> None:
    await conn.execute(text("UPDATE bot_settings SET last_error = :e WHERE channel = :c"),
                       {"e": error[:1000], "c": channel})
