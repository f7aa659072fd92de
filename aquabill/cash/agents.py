"""The edge agents of a cash point: added (pending), enrolled with a one-time code, revoked; their device keys.

An admin adds an agent and issues it an enrollment code: 10 characters from ALPHABET (no 0/O, 1/I), shown once
as `XXXXX-XXXXX`, valid CODE_HOURS; only its SHA-256 is stored, and a new code voids the agent's unused ones.
The agent enrolls with the code (`enroll`, once: the code is used in the same statement that checks it) and gets
its long-lived device key `ek1.<tenant slug>.<agent id>.<secret>`; the server keeps the SHA-256 of the whole key.
Enrolling again with a new code replaces the key (the old one stops working). Revoking ends the agent for good
(status revoked, who and when); the gateway closes its live session within seconds (channels/edge/gateway.py).
Every change of an agent or a code is audited by the tables' triggers (t0030), with the acting user of the
transaction; key and code hashes are left out of the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, DomainError, Invalid, NotFound

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
CODE_HOURS = 24
KEY_VERSION = "ek1"
KEY_MAX = 256
NAME_MAX = 100
STATUSES = {"pending": "ожидает подключения", "active": "подключён", "revoked": "ключ отозван"}
REFUSED_CODE = "Код подключения неверен, уже использован или истёк. Выдайте новый код на странице кассы."
_KEY_RE = re.compile(r"^ek1\.([a-z][a-z0-9-]{1,39})\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{20,200})$")
_DUMMY_HASH = hashlib.sha256(b"no such agent").hexdigest()
INT4_MAX = 2_147_483_647

COLUMNS = ("id, cash_point_id, name, status, cursor, device, version, last_seen_at, last_address, enrolled_at, "
           "revoked_at, revoked_by, created_at, created_by")


class Refused(DomainError):
    """The enrollment code is not (or no longer) valid: 403."""

    status_code = 403
    code = "forbidden"


# ---- codes and keys (pure) ----------------------------------------------------------------------------

def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """`ABCDEFGHJK` → `ABCDE-FGHJK` (how it is shown)."""
    return f"{code[:5]}-{code[5:]}"


def normalize_code(raw: Any) -> str | None:
    """A code as typed: case-insensitive, dashes and spaces ignored; None when it cannot be a code."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    code = raw.upper().replace("-", "").replace(" ", "")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_key(slug: str, agent_id: int) -> str:
    return f"{KEY_VERSION}.{slug}.{agent_id}.{secrets.token_urlsafe(32)}"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key(key: Any) -> tuple[str, int] | None:
    """(tenant slug, agent id) named by a device key, or None when it is not one."""
    if not isinstance(key, str) or len(key) > KEY_MAX:
        return None
    m = _KEY_RE.match(key)
    if m is None or int(m.group(2)) > INT4_MAX:
        return None
    return m.group(1), int(m.group(2))


def _name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("Укажите название агента, например «Окно 1»", field=field)
    value = value.strip()
    if len(value) > NAME_MAX or any(ord(ch) < 32 for ch in value):
        raise Invalid(f"Название агента: не длиннее {NAME_MAX} символов, без служебных знаков", field=field)
    return value


def _agent(row) -> dict[str, Any]:
    d = dict(row._mapping)
    if isinstance(d.get("device"), str):
        d["device"] = json.loads(d["device"])
    return d


# ---- the agent's life ---------------------------------------------------------------------------------

async def create_agent(conn: AsyncConnection, cash_point_id: int, name: Any, *, user_id: int | None) -> dict[str, Any]:
    name = _name(name)
    point = (await conn.execute(text("SELECT active FROM cash_points WHERE id = :p"), {"p": cash_point_id})).first()
    if point is None:
        raise NotFound("Касса не найдена")
    if not point.active:
        raise Conflict("Касса не действует: агента к ней не добавить")
    row = (await conn.execute(text(f"""
        INSERT INTO edge_agents(cash_point_id, name, created_by) VALUES (:p, :n, :u) RETURNING {COLUMNS}"""),
        {"p": cash_point_id, "n": name, "u": user_id})).one()
    return _agent(row)


