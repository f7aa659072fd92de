"""The agents' live sessions in Redis, shared by every app process: one session per agent.

A connecting agent claims `…:t<tenant>:edge:session:<agent>` with its new session id (the newer connection
always wins); the session renews the key every few seconds while it is still the holder and gives it up when it
ends (compare-and-delete: a newer holder is left alone). A session that finds another id there was replaced and
closes (4409). The key expires SESSION_TTL seconds after its process stopped renewing it (a crash), so
`online` is never stuck. Rate counters of the enrollment door live here too.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis

from aquabill.platform.keys import Keys

SESSION_TTL = 30  # seconds; renewed every poll (2 s) by the holding session

# KEYS: the session key. ARGV: the session id, the lifetime. Renews the key when this session still holds it.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
"""
# KEYS: the session key. ARGV: the session id. Deletes the key when this session still holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def session_key(keys: Keys, tenant_id: int, agent_id: int) -> str:
    return f"{keys.prefix}:t{tenant_id}:edge:session:{agent_id}"


def enroll_limit_key(keys: Keys, who: str) -> str:
    """Counter of refused enrollment attempts from one client address in the current window."""
    return f"{keys.prefix}:edge:enroll:{who}"


async def claim(redis: Redis, keys: Keys, tenant_id: int, agent_id: int, session_id: str) -> None:
    await redis.set(session_key(keys, tenant_id, agent_id), session_id, ex=SESSION_TTL)


async def renew(redis: Redis, keys: Keys, tenant_id: int, agent_id: int, session_id: str) -> bool:
    """True while this session holds the agent (the key renewed); False once a newer one claimed it."""
    return bool(await redis.eval(_RENEW, 1, session_key(keys, tenant_id, agent_id), session_id, SESSION_TTL))


async def release(redis: Redis, keys: Keys, tenant_id: int, agent_id: int, session_id: str) -> bool:
    """Give the agent up; True when this session still held it (so the agent is now offline)."""
    return bool(await redis.eval(_RELEASE, 1, session_key(keys, tenant_id, agent_id), session_id))


async def online(redis: Redis, keys: Keys, tenant_id: int, agent_ids: Iterable[int]) -> set[int]:
    """Those of the tenant's agents connected right now (to any app process)."""
    ids = list(dict.fromkeys(agent_ids))
    if not ids:
        return set()
    values = await redis.mget([session_key(keys, tenant_id, a) for a in ids])
    return {a for a, v in zip(ids, values, strict=True) if v is not None}
