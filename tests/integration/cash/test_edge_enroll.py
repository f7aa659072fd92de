"""`POST /edge/enroll`: a code works once and for 24 hours; bad input is a 4xx; guessing is limited per address."""

from __future__ import annotations

import secrets

import httpx
import pytest
from sqlalchemy import text

from aquabill.cash import agents
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api

REFUSED = agents.REFUSED_CODE


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant()


async def new_agent(client, handle, name: str = "Окно") -> tuple[int, str]:
    """A point with a pending agent and a fresh code: (agent id, code)."""
    api = Api(client, handle.headers)
    p = await api.ok("post", "/api/cash/points", {"name": f"Касса {secrets.token_hex(4)}"})
    a = await api.ok("post", f"/api/cash/points/{p['id']}/agents", {"name": name})
    code = (await api.ok("post", f"/api/cash/agents/{a['id']}/code"))["code"]
    return a["id"], code


async def test_a_code_enrolls_once(client, tenant):
    agent_id, code = await new_agent(client, tenant)
    body = {"tenant": tenant.tenant.slug, "code": code, "name": "kassa-1", "version": "0.1.0"}
    r = await client.post("/edge/enroll", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["agent_id"], got["tenant"], got["ws_url"]) == (agent_id, tenant.tenant.slug, "/edge/ws")
    assert agents.parse_key(got["key"]) == (tenant.tenant.slug, agent_id)
    again = await client.post("/edge/enroll", json=body)
    assert again.status_code == 403
    assert again.json()["error"] == {"code": "forbidden", "message": REFUSED, "fields": []}


async def test_an_expired_code_is_refused(client, tenant, core):
    agent_id, code = await new_agent(client, tenant)
    async with tenant_transaction(core.engines, tenant.tenant) as conn:  # 24 hours have passed
        await conn.execute(text("UPDATE edge_enrollments SET expires_at = now() - interval '1 second' "
                                "WHERE agent_id = :a"), {"a": agent_id})
    r = await client.post("/edge/enroll", json={"tenant": tenant.tenant.slug, "code": code, "name": "pc"})
    assert r.status_code == 403 and r.json()["error"]["message"] == REFUSED


async def test_a_code_of_another_tenant_or_an_unknown_tenant_is_refused(client, tenant, make_tenant):
    other = await make_tenant()
    _, code = await new_agent(client, other)
    for slug in (tenant.tenant.slug, "no-such-tenant", "x"):
        r = await client.post("/edge/enroll", json={"tenant": slug, "code": code, "name": "pc"})
        assert r.status_code == 403 and r.json()["error"]["message"] == REFUSED
    assert (await client.post("/edge/enroll", json={"tenant": other.tenant.slug, "code": code})).status_code == 200


@pytest.mark.parametrize("content, content_type", [
    (b"", "application/json"), (b"not json", "application/json"), (b"[]", "application/json"),
    (b'{"tenant": "demo"}', "application/json"), (b'{"code": "ABCDE-FGHJK"}', "application/json"),
    (b'{"tenant": 1, "code": "ABCDE-FGHJK"}', "application/json"),
    (b'{"tenant": "demo", "code": null}', "application/json"),
    (b'{"tenant": "", "code": "ABCDE-FGHJK"}', "application/json"),
    (b'{"tenant": "demo", "code": "' + b"A" * 100 + b'"}', "application/json"),
    (b'{"tenant": "demo", "code": "ABCDE-FGHJK", "name": ' + b'"x' * 300 + b'"}', "application/json"),
    (b"tenant=demo&code=ABCDE-FGHJK", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00", "application/json"), (b'{"tenant": "demo", "code": "\\ud800"}', "application/json"),
])
async def test_malformed_requests_are_422(client, content, content_type):
    r = await client.post("/edge/enroll", content=content, headers={"Content-Type": content_type})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


async def test_a_huge_body_is_refused_before_reading_it(client):
    r = await client.post("/edge/enroll", content=b"{" + b" " * 100_000 + b"}", headers={"Content-Type": "application/json"})
    assert r.status_code == 413


async def test_guessing_codes_is_limited_per_address(app_servers, client, tenant):
    server = app_servers[0]
    _, code = await new_agent(client, tenant)
    guesser = {"X-Forwarded-For": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"}
    good = {"tenant": tenant.tenant.slug, "code": code, "name": "pc"}
    async with httpx.AsyncClient(base_url=server.base) as http:
        for _ in range(20):
            r = await http.post("/edge/enroll", headers=guesser, json={**good, "code": "AAAAA-AAAAA"})
            assert r.status_code == 403
        r = await http.post("/edge/enroll", headers=guesser, json=good)  # even the right code, from there
        assert r.status_code == 429 and "Повторите через 10 мин" in r.json()["error"]["message"]
        r = await http.post("/edge/enroll", headers={"X-Forwarded-For": "10.255.0.1"}, json=good)  # elsewhere
        assert r.status_code == 200, r.text
