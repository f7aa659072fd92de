"""Agents' presence (online / busy / away / offline), kept in Redis per tenant and announced live.

A staff member is online while at least one of their sockets is open (counted per user); they choose
busy or away themselves. Each open socket refreshes `seen`; an entry not refreshed for STALE_SECONDS
(a process that died without closing its sockets) reads as offline.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from aquabill.platform.keys import Keys
from aquabill.platform.realtime import publish

STATUSES = {"online": "В сети", "busy": "Занят", "away": "Отошёл", "offline": "Не в сети"}
CHOOSABLE = ("online", "busy", "away")
STALE_SECONDS = 60.0
REFRESH_SECONDS = 20.0


@dataclass(frozen=True, slots=True)
class Presence:
    user_id: int
    login: str
    name: str
    status: str
    since: float

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "login": self.login, "name": self.name, "status": self.status,
                "status_name": STATUSES[self.status], "since": self.since}


def _decode(raw: bytes | str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


class PresenceBook:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def _write(self, tenant_id: int, user_id: int, entry: dict[str, Any]) -> None:
        await self.redis.hset(self.keys.presence(tenant_id), str(user_id), json.dumps(entry, ensure_ascii=False))

    async def _announce(self, tenant_id: int, entry: dict[str, Any], user_id: int) -> None:
        await publish(self.redis, self.keys, tenant_id, "presence.changed",
                      Presence(user_id, entry["login"], entry["name"], entry["status"], entry["since"]).as_dict())

    async def connected(self, tenant_id: int, user_id: int, login: str, name: str) -> None:
        """A socket of the user opened: online unless they chose busy/away and are still seen."""
        now = time.time()
        entry = _decode(await self.redis.hget(self.keys.presence(tenant_id), str(user_id)))
        fresh = entry is not None and now - entry.get("seen", 0) < STALE_SECONDS
        if not fresh:  # sockets counted by a process that died are forgotten
            await self.redis.hset(self.keys.presence_sockets(tenant_id), str(user_id), 0)
        await self.redis.hincrby(self.keys.presence_sockets(tenant_id), str(user_id), 1)
        keep = fresh and entry["status"] in CHOOSABLE
        new = {"login": login, "name": name, "status": entry["status"] if keep else "online",
               "since": entry["since"] if keep else now, "seen": now}
        await self._write(tenant_id, user_id, new)
        if not keep:
            await self._announce(tenant_id, new, user_id)

    async def seen(self, tenant_id: int, user_id: int) -> None:
        entry = _decode(await self.redis.hget(self.keys.presence(tenant_id), str(user_id)))
        if entry is not None and entry["status"] != "offline":
            entry["seen"] = time.time()
            await self._write(tenant_id, user_id, entry)

    async def disconnected(self, tenant_id: int, user_id: int) -> None:
        left = await self.redis.hincrby(self.keys.presence_sockets(tenant_id), str(user_id), -1)
        if left > 0:
            return
        await self.redis.hset(self.keys.presence_sockets(tenant_id), str(user_id), 0)
        entry = _decode(await self.redis.hget(self.keys.presence(tenant_id), str(user_id)))
        if entry is not None and entry["status"] != "offline":
            entry.update(status="offline", since=time.time(), seen=time.time())
            await self._write(tenant_id, user_id, entry)
            await self._announce(tenant_id, entry, user_id)

    async def choose(self, tenant_id: int, user_id: int, login: str, name: str, status: str) -> Presence:
        """The agent's own choice of online / busy / away."""
        if status not in CHOOSABLE:
            raise ValueError(f"Недопустимый статус «{status}»: возможны {', '.join(CHOOSABLE)}")
        now = time.time()
        entry = {"login": login, "name": name, "status": status, "since": now, "seen": now}
        await self._write(tenant_id, user_id, entry)
        await self._announce(tenant_id, entry, user_id)
        return Presence(user_id, login, name, status, now)

    async def everyone(self, tenant_id: int) -> list[Presence]:
        now = time.time()
        out = []
        for user, raw in (await self.redis.hgetall(self.keys.presence(tenant_id))).items():
            entry = _decode(raw)
            if entry is None:
                continue
            status = entry["status"] if now - entry.get("seen", 0) < STALE_SECONDS else "offline"
            out.append(Presence(int(user), entry["login"], entry["name"], status, entry["since"]))
        return sorted(out, key=lambda p: (p.status == "offline", p.name or p.login))
