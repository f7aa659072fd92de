"""`appeal.created` / `appeal.updated` reach the WebSockets of the appeal's tenant (on every app process)
and no other tenant's."""

from __future__ import annotations

import asyncio
import secrets

import httpx

from tests.tenancy.test_realtime_isolation import open_client, wait_until_subscribed


async def test_appeal_events_reach_only_their_tenant(make_tenant, app_servers, core):
    first, second = app_servers
    suffix = secrets.token_hex(4)
    a, b = await make_tenant(f"cc-alpha-{suffix}"), await make_tenant(f"cc-bravo-{suffix}")
    own = [await open_client(first.ws, a, "alpha@1"), await open_client(second.ws, a, "alpha@2")]
    other = await open_client(second.ws, b, "bravo@2")
    try:
        await wait_until_subscribed(core, a, own)
        await wait_until_subscribed(core, b, [other])
        subject = f"Нет воды {suffix}"
        async with httpx.AsyncClient(base_url=first.base, headers=a.headers, timeout=10) as http:
            r = await http.post("/api/appeals", json={"kind": "emergency", "source": "phone", "subject": subject,
                                                      "address_text": "ул. Речная, 1"})
            assert r.status_code == 201, r.text
            appeal = r.json()
            r = await http.patch(f"/api/appeals/{appeal['id']}", json={"status": "in_work", "operator_id": None})
            assert r.status_code == 200, r.text
        for c in own:
            created = await c.wait_for(lambda e: e.get("type") == "appeal.created", "appeal.created")
            assert created["data"]["id"] == appeal["id"] and created["data"]["subject"] == subject
            assert created["data"]["number"] == appeal["number"] and created["data"]["kind"] == "emergency"
            assert created["data"]["status"] == "new" and created["data"]["operator_id"] == appeal["operator_id"]
            updated = await c.wait_for(lambda e: e.get("type") == "appeal.updated", "appeal.updated")
            assert updated["data"]["changed"] == ["operator_id", "status"] and updated["data"]["status"] == "in_work"
            assert updated["seq"] > created["seq"]
        await asyncio.sleep(1.0)
        assert not any(e.get("type", "").startswith("appeal.") for e in other.events)
        assert subject not in "\n".join(other.raw)
    finally:
        for c in [*own, other]:
            await c.close()
