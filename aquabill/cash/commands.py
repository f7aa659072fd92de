"""The per-agent command queue (`edge_commands`), delivered at least once.

queued → sent (leased for `lease_seconds`; sent again when the lease runs out or the agent reconnects without it)
→ acked (the agent journaled it) → done | failed (its result). The agent executes each command key once (its
journal), so a command sent twice is harmless; the server never loses one:
- `to_send` hands out, in id order, what is queued and what was sent but neither acked nor journaled (a lease
  run out). A queued command is sent whatever the agent's cursor: ids are taken when a command is inserted,
  not when it commits, so a command may commit after a later one already reached the agent;
- on the agent's hello, what it says it has journaled (sent, id ≤ its cursor) counts as acked, and what was
  sent after that is leased out again at once (the previous connection is gone);
- a result is recorded once: a second one for a command already done or failed is a duplicate (None).
`retry` re-sends a failed command as a NEW command (a receipt whose print failed: paper out, register off): its
key is uuid5(the receipt's key, "retry-N") and its payload the same, so the agent's journal recognises the
receipt (payload.key) and prints it at most once.

Every function takes the tenant's transaction and never commits; the command dicts have the keys id, agent_id,
key (a str), kind, payload, status, attempts, leased_until, acked_at, done_at, result, error, created_at,
created_by. A failed command's `result` is {"error": <the agent's error object>} and `error` its message.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound

KINDS = {"status": "Запрос состояния", "open_shift": "Открытие смены", "x_report": "X-отчёт",
         "close_shift": "Закрытие смены (Z-отчёт)", "receipt": "Чек", "duplicate": "Копия документа",
         "find_document": "Поиск документа в ФН", "cash_in": "Внесение", "cash_out": "Выплата"}
STATUSES = {"queued": "в очереди", "sent": "отправлена", "acked": "принята агентом", "done": "выполнена",
            "failed": "ошибка"}
OPEN = ("queued", "sent", "acked")
LEASE_SECONDS = 30
BATCH = 50
PAYLOAD_MAX = 64_000  # characters of JSON
BIGINT_MAX = 9_223_372_036_854_775_807
RETRY_MAX = 50
NO_REASON = "Агент не сообщил причину ошибки"

COLUMNS = ("id, agent_id, key, kind, payload, status, attempts, leased_until, acked_at, done_at, result, error, "
           "created_at, created_by")


def _command(row) -> dict[str, Any]:
    d = dict(row._mapping)
    d["key"] = str(d["key"])
    for k in ("payload", "result"):
        if isinstance(d.get(k), str):
            d[k] = json.loads(d[k])
    return d


def _uuid(key: Any) -> uuid.UUID:
    if isinstance(key, uuid.UUID):
        return key
    try:
        return uuid.UUID(str(key))
    except ValueError as exc:
        raise Invalid("Ключ команды: ожидается UUID", field="key") from exc


def _json(value: Any, field: str) -> str:
    try:
        raw = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise Invalid("Данные команды не сериализуются в JSON", field=field) from exc
    if len(raw) > PAYLOAD_MAX:
        raise Invalid("Данные команды слишком велики", field=field)
    return raw


async def enqueue(conn: AsyncConnection, *, agent_id: int, kind: str, key: Any, payload: dict[str, Any],
                  user_id: int | None) -> dict[str, Any]:
    """Queue a command for the agent; a repeated key returns the existing command (whatever its status).
    Refused for an unknown or revoked agent. The caller wakes the agent after commit (channels/edge/wake.py)."""
    if kind not in KINDS:
        raise Invalid(f"Неизвестная команда: {str(kind)[:40]}", field="kind")
    if not isinstance(payload, dict):
        raise Invalid("Данные команды: ожидается объект", field="payload")
    k = _uuid(key)
    params = {"a": agent_id, "k": k, "kind": kind, "p": _json(payload, "payload"), "u": user_id}
    row = (await conn.execute(text(f"""
        INSERT INTO edge_commands(agent_id, key, kind, payload, created_by)
        SELECT :a, :k, :kind, CAST(:p AS jsonb), :u FROM edge_agents WHERE id = :a AND status <> 'revoked'
        ON CONFLICT (key) DO NOTHING
        RETURNING {COLUMNS}"""), params)).first()
    if row is None:  # the key exists (maybe committed just now by another transaction), or no such agent
        row = (await conn.execute(text(f"SELECT {COLUMNS} FROM edge_commands WHERE key = :k"), {"k": k})).first()
        if row is None:
            status = (await conn.execute(text("SELECT status FROM edge_agents WHERE id = :a"),
                                         {"a": agent_id})).scalar_one_or_none()
            if status is None:
                raise NotFound("Агент не найден", field="agent_id")
            raise Conflict("Ключ агента отозван: команды ему больше не отправляются", field="agent_id")
    command = _command(row)
    if command["agent_id"] != agent_id or command["kind"] != kind:
        raise Conflict("Команда с этим ключом уже отправлена другому агенту или другого вида", field="key")
    return command


async def to_send(conn: AsyncConnection, agent_id: int, *, cursor: int, lease_seconds: int = LEASE_SECONDS,
                  limit: int = BATCH) -> list[dict[str, Any]]:
    """The agent's commands to send now, in id order, marked sent (attempts + 1, leased for `lease_seconds`):
    the queued ones, and those sent after the agent's cursor whose lease ran out. Rows another session is
    handing out at this moment are skipped (SKIP LOCKED): that session sends them."""
    rows = await conn.execute(text(f"""
        UPDATE edge_commands c
        SET status = 'sent', attempts = c.attempts + 1, leased_until = now() + make_interval(secs => :lease)
        WHERE c.id IN (
            SELECT id FROM edge_commands
            WHERE agent_id = :a AND (status = 'queued' OR status = 'sent' AND id > :cursor AND leased_until <= now())
            ORDER BY id LIMIT :l FOR UPDATE SKIP LOCKED)
        RETURNING {', '.join('c.' + c.strip() for c in COLUMNS.split(','))}"""),
        {"a": agent_id, "cursor": cursor, "lease": lease_seconds, "l": limit})
    return sorted((_command(r) for r in rows), key=lambda c: c["id"])


async def on_hello(conn: AsyncConnection, agent_id: int, cursor: int) -> int:
    """The agent (re)connected having journaled every command up to `cursor`: those sent to it count as acked,
    those sent after it are leased out again now; the cursor is stored. Returns how many were acked."""
    if isinstance(cursor, bool) or not isinstance(cursor, int) or not 0 <= cursor <= BIGINT_MAX:
        raise Invalid("Курсор агента: ожидается целое число ≥ 0", field="cursor")
    acked = (await conn.execute(text("""
        UPDATE edge_commands SET status = 'acked', acked_at = now(), leased_until = NULL
        WHERE agent_id = :a AND id <= :c AND status = 'sent'"""), {"a": agent_id, "c": cursor})).rowcount
    await conn.execute(text("""
        UPDATE edge_commands SET leased_until = now()
        WHERE agent_id = :a AND id > :c AND status = 'sent' AND leased_until > now()"""), {"a": agent_id, "c": cursor})
    await conn.execute(text("UPDATE edge_agents SET cursor = :c WHERE id = :a AND cursor <> :c"),
                       {"a": agent_id, "c": cursor})
    return acked


async def ack(conn: AsyncConnection, agent_id: int, command_id: int) -> bool:
    """The agent journaled the command; False when it is not the agent's or is past being acked."""
    return (await conn.execute(text("""
        UPDATE edge_commands SET status = 'acked', acked_at = now(), leased_until = NULL
        WHERE id = :i AND agent_id = :a AND status IN ('queued', 'sent')"""),
        {"i": command_id, "a": agent_id})).rowcount > 0


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str) and message.strip():
            return message.strip()[:1000]
        code = error.get("code")
        return f"{NO_REASON} ({str(code)[:40]})" if code else NO_REASON
    if isinstance(error, str) and error.strip():
        return error.strip()[:1000]
    return NO_REASON


