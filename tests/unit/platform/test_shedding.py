"""The per-process request limiter (web/shedding.py) and the serving settings, without a server."""

import asyncio
import os

import msgspec
import pytest

from aquabill.platform.config import Settings
from aquabill.platform.serving import web_workers
from aquabill.platform.web.shedding import Limiter, shedding_middleware


async def test_over_the_limit_without_waiting_is_refused_at_once():
    limiter = Limiter(2, 0)
    assert [await limiter.acquire(), await limiter.acquire(), await limiter.acquire()] == [True, True, False]
    assert limiter.shed == 1
    limiter.release()
    assert await limiter.acquire() is True


async def test_a_waiting_request_gets_the_next_free_slot_first_come_first_served():
    limiter = Limiter(1, 60)
    assert await limiter.acquire()
    first = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    second = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    assert limiter.waiting == 2
    limiter.release()
    assert await first is True and not second.done()
    limiter.release()
    assert await second is True and limiter.waiting == 0 and limiter.shed == 0


async def test_a_wait_that_runs_out_is_refused_and_frees_its_place():
    limiter = Limiter(1, 0.01)
    assert await limiter.acquire()
    assert await limiter.acquire() is False
    assert (limiter.waiting, limiter.shed) == (0, 1)
    limiter.release()
    assert await limiter.acquire() is True  # the slot given back once is free again, not lost


def test_the_limiter_needs_a_slot():
    with pytest.raises(ValueError):
        Limiter(0, 1)


async def _call(app, path: str, kind: str = "http") -> list[dict]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    await app({"type": kind, "path": path}, receive, send)
    return sent


async def test_middleware_answers_503_with_retry_after_and_leaves_probes_and_sockets_alone():
    settings = Settings.from_env(env={}, web_max_in_flight=1, web_queue_ms=0)
    gate = asyncio.Event()
    passed: list[str] = []

    async def app(scope, receive, send):
        passed.append(scope["path"])
        if scope["path"] == "/slow":
            await gate.wait()

    wrapped = shedding_middleware(settings)(app=app)
    slow = asyncio.create_task(_call(wrapped, "/slow"))
    await asyncio.sleep(0)
    start, body = await _call(wrapped, "/api/accounts/1/card")
    assert start["status"] == 503 and (b"retry-after", b"1") in start["headers"]
    assert msgspec.json.decode(body["body"]) == {"error": {
        "code": "overloaded", "message": "Сервер перегружен, повторите запрос через несколько секунд", "fields": []}}
    assert await _call(wrapped, "/health/live") == [] and await _call(wrapped, "/ws", "websocket") == []
    gate.set()
    await slow
    assert await _call(wrapped, "/api/accounts/1/card") == []
    assert passed == ["/slow", "/health/live", "/ws", "/api/accounts/1/card"]


def test_settings_read_the_serving_variables_and_workers_default_to_the_cores():
    s = Settings.from_env(env={"AQUABILL_WEB_WORKERS": "3", "AQUABILL_WEB_MAX_IN_FLIGHT": "7",
                               "AQUABILL_WEB_QUEUE_MS": "25"})
    assert (s.web_workers, s.web_max_in_flight, s.web_queue_ms) == (3, 7, 25.0)
    defaults = Settings.from_env(env={})
    assert (defaults.web_workers, defaults.web_max_in_flight, defaults.web_queue_ms) == (0, 4, 200.0)
    assert web_workers(s) == 3
    assert web_workers(defaults) == len(os.sched_getaffinity(0))
    with pytest.raises(ValueError, match="AQUABILL_WEB_WORKERS"):
        Settings.from_env(env={"AQUABILL_WEB_WORKERS": "many"})