async def get_agent(conn: AsyncConnection, agent_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (await conn.execute(text(f"SELECT {COLUMNS} FROM edge_agents WHERE id = :i"
                                   + (" FOR UPDATE" if lock else "")), {"i": agent_id})).first()
    if row is None:
        raise NotFound("Агент не найден")
    return _agent(row)


async def rename_agent(conn: AsyncConnection, agent_id: int, name: Any) -> dict[str, Any]:
    name = _name(name)
    await get_agent(conn, agent_id)
    await conn.execute(text("UPDATE edge_agents SET name = :n WHERE id = :i AND name <> :n"), {"i": agent_id, "n": name})
    return await get_agent(conn, agent_id)


async def issue_code(conn: AsyncConnection, agent_id: int, *, user_id: int | None) -> dict[str, Any]:
    """A new one-time enrollment code for the agent (its unused codes are voided): the code as shown, once."""
    agent = await get_agent(conn, agent_id, lock=True)
    if agent["status"] == "revoked":
        raise Conflict("Ключ этого агента отозван: добавьте нового агента", field="agent_id")
    await conn.execute(text(
        "UPDATE edge_enrollments SET expires_at = now() WHERE agent_id = :a AND used_at IS NULL AND expires_at > now()"),
        {"a": agent_id})
    while True:  # 32^10 codes: a collision with a stored hash is practically impossible, but cheap to rule out
        code = new_code()
        row = (await conn.execute(text("""
            INSERT INTO edge_enrollments(agent_id, code_hash, expires_at, created_by)
            VALUES (:a, :h, now() + make_interval(hours => :hours), :u)
            ON CONFLICT (code_hash) DO NOTHING RETURNING id, expires_at"""),
            {"a": agent_id, "h": code_hash(code), "hours": CODE_HOURS, "u": user_id})).first()
        if row is not None:
            return {"agent_id": agent_id, "code": format_code(code), "expires_at": row.expires_at}


async def enroll(conn: AsyncConnection, code: Any, name: Any, version: Any, *, slug: str) -> dict[str, Any]:
    """Use a code: the agent becomes active with a new device key (returned once, never stored).
    A used, expired or unknown code (or one of a revoked agent) → Refused."""
    normal = normalize_code(code)
    if normal is None:
        raise Refused(REFUSED_CODE)
    host = name.strip()[:NAME_MAX] if isinstance(name, str) else ""
    ver = version.strip()[:32] if isinstance(version, str) else ""
    row = (await conn.execute(text("""
        UPDATE edge_enrollments e SET used_at = now()
        FROM edge_agents a
        WHERE e.code_hash = :h AND e.used_at IS NULL AND e.expires_at > now()
          AND a.id = e.agent_id AND a.status <> 'revoked'
        RETURNING e.agent_id, a.cash_point_id"""), {"h": code_hash(normal)})).first()
    if row is None:
        raise Refused(REFUSED_CODE)
    key = new_key(slug, row.agent_id)
    await conn.execute(text("""
        UPDATE edge_agents SET status = 'active', key_hash = :k, enrolled_at = now(), version = :v,
               device = device || jsonb_build_object('host', CAST(:host AS text))
        WHERE id = :a"""), {"a": row.agent_id, "k": key_hash(key), "v": ver, "host": host})
    await conn.execute(text(
        "UPDATE edge_enrollments SET expires_at = now() WHERE agent_id = :a AND used_at IS NULL AND expires_at > now()"),
        {"a": row.agent_id})
    return {"agent_id": row.agent_id, "cash_point_id": row.cash_point_id, "key": key}


async def revoke(conn: AsyncConnection, agent_id: int, *, user_id: int | None) -> dict[str, Any]:
    """End the agent for good: its key stops working and its unused codes are voided (twice is once)."""
    agent = await get_agent(conn, agent_id, lock=True)
    if agent["status"] == "revoked":
        return agent
    await conn.execute(text(
        "UPDATE edge_agents SET status = 'revoked', revoked_at = now(), revoked_by = :u WHERE id = :a"),
        {"a": agent_id, "u": user_id})
    await conn.execute(text(
        "UPDATE edge_enrollments SET expires_at = now() WHERE agent_id = :a AND used_at IS NULL AND expires_at > now()"),
        {"a": agent_id})
    return await get_agent(conn, agent_id)


# ---- what the gateway asks -------------------------------------------------------------------------------

async def authenticate(conn: AsyncConnection, key: Any) -> dict[str, Any] | None:
    """The active agent whose device key this is (in the transaction's tenant), else None. The stored hash is
    compared in constant time, and as much work is done for an unknown agent as for a known one."""
    parsed = parse_key(key)
    if parsed is None:
        return None
    row = (await conn.execute(text(f"SELECT {COLUMNS}, key_hash FROM edge_agents WHERE id = :i"),
                              {"i": parsed[1]})).first()
    stored = row.key_hash if row is not None and row.status == "active" and row.key_hash else _DUMMY_HASH
    if not hmac.compare_digest(stored, key_hash(key)) or row is None or row.status != "active":
        return None
    agent = _agent(row)
    agent.pop("key_hash", None)
    return agent


async def is_current(conn: AsyncConnection, agent_id: int, hashed_key: str) -> bool:
    """Is the agent still active with this key (not revoked, not enrolled again with another)?"""
    stored = (await conn.execute(text("SELECT key_hash FROM edge_agents WHERE id = :i AND status = 'active'"),
                                 {"i": agent_id})).scalar_one_or_none()
    return stored is not None and hmac.compare_digest(stored, hashed_key)


async def touch(conn: AsyncConnection, agent_id: int, *, address: str | None = None, version: str | None = None,
                device: dict[str, Any] | None = None, every_seconds: int = 60) -> None:
    """Note that the agent was seen (and what it reported). `last_seen_at` alone is written at most once per
    `every_seconds` (each write is an audited row change); a new address, version or device state always."""
    dev = json.dumps(device, ensure_ascii=False) if isinstance(device, dict) else None
    await conn.execute(text("""
        WITH v AS (
            SELECT coalesce(CAST(:addr AS text), a.last_address) AS addr, coalesce(CAST(:ver AS text), a.version) AS ver,
                   CASE WHEN CAST(:dev AS jsonb) IS NULL THEN a.device
                        WHEN a.device ? 'host' THEN CAST(:dev AS jsonb) || jsonb_build_object('host', a.device->'host')
                        ELSE CAST(:dev AS jsonb) END AS dev
            FROM edge_agents a WHERE a.id = :a)
        UPDATE edge_agents a SET last_seen_at = now(), last_address = v.addr, version = v.ver, device = v.dev
        FROM v
        WHERE a.id = :a AND (a.last_seen_at IS NULL OR a.last_seen_at < now() - make_interval(secs => :every)
               OR a.last_address <> v.addr OR a.version <> v.ver OR a.device <> v.dev)"""),
        {"a": agent_id, "addr": None if address is None else address[:100],
         "ver": None if version is None else version[:32], "dev": dev, "every": every_seconds})


async def set_cursor(conn: AsyncConnection, agent_id: int, cursor: int) -> None:
    """The highest command id the agent says it has journaled (it resumes from there)."""
    await conn.execute(text("UPDATE edge_agents SET cursor = :c WHERE id = :a AND cursor <> :c"),
                       {"a": agent_id, "c": cursor})