async def record_result(conn: AsyncConnection, agent_id: int, command_id: int, ok: bool, result: Any,
                        error: Any) -> dict[str, Any] | None:
    """The agent's result: the command becomes done (ok) or failed; returns it, or None when it was already
    done or failed (a duplicate result) or is not this agent's."""
    if ok:
        stored, message = _json(result if isinstance(result, dict) else {}, "result"), None
    else:
        stored = _json({"error": error if isinstance(error, dict) else {"message": _error_text(error)}}, "result")
        message = _error_text(error)
    row = (await conn.execute(text(f"""
        UPDATE edge_commands
        SET status = CASE WHEN :ok THEN 'done' ELSE 'failed' END, done_at = now(), result = CAST(:r AS jsonb),
            error = :e, acked_at = coalesce(acked_at, now()), leased_until = NULL
        WHERE id = :i AND agent_id = :a AND status IN ('queued', 'sent', 'acked')
        RETURNING {COLUMNS}"""), {"i": command_id, "a": agent_id, "ok": bool(ok), "r": stored, "e": message})).first()
    return _command(row) if row is not None else None


async def get(conn: AsyncConnection, command_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"SELECT {COLUMNS} FROM edge_commands WHERE id = :i"), {"i": command_id})).first()
    if row is None:
        raise NotFound("Команда не найдена")
    return _command(row)


