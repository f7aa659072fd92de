"""The enrollment door (`POST /edge/enroll`, no session): a one-time code for the tenant named → a device key.

An unknown or inactive tenant is refused exactly like a bad code (403, the same message: nobody learns which
tenants exist). Refused attempts are counted per client address (ATTEMPTS per WINDOW_SECONDS): past the limit every
attempt from that address is 429 until the window ends, so codes cannot be guessed (32^10 of them, 24 h each).
Malformed requests (422) are not counted: they guess nothing.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from aquabill.base.errors import DomainError
from aquabill.cash import agents
from aquabill.channels.edge.sessions import enroll_limit_key
from aquabill.platform.realtime import publish
from aquabill.platform.state import Core
from aquabill.tenants import registry
from aquabill.tenants.context import tenant_transaction

log = logging.getLogger(__name__)

ATTEMPTS = 20  # refused attempts per client address …
WINDOW_SECONDS = 600  # … in this window
WS_URL = "/edge/ws"


class TooManyAttempts(DomainError):
    status_code = 429
    code = "rate_limited"


async def _check_limit(core: Core, who: str) -> None:
    key = enroll_limit_key(core.keys, who)
    count = int(await core.redis.get(key) or 0)
    if count >= ATTEMPTS:
        ttl = await core.redis.ttl(key)
        raise TooManyAttempts("Слишком много неудачных попыток подключения. Повторите через "
                              f"{max(1, (max(ttl, 0) + 59) // 60)} мин.")


async def _count_refusal(core: Core, who: str) -> None:
    key = enroll_limit_key(core.keys, who)
    if await core.redis.incr(key) == 1 or await core.redis.ttl(key) < 0:
        await core.redis.expire(key, WINDOW_SECONDS)


async def enroll(core: Core, *, tenant_slug: str, code: str, name: str, version: str, client: str) -> dict[str, Any]:
    """Use the code in the tenant's schema: {"agent_id", "tenant", "key", "ws_url"}; agents.Refused (403) or
    TooManyAttempts (429) otherwise."""
    who = hashlib.sha256(client.encode()).hexdigest()[:32]
    await _check_limit(core, who)
    slug = tenant_slug.strip().lower()
    try:
        tenant = None
        if 2 <= len(slug) <= 40:
            async with core.engines.control.connect() as conn:
                tenant = await registry.by_slug(conn, slug)
        if tenant is None or tenant.status != "active":
            raise agents.Refused(agents.REFUSED_CODE)
        async with tenant_transaction(core.engines, tenant) as conn:
            done = await agents.enroll(conn, code, name, version, slug=tenant.slug)
    except agents.Refused:
        await _count_refusal(core, who)
        raise
    log.info("edge agent %s of tenant %s enrolled (host %r, version %r)", done["agent_id"], tenant.slug, name, version)
    try:
        await publish(core.redis, core.keys, tenant.id, "edge.agent",
                      {"agent_id": done["agent_id"], "online": False, "enrolled": True})
    except Exception:  # the page refreshes on its own later; the agent has its key
        log.warning("publishing the enrollment of edge agent %s failed", done["agent_id"], exc_info=True)
    return {"agent_id": done["agent_id"], "tenant": tenant.slug, "key": done["key"], "ws_url": WS_URL}
