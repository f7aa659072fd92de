"""The agents' command queue (cash/commands.py) on a real PostgreSQL: keys are idempotent, commands go out in id
order with leases, a hello acks what the agent journaled and resends the rest, results are recorded once, and a
failed receipt is retried as a new command whose key derives from the receipt's key."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.cash import agents, commands, points
from aquabill.tenants.context import tenant_transaction


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant()


@pytest.fixture
def tx(core, tenant):
    return lambda: tenant_transaction(core.engines, tenant.tenant, 1)


@pytest.fixture
async def agent_id(tx):
    async with tx() as conn:
        p = await points.create_point(conn, {"name": f"Касса {uuid.uuid4().hex[:8]}"})
        a = await agents.create_agent(conn, p["id"], "Окно", user_id=1)
    return a["id"]


async def _enqueue(tx, agent_id, kind="status", key=None, payload=None) -> dict:
    async with tx() as conn:
        return await commands.enqueue(conn, agent_id=agent_id, kind=kind, key=key or uuid.uuid4(),
                                      payload=payload or {}, user_id=1)


async def test_a_repeated_key_returns_the_existing_command(tx, agent_id):
    key = uuid.uuid4()
    first = await _enqueue(tx, agent_id, key=key, payload={"n": 1})
    again = await _enqueue(tx, agent_id, key=str(key), payload={"n": 2})
    assert (again["id"], again["payload"], again["key"], again["status"]) == (first["id"], {"n": 1}, str(key), "queued")


async def test_refusals_of_enqueue(tx, agent_id):
    with pytest.raises(Invalid):
        await _enqueue(tx, agent_id, kind="format_disk")
    with pytest.raises(Invalid):
        await _enqueue(tx, agent_id, key="not-a-uuid")
    with pytest.raises(NotFound):
        await _enqueue(tx, 2_000_000_000)
    key = uuid.uuid4()
    await _enqueue(tx, agent_id, key=key)
    with pytest.raises(Conflict):
        await _enqueue(tx, agent_id, kind="x_report", key=key)
    async with tx() as conn:
        await agents.revoke(conn, agent_id, user_id=1)
    with pytest.raises(Conflict, match="отозван"):
        await _enqueue(tx, agent_id)


async def test_commands_go_out_in_id_order_once_per_lease(tx, agent_id):
    made = [await _enqueue(tx, agent_id) for _ in range(3)]
    async with tx() as conn:
        sent = await commands.to_send(conn, agent_id, cursor=0, lease_seconds=30)
        again = await commands.to_send(conn, agent_id, cursor=0, lease_seconds=30)
    assert [c["id"] for c in sent] == [c["id"] for c in made]
    assert {(c["status"], c["attempts"]) for c in sent} == {("sent", 1)}
    assert again == []  # leased
    async with tx() as conn:  # the lease runs out
        await conn.execute(text("UPDATE edge_commands SET leased_until = now() - interval '1 second' WHERE agent_id = :a"),
                           {"a": agent_id})
        resent = await commands.to_send(conn, agent_id, cursor=0)
    assert [(c["id"], c["attempts"]) for c in resent] == [(c["id"], 2) for c in made]


async def test_hello_acks_what_the_agent_journaled_and_resends_the_rest_at_once(tx, agent_id):
    a, b, c = [await _enqueue(tx, agent_id) for _ in range(3)]
    async with tx() as conn:
        await commands.to_send(conn, agent_id, cursor=0)
        acked = await commands.on_hello(conn, agent_id, a["id"])
        resent = await commands.to_send(conn, agent_id, cursor=a["id"])
        state = {r.id: r.status for r in await conn.execute(text(
            "SELECT id, status FROM edge_commands WHERE agent_id = :a"), {"a": agent_id})}
        cursor = (await conn.execute(text("SELECT cursor FROM edge_agents WHERE id = :a"), {"a": agent_id})).scalar_one()
    assert acked == 1 and cursor == a["id"]
    assert [x["id"] for x in resent] == [b["id"], c["id"]]
    assert state == {a["id"]: "acked", b["id"]: "sent", c["id"]: "sent"}


async def test_a_command_committed_after_a_later_one_is_still_sent(tx, agent_id):
    """Ids are taken at insert, not at commit: a queued command below the agent's cursor was never sent."""
    early = await _enqueue(tx, agent_id)
    late = await _enqueue(tx, agent_id)
    async with tx() as conn:
        await conn.execute(text("UPDATE edge_commands SET status = 'acked', attempts = 1 WHERE id = :i"),
                           {"i": late["id"]})
        await commands.on_hello(conn, agent_id, late["id"])
        sent = await commands.to_send(conn, agent_id, cursor=late["id"])
    assert [c["id"] for c in sent] == [early["id"]]


async def test_a_result_is_recorded_once(tx, agent_id):
    cmd = await _enqueue(tx, agent_id)
    async with tx() as conn:
        assert await commands.ack(conn, agent_id, cmd["id"])
        assert not await commands.ack(conn, agent_id, cmd["id"])
        done = await commands.record_result(conn, agent_id, cmd["id"], True, {"printed": True}, None)
        dup = await commands.record_result(conn, agent_id, cmd["id"], False, None, {"message": "поздно"})
        other = await commands.record_result(conn, agent_id + 10_000, cmd["id"], True, {}, None)
    assert (done["status"], done["result"], done["error"]) == ("done", {"printed": True}, None)
    assert dup is None and other is None
    async with tx() as conn:
        assert (await commands.get(conn, cmd["id"]))["result"] == {"printed": True}


async def test_a_failure_keeps_the_agents_error(tx, agent_id):
    cmd = await _enqueue(tx, agent_id)
    error = {"code": "register_error", "message": "Нет бумаги", "retryable": False}
    async with tx() as conn:
        failed = await commands.record_result(conn, agent_id, cmd["id"], False, None, error)
    assert (failed["status"], failed["error"], failed["result"]) == ("failed", "Нет бумаги", {"error": error})


async def test_a_failed_receipt_is_retried_under_a_key_derived_from_the_receipt(tx, agent_id):
    receipt_key = uuid.uuid4()
    payload = {"key": str(receipt_key), "operation": 1, "items": []}
    first = await _enqueue(tx, agent_id, kind="receipt", key=receipt_key, payload=payload)
    async with tx() as conn:
        with pytest.raises(Conflict):  # not failed (yet)
            await commands.retry(conn, first["id"])
        await commands.record_result(conn, agent_id, first["id"], False, None, {"message": "Нет бумаги"})
        retried = await commands.retry(conn, first["id"], user_id=1)
        with pytest.raises(Conflict, match="уже отправлена повторно"):
            await commands.retry(conn, first["id"], user_id=1)
    assert retried["key"] == str(uuid.uuid5(receipt_key, "retry-1"))
    assert (retried["payload"], retried["kind"], retried["status"]) == (payload, "receipt", "queued")
    async with tx() as conn:
        await commands.record_result(conn, agent_id, retried["id"], False, None, {"message": "Нет бумаги"})
        third = await commands.retry(conn, retried["id"], user_id=1)
    assert third["key"] == str(uuid.uuid5(receipt_key, "retry-2"))
    async with tx() as conn:
        with pytest.raises(Conflict, match="уже отправлена повторно"):
            await commands.retry(conn, first["id"])
