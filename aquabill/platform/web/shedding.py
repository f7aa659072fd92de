"""Load shedding: past its capacity a process answers 503 at once instead of queueing without bound.

Each app process works on at most `web_max_in_flight` HTTP requests at a time (4 by default). A request here
is mostly CPU — the card costs about 4 ms in the app and 1.5 ms in PostgreSQL — so a few in flight keep a
core busy, and more only make every one of them wait longer for the event loop and the database (on the
2-core machine, 20 in flight per process answered fewer cards a second, with p99 near a second, than 4).
A request over the limit waits for a free slot at most `web_queue_ms` (first come, first served), then gets
503 with `Retry-After` and the uniform error body. Health probes and WebSockets are not limited: a probe
must answer while the process is busy, and a socket is one long connection, not a request. Nor are the
messengers' webhooks: Telegram and MAX bound their own concurrent deliveries per bot (Telegram's
`max_connections` of `setWebhook`), the conversations' database work is bounded by `Conversations`, and a
503 would only make the messenger deliver the update again later, which costs a subscriber seconds. Nor are the
cash desks' edge agents (`/edge/enroll`, `/edge/ws`): an agent enrolls once, then keeps one socket.

A pure ASGI wrapper: the fast path is a counter check, no task, no allocation. Litestar builds the
middleware once per route, so the limiter is one object per app (per process) shared by all the routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec

from aquabill.platform.config import Settings
from aquabill.platform.web.errors import OVERLOADED, RETRY_AFTER_SECONDS, error_body

EXEMPT_PREFIXES = ("/health", "/bots/telegram/", "/bots/max/", "/edge/")
_BODY = msgspec.json.encode(error_body(*OVERLOADED))
_START = {
    "type": "http.response.start",
    "status": 503,
    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode())],
}


class Limiter:
    """The in-flight requests of one process: a slot each, a bounded wait for one when all are taken."""

    def __init__(self, max_in_flight: int, max_wait_seconds: float) -> None:
        if max_in_flight < 1:
            raise ValueError("the in-flight limit must be at least 1")
        self.max_in_flight = max_in_flight
        self.max_wait = max(0.0, max_wait_seconds)
        self._slots = asyncio.Semaphore(max_in_flight)
        self.waiting = 0  # requests waiting for a slot now (diagnostics)
        self.shed = 0  # requests answered 503 so far (diagnostics)

    async def acquire(self) -> bool:
        """Take a slot (True), or give up (False) when none frees within the wait."""
        if not self._slots.locked():
            await self._slots.acquire()  # free slot: returns without suspending
            return True
        if self.max_wait <= 0:
            self.shed += 1
            return False
        self.waiting += 1
        try:
            async with asyncio.timeout(self.max_wait):
                await self._slots.acquire()
            return True
        except TimeoutError:
            self.shed += 1
            return False
        finally:
            self.waiting -= 1

    def release(self) -> None:
        self._slots.release()


async def send_overloaded(send) -> None:
    await send(_START)
    await send({"type": "http.response.body", "body": _BODY})


def shedding_middleware(settings: Settings) -> Callable:
    """The middleware factory that wraps each route with the app's one limiter."""
    limiter = Limiter(settings.web_max_in_flight, settings.web_queue_ms / 1000)

    def middleware(app):
        async def shed(scope, receive, send):
            if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
                await app(scope, receive, send)
                return
            if not await limiter.acquire():
                await send_overloaded(send)
                return
            try:
                await app(scope, receive, send)
            finally:
                limiter.release()

        return shed

    return middleware
