"""Request events over the WebSocket: a tenant's clients get request.created / request.assigned (and the
timers' reassignment) with the request's number, assignee and deadline; another tenant's client gets none."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import httpx
import websockets

from aquabill.platform.jobs.request_timers import all_tenants_timers, tenant_timers
from tests.integration.billing_core.conftest import small_registry

WAIT = 15.0


async def _collect(ws, bag: list[dict]) -> None:
    try:
        async for raw in ws:
            frame = json.loads(raw)  # one event, or a backlog as a list of events
            for event in frame if isinstance(frame, list) else [frame]:
                if event.get("type", "").startswith("request."):
                    bag.append(event)
    except websockets.ConnectionClosed:
        pass


async def _wait_for(bag: list[dict], pred, what: str) -> dict:
    async with asyncio.timeout(WAIT):
        while True:
            for e in bag:
                if pred(e):
                    return e
            await asyncio.sleep(0.05)
    raise AssertionError(what)


async def _user(http: httpx.AsyncClient, login: str) -> int:
    r = await http.post("/api/users", json={"login": login, "password": "executor-pass-1", "full_name": login,
                                            "roles": ["operator"]})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_request_events_reach_only_their_tenant(app_servers, make_tenant, core):
    a = await make_tenant(seed=small_registry)
    b = await make_tenant(seed=small_registry)
    server = app_servers[0]
    got_a: list[dict] = []
    got_b: list[dict] = []
    async with websockets.connect(server.ws, additional_headers=a.headers) as ws_a, \
            websockets.connect(server.ws, additional_headers=b.headers) as ws_b:
        for ws in (ws_a, ws_b):
            assert json.loads(await ws.recv())["type"] == "hello"
        readers = [asyncio.create_task(_collect(ws_a, got_a)), asyncio.create_task(_collect(ws_b, got_b))]
        async with httpx.AsyncClient(base_url=server.base, headers=a.headers) as http:
            first, second = await _user(http, "first"), await _user(http, "second")
            div = (await http.post("/api/divisions", json={"code": "avar", "name": "Аварийная"})).json()
            for uid in (first, second):
                r = await http.post("/api/executors", json={"user_id": uid, "division_id": div["id"], "cap": 5})
                assert r.status_code == 201, r.text
            route = (await http.get("/api/request-routes?kind=emergency")).json()["items"][0]
            r = await http.patch(f"/api/route-phases/{route['phases'][0]['id']}", json={"division_id": div["id"]})
            assert r.status_code == 200, r.text
            r = await http.post("/api/requests", json={"kind": "emergency", "account_id": 1, "description": "Течь"})
            assert r.status_code == 201, r.text
            req = r.json()
        created = await _wait_for(got_a, lambda e: e["type"] == "request.created", "request.created")
        assigned = await _wait_for(got_a, lambda e: e["type"] == "request.assigned", "request.assigned")
        assert created["data"]["number"] == req["number"]
        data = assigned["data"]
        assert (data["id"], data["number"], data["assignee_user_id"]) == (req["id"], req["number"], first)
        assert data["phase"] == "Выезд бригады" and datetime.fromisoformat(data["deadline"]) == \
            datetime.fromisoformat(req["phase_deadline"])

        # the first executor stays silent past the reaction time (15 min): the timers reassign it
        later = datetime.fromisoformat(req["reaction_deadline"]) + timedelta(minutes=1)
        stats = await tenant_timers(core, a.tenant, later)
        assert stats["reaction_checked"] == 1
        moved = await _wait_for(got_a, lambda e: e["type"] == "request.assigned" and e["data"]["reassigned"],
                                "reassignment")
        assert moved["data"]["assignee_user_id"] == second and moved["data"]["previous_assignee_user_id"] == first
        # the cron's pass over every tenant (at the real time nothing is due yet) leaves it be
        assert (await all_tenants_timers(core, datetime.fromisoformat(req["created_at"])))["tenants"] >= 2

        await asyncio.sleep(1.0)
        for task in readers:
            task.cancel()
    assert got_b == [], f"tenant B received A's request events: {got_b}"