async def recent(conn: AsyncConnection, agent_id: int, limit: int = 20, offset: int = 0) -> tuple[list[dict], int]:
    """The agent's commands, newest first; (page, total)."""
    rows = await conn.execute(text(f"""
        SELECT {COLUMNS} FROM edge_commands WHERE agent_id = :a ORDER BY id DESC LIMIT :l OFFSET :o"""),
        {"a": agent_id, "l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(*) FROM edge_commands WHERE agent_id = :a"),
                                {"a": agent_id})).scalar_one()
    return [_command(r) for r in rows], total


def _origin_key(command: dict[str, Any]) -> uuid.UUID:
    """What a retry's key derives from: the receipt's own key (payload.key), else the command's key."""
    if command["kind"] == "receipt" and isinstance(command["payload"].get("key"), str):
        try:
            return uuid.UUID(command["payload"]["key"])
        except ValueError:
            pass
    return uuid.UUID(command["key"])


async def retry(conn: AsyncConnection, command_id: int, *, user_id: int | None = None) -> dict[str, Any]:
    """A failed command sent again as a new command with the same payload; its key is uuid5(origin key,
    "retry-N") with the first N not taken yet, so two concurrent retries are one command. Refused while a
    later command of the same origin is open or done."""
    command = await get(conn, command_id)
    if command["status"] != "failed":
        raise Conflict("Повторить можно только команду, завершившуюся ошибкой", field="command_id")
    origin = _origin_key(command)
    candidates = [uuid.uuid5(origin, f"retry-{n}") for n in range(1, RETRY_MAX + 1)]
    rows = (await conn.execute(text("SELECT key, id, status FROM edge_commands WHERE key = ANY(:k)"),
                               {"k": [origin, *candidates]})).all()
    if any(r.id > command_id and r.status != "failed" for r in rows):
        raise Conflict("Команда уже отправлена повторно", field="command_id")
    taken = {r.key for r in rows}
    free = next((k for k in candidates if k not in taken), None)
    if free is None:
        raise Conflict(f"Команду повторяли уже {RETRY_MAX} раз: проверьте кассу", field="command_id")
    return await enqueue(conn, agent_id=command["agent_id"], kind=command["kind"], key=free,
                         payload=command["payload"], user_id=user_id)
