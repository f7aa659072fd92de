"""Jobs: registry row, arq worker, progress over the API and pushed live over the WebSocket."""

import asyncio
import json

import httpx
import pytest
import websockets

from tests.conftest import ADMIN_PASSWORD


async def _events_until(ws, predicate, limit_s=20.0):
    seen = []
    async with asyncio.timeout(limit_s):
        while True:
            frame = json.loads(await ws.recv())
            for ev in frame if isinstance(frame, list) else [frame]:  # events may come as an array
                seen.append(ev)
                if predicate(ev):
                    return seen


async def test_job_progress_over_api_and_websocket(app_servers, make_tenant, worker):
    t = await make_tenant()
    server = app_servers[0]
    async with websockets.connect(server.ws, additional_headers=t.headers) as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello" and hello["data"]["tenant"] == t.tenant.slug
        async with httpx.AsyncClient(base_url=server.base, headers=t.headers) as http:
            r = await http.post("/api/jobs", json={"kind": "audit.summary", "params": {}})
            assert r.status_code == 202, r.text
            job = r.json()
            assert job["status"] == "queued" and job["title"] == "Сводка журнала изменений"
            events = await _events_until(ws, lambda e: e["type"] == "job.finished" and e["data"]["id"] == job["id"])
            done = (await http.get(f"/api/jobs/{job['id']}")).json()

    events = [e for e in events if e["type"].startswith("job.")]  # (presence.changed: this very socket)
    types = [e["type"] for e in events]
    assert types[0] == "job.queued" and "job.started" in types and types[-1] == "job.finished"
    progress = [e["data"]["progress"] for e in events if e["type"] == "job.progress"]
    assert progress and progress == sorted(progress) and progress[-1] == 100.0
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert done["status"] == "done" and done["progress"] == 100.0 and done["finished_at"]
    # the summary counts what the tenant's audit log holds (its admin user was inserted on provisioning)
    assert done["result"]["tables"]["users"]["insert"] == 1


async def test_job_kind_and_permission_checks(client, make_tenant):
    t = await make_tenant()
    r = await client.post("/api/jobs", headers=t.headers, json={"kind": "no.such.job"})
    assert r.status_code == 422 and "Неизвестный вид задания" in r.json()["error"]["message"]
    await client.post("/api/users", headers=t.headers, json={"login": "op2", "password": "operator-pass",
                                                             "roles": ["operator"]})
    token = (await client.post("/api/auth/login", json={"tenant": t.tenant.slug, "login": "op2",
                                                        "password": "operator-pass"})).json()["token"]
    r = await client.post("/api/jobs", headers={"Authorization": f"Bearer {token}"}, json={"kind": "audit.summary"})
    assert r.status_code == 403
    kinds = (await client.get("/api/jobs/kinds", headers={"Authorization": f"Bearer {token}"})).json()["items"]
    assert {"kind": "audit.summary", "title": "Сводка журнала изменений", "allowed": False} in kinds
    # nothing was created by the refused request
    assert (await client.get("/api/jobs", headers=t.headers)).json()["total"] == 0


async def test_failed_job_is_recorded(core, make_tenant, worker):
    """A job whose function raises ends as `failed` with the error, visible over the API."""
    from aquabill.platform.jobs import store
    from aquabill.platform.jobs.registry import JOBS, job
    from aquabill.platform.jobs.service import enqueue
    from aquabill.tenants.context import tenant_transaction

    @job("test.explode", "Тестовое падение", resource="jobs", action="view")
    async def explode(ctx, params):
        await ctx.progress(50, "половина")
        raise ValueError("Файл повреждён: строка 3")

    t = await make_tenant()
    try:
        async with tenant_transaction(core.engines, t.tenant) as conn:
            job_id = await store.create(conn, "test.explode", "Тестовое падение", {}, None)
        await enqueue(core, t.tenant.id, job_id)
        async with asyncio.timeout(20):
            while True:
                async with tenant_transaction(core.engines, t.tenant) as conn:
                    row = await store.get(conn, job_id)
                if row.status in ("done", "failed"):
                    break
                await asyncio.sleep(0.1)
    finally:
        JOBS.pop("test.explode", None)
    assert row.status == "failed" and row.error == "Файл повреждён: строка 3" and float(row.progress) == 50.0


async def test_websocket_from_another_site_is_refused(app_servers, make_tenant):
    t = await make_tenant()
    server = app_servers[1]
    headers = {**t.headers, "Origin": "http://evil.example"}
    with pytest.raises(websockets.InvalidStatus) as refused:  # closed before accept: 403 at the handshake
        async with websockets.connect(server.ws, additional_headers=headers):
            pass
    assert refused.value.response.status_code == 403
    same_site = {**t.headers, "Origin": server.base}
    async with websockets.connect(server.ws, additional_headers=same_site) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"


async def test_websocket_closes_when_its_session_ends(app_servers, make_tenant, client):
    """A logout (or an expired session, a suspended tenant) closes an open socket within the recheck interval."""
    t = await make_tenant()
    login = await client.post("/api/auth/login", json={"tenant": t.tenant.slug, "login": "admin",
                                                        "password": ADMIN_PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    server = app_servers[0]
    async with websockets.connect(server.ws, additional_headers=headers) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        assert (await client.post("/api/auth/logout", headers=headers)).status_code == 200
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    await ws.recv()
        assert closed.value.rcvd.code == 1008 and closed.value.rcvd.reason == "session ended"
