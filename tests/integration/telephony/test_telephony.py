"""Telephony end to end against an AMI simulator speaking the real protocol on loopback.

The tenant's registry has account ЛС1 with phone `8 (916) 123-45-67`. The captured Asterisk 13 queue call
(221 events) is replayed with the caller's number `123` replaced by `89161234567`, and with `Timestamp`
headers (as `timestampevents = yes` sends them): sequence number 7666 at T0, each further one 0.1 s later.
Worked out by hand (see tests/unit/channels/test_asterisk_calls.py): answered by 777, wait 14 s, duration 19 s.

Whichever process wins the tenant's lease (this one, kicked by the settings request, or one of the
`app_servers`) runs the connection: the outcome seen through the API and the WebSocket is the same.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from aquabill.channels.asterisk.protocol import Message
from aquabill.channels.asterisk.simulator import AmiSimulator, load_captured
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api, as_role
from tests.integration.billing_core.conftest import small_registry
from tests.tenancy.test_realtime_isolation import open_client, wait_until_subscribed

# the fixture is part of the repository (tests/data/asterisk-ami/SOURCES.md): a missing file fails the test
CAPTURED = (Path(__file__).resolve().parents[2] / "data" / "asterisk-ami"
            / "vistep_callme_asterisk13_queue_call_log.txt")
T0 = datetime(2026, 3, 2, 9, 15, 0, tzinfo=UTC)
CALLER = "89161234567"
WAIT = 30.0


def agent_channel(m: Message) -> bool:
    return m.event == "Newchannel" and m["Uniqueid"] != m["Linkedid"]


def call_events(linkedid: str, agent_uniqueid: str, *, caller: str = CALLER, start: datetime = T0,
                stop=None, tail: list[dict[str, str]] = ()) -> list[Message]:
    """The captured call as a new call: own unique ids, the caller's number, Timestamp headers; optionally
    cut before the first event for which `stop` is true and ended by `tail` events of the caller's channel."""
    ids = {"1514295827.372": linkedid, "1514295839.373": agent_uniqueid}
    out = []
    for m in load_captured(CAPTURED):
        if stop is not None and stop(m):
            break
        ts = start + timedelta(seconds=(int(m["SequenceNumber"]) - 7666) / 10)
        headers = [(k, ids.get(v, caller if v == "123" else v)) for k, v in m.headers]
        out.append(Message([*headers, ("Timestamp", f"{ts.timestamp():.6f}")]))
    seq = int(out[-1]["SequenceNumber"]) if out else 7666
    for i, fields in enumerate(tail, 1):
        ts = start + timedelta(seconds=(seq + i - 7666) / 10)
        base = {"Channel": "SIP/toOurAster-000000bb", "CallerIDNum": caller, "Uniqueid": linkedid,
                "Linkedid": linkedid, "Timestamp": f"{ts.timestamp():.6f}"}
        out.append(Message(list((base | fields).items())))
    return out


async def wait_for(fn, what: str, within: float = WAIT):
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await fn()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, f"no {what} within {within}s"
        await asyncio.sleep(0.1)


class SimulatorThread:
    """The simulator on its own event loop in a thread: the in-process test client runs a request while the
    test's loop waits for it, and a click-to-call request needs the simulator to answer meanwhile."""

    def __init__(self) -> None:
        self.sim = AmiSimulator("aquabill", "amp111")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ami-simulator", daemon=True)
        self.thread.start()

    def _run(self, coro):
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def start(self) -> None:
        await self._run(self.sim.start())

    async def stop(self) -> None:
        await self._run(self.sim.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def replay(self, events) -> int:
        return await self._run(self.sim.replay(events))

    async def wait_for_logins(self, count: int) -> None:
        await self._run(self.sim.wait_for_logins(count))

    async def drop(self) -> None:
        async def drop():
            self.sim.drop()
        await self._run(drop())

    @property
    def port(self) -> int:
        return self.sim.port

    @property
    def logins(self) -> int:
        return self.sim.logins

    @property
    def failed_logins(self) -> int:
        return self.sim.failed_logins

    @property
    def originates(self) -> list[Message]:
        return self.sim.originates


@pytest.fixture(scope="module")
async def sim():
    s = SimulatorThread()
    await s.start()
    yield s
    await s.stop()


async def phone_registry(conn, tenant=None) -> None:
    await small_registry(conn, tenant)
    await conn.execute(text("UPDATE accounts SET phone = '8 (916) 123-45-67' WHERE number = 'ЛС1'"))
    await conn.execute(text("UPDATE accounts SET phone = '+7 999 000-11-22' WHERE number = 'ЛС2'"))


@pytest.fixture(scope="module")
async def world(make_tenant, client, sim):
    a = await make_tenant(f"tel-a-{secrets.token_hex(3)}", seed=phone_registry)
    b = await make_tenant(f"tel-b-{secrets.token_hex(3)}", seed=phone_registry)
    api = Api(client, a.headers)
    body = await put(api, {"host": "127.0.0.1", "port": sim.port, "username": "aquabill", "secret": "amp111",
                           "enabled": True, "technology": "SIP", "originate_context": "outgoing"})
    assert "secret" not in body and "secret_encrypted" not in body and body["secret_set"] is True
    return a, b, api


async def put(api: Api, body: dict) -> dict:
    r = await api.client.put("/api/telephony/connection", headers=api.headers, json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def connection(api: Api) -> dict:
    r = await api.get("/api/telephony/connection")
    assert r.status_code == 200, r.text
    return r.json()


async def call_by_linkedid(api: Api, linkedid: str, status: str | None = None) -> dict | None:
    items = (await api.ok("get", "/api/calls?limit=500"))["items"]
    found = [c for c in items if c["linkedid"] == linkedid]
    return found[0] if found and (status is None or found[0]["status"] == status) else None


async def test_lookup_matches_the_normalised_phone(world):
    a, _, api = world
    for number in ("89161234567", "+7 (916) 123-45-67", "9161234567"):
        body = await api.ok("get", f"/api/telephony/lookup?number={number}")
        assert body["normalised"] == "+79161234567"
        assert [x["number"] for x in body["items"]] == ["ЛС1"], number
        assert body["items"][0]["address"].endswith("кв. 1")
    assert (await api.ok("get", "/api/telephony/lookup?number=123"))["items"] == []


async def test_connection_settings_are_admin_only_and_the_secret_never_shown(world, client, core):
    a, _, api = world
    operator = await as_role(client, a, "operator")
    assert (await operator.get("/api/telephony/connection")).status_code == 403
    assert (await operator.get("/api/calls")).status_code == 200
    async with tenant_transaction(core.engines, a.tenant) as conn:
        stored = (await conn.execute(text("SELECT secret_encrypted FROM ami_connections"))).scalar_one()
        audited = (await conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'ami_connections' "
            "AND (new_row ? 'secret_encrypted' OR old_row ? 'secret_encrypted')"))).scalar_one()
    assert "amp111" not in stored and audited == 0


async def test_replayed_call_is_recorded_with_its_account_and_rings_only_its_tenant(world, sim, app_servers, core):
    a, b, api = world
    await sim.wait_for_logins(1)
    state = await wait_for(lambda: _state_is(api, "connected"), "connected state")
    assert state["holder"]
    clients = [await open_client(app_servers[0].ws, a, "A"), await open_client(app_servers[1].ws, b, "B")]
    await wait_until_subscribed(core, a, clients[:1])
    await wait_until_subscribed(core, b, clients[1:])

    assert await sim.replay(call_events("1772442900.1", "1772442912.2")) == 1  # one connection for the tenant
    call = await wait_for(lambda: call_by_linkedid(api, "1772442900.1", "answered"), "answered call")
    acc1 = (await api.ok("get", "/api/telephony/lookup?number=89161234567"))["items"][0]
    assert call["direction"] == "inbound" and call["caller"] == CALLER and call["caller_normalised"] == "+79161234567"
    assert (call["called"], call["queue"], call["agent_extension"]) == ("888999", "Q1", "777")
    assert call["account_id"] == acc1["id"] and call["account"]["number"] == "ЛС1"
    assert datetime.fromisoformat(call["started_at"]) == T0
    assert datetime.fromisoformat(call["answered_at"]) == T0 + timedelta(seconds=13.8)
    assert datetime.fromisoformat(call["ended_at"]) == T0 + timedelta(seconds=19)
    assert (call["duration_s"], call["wait_s"]) == (19, 14)
    assert call["recording"].endswith("-123-888999.wav") and call["hangup_cause"] == "Normal Clearing"
    assert (await api.ok("get", f"/api/calls/{call['id']}"))["id"] == call["id"]

    ringing = await clients[0].wait_for(lambda e: e.get("type") == "call.ringing" and
                                        e["data"]["linkedid"] == "1772442900.1", "call.ringing")
    assert ringing["data"]["call_id"] == call["id"] and ringing["data"]["extension"] == "777"
    assert ringing["data"]["accounts"][0]["number"] == "ЛС1" and ringing["data"]["account_id"] == acc1["id"]
    ended = await clients[0].wait_for(lambda e: e.get("type") == "call.ended" and
                                      e["data"]["call_id"] == call["id"], "call.ended")
    assert ended["data"]["status"] == "answered" and ended["data"]["duration_s"] == 19
    assert any(e.get("type") == "call.answered" for e in clients[0].events)
    await asyncio.sleep(1.0)
    assert not [e for e in clients[1].events if str(e.get("type", "")).startswith("call.")], clients[1].raw
    assert "1772442900.1" not in "\n".join(clients[1].raw)
    assert (await Api(api.client, b.headers).ok("get", "/api/calls"))["total"] == 0
    for c in clients:
        await c.close()


async def _state_is(api: Api, state: str) -> dict | None:
    s = (await connection(api))["state"]
    return s if s.get("state") == state else None


async def test_dropped_connection_reconnects_and_the_next_calls_are_recorded(world, sim):
    a, _, api = world
    await sim.wait_for_logins(1)
    await wait_for(lambda: _state_is(api, "connected"), "connected state")
    before = sim.logins
    await sim.drop()
    await sim.wait_for_logins(before + 1)  # reconnected after a backoff
    state = await wait_for(lambda: _state_is(api, "connected"), "connected state again")
    assert int(state["reconnects"]) >= 1

    # a caller who gives up in the queue (abandoned) and one nobody answers (missed)
    abandoned = call_events(
        "1772443000.3", "1772443012.4", caller="+7 999 000-11-22", start=T0 + timedelta(minutes=5), stop=agent_channel,
        tail=[{"Event": "QueueCallerAbandon", "Queue": "Q1", "Position": "1", "OriginalPosition": "1",
               "HoldTime": "5"}, {"Event": "Hangup", "Cause": "16", "Cause-txt": "Normal Clearing"}])
    assert await sim.replay(abandoned) == 1
    gone = await wait_for(lambda: call_by_linkedid(api, "1772443000.3", "abandoned"), "abandoned call")
    assert gone["account"]["number"] == "ЛС2" and gone["agent_extension"] is None and gone["answered_at"] is None

    missed = call_events("1772443100.5", "1772443112.6", start=T0 + timedelta(minutes=9),
                         stop=lambda m: m.event == "NewConnectedLine",
                         tail=[{"Event": "QueueCallerLeave", "Queue": "Q1", "Position": "1"},
                               {"Event": "Hangup", "Cause": "16", "Cause-txt": "Normal Clearing"}])
    await sim.replay(missed)
    call = await wait_for(lambda: call_by_linkedid(api, "1772443100.5", "missed"), "missed call")
    assert call["account"]["number"] == "ЛС1"

    journal = await api.ok("get", "/api/calls?status=missed&number=8 916 123-45-67")
    assert [c["linkedid"] for c in journal["items"]] == ["1772443100.5"]
    day = (T0 + timedelta(hours=3)).date().isoformat()  # Moscow day of T0
    assert (await api.ok("get", f"/api/calls?from={day}&to={day}&account_id={gone['account_id']}"))["total"] == 1
    assert (await api.ok("get", "/api/calls?from=2020-01-01&to=2020-01-02"))["total"] == 0


async def test_click_to_call_and_call_back_reach_the_simulator(world, sim):
    a, _, api = world
    acc1 = (await api.ok("get", "/api/telephony/lookup?number=89161234567"))["items"][0]
    sent = len(sim.originates)
    call = await api.ok("post", "/api/calls/originate", {"extension": "101", "account_id": acc1["id"]})
    [orig] = sim.originates[sent:]
    assert (orig["Channel"], orig["Context"], orig["Exten"], orig["Priority"]) == ("SIP/101", "outgoing", CALLER, "1")
    assert orig["ChannelId"] == call["linkedid"] and orig["Async"] == "true"
    assert call["direction"] == "outbound" and call["account_id"] == acc1["id"] and call["status"] == "in_progress"
    assert call["agent_extension"] == "101" and call["created_by"] is not None

    missed = await wait_for(lambda: call_by_linkedid(api, "1772443100.5", "missed"), "missed call")
    back = await api.ok("post", f"/api/calls/{missed['id']}/callback", {"extension": "102"})
    orig = sim.originates[-1]
    assert (orig["Channel"], orig["Exten"]) == ("SIP/102", CALLER)
    assert back["callback_of"] == missed["id"] and back["account_id"] == missed["account_id"]

    # the originated call's events (the agent's phone is the root channel, ChannelId = our linkedid)
    ref = call["linkedid"]
    base = {"Channel": "SIP/101-0000000a", "Uniqueid": ref, "Linkedid": ref, "CallerIDNum": "101"}
    await sim.replay([Message(list((base | e).items())) for e in (
        {"Event": "Newchannel", "Exten": CALLER},
        {"Event": "BridgeEnter", "BridgeUniqueid": "br-1"},
        {"Event": "BridgeEnter", "BridgeUniqueid": "br-1", "Channel": "SIP/trunk-0000000b", "Uniqueid": "o.2",
         "CallerIDNum": CALLER},
        {"Event": "Hangup", "Cause": "16"})])
    done = await wait_for(lambda: call_by_linkedid(api, ref, "answered"), "answered outbound call")
    assert done["direction"] == "outbound" and done["called"] == CALLER and done["agent_extension"] == "101"
    assert (await api.ok("get", "/api/calls?direction=outbound"))["total"] == 2


async def test_a_call_in_progress_when_the_link_drops_ends_as_lost(world, sim, app_servers, core):
    """The link drops while the agent talks (the replay stops before the first HangupRequest): the call can
    never be followed to its end, so it ends as 'lost' at its last event received, and call.ended says so."""
    a, _, api = world
    await sim.wait_for_logins(1)
    await wait_for(lambda: _state_is(api, "connected"), "connected state")
    ws = await open_client(app_servers[0].ws, a, "A")
    await wait_until_subscribed(core, a, [ws])
    linkedid = "1772443300.7"
    events = call_events(linkedid, "1772443312.8", start=T0 + timedelta(minutes=20),
                         stop=lambda m: m.event == "HangupRequest")
    last = max(datetime.fromtimestamp(float(m["Timestamp"]), UTC) for m in events if m.get("Linkedid") == linkedid)
    await sim.replay(events)

    async def talking():
        call = await call_by_linkedid(api, linkedid, "in_progress")
        return call if call and call["answered_at"] else None

    live = await wait_for(talking, "answered call in progress")
    assert live["ended_at"] is None and live["agent_extension"] == "777"
    before = sim.logins
    await sim.drop()
    lost = await wait_for(lambda: call_by_linkedid(api, linkedid, "lost"), "lost call")
    started, ended = datetime.fromisoformat(lost["started_at"]), datetime.fromisoformat(lost["ended_at"])
    assert started == T0 + timedelta(minutes=20) and ended == last and ended > started + timedelta(seconds=14)
    assert lost["duration_s"] == round((ended - started).total_seconds()) and lost["wait_s"] == 14
    assert lost["answered_at"] == live["answered_at"] and lost["hangup_cause"] == "Связь с АТС потеряна"
    message = await ws.wait_for(lambda e: e.get("type") == "call.ended" and e["data"]["linkedid"] == linkedid,
                                "call.ended")
    assert message["data"]["status"] == "lost" and message["data"]["link_lost"] is True
    assert message["data"]["call_id"] == lost["id"] and message["data"]["duration_s"] == lost["duration_s"]
    assert (await api.ok("get", "/api/calls?status=lost"))["total"] >= 1

    # after the reconnect the call's late events (its hangup) change nothing: 'lost' stays
    await sim.wait_for_logins(before + 1)
    await wait_for(lambda: _state_is(api, "connected"), "connected state again")
    tail = call_events(linkedid, "1772443312.8", start=T0 + timedelta(minutes=20))[len(events):]
    await sim.replay(tail)
    await asyncio.sleep(1.0)
    again = await call_by_linkedid(api, linkedid)
    assert (again["status"], again["ended_at"]) == ("lost", lost["ended_at"])
    await ws.close()


async def test_originate_needs_an_enabled_connection_and_a_number(make_tenant, client):
    other = await make_tenant(seed=phone_registry)
    api = Api(client, other.headers)
    r = await api.post("/api/calls/originate", {"extension": "101", "number": CALLER})
    assert r.status_code == 409 and "Телефония не подключена" in r.json()["error"]["message"]
    r = await api.post("/api/calls/originate", {"extension": "101"})
    assert r.status_code == 422
    assert (await connection(api))["state"]["state"] == "disabled"


async def test_refused_login_is_shown_as_failed(make_tenant, client, sim):
    other = await make_tenant()
    api = Api(client, other.headers)
    failed_before = sim.failed_logins
    await put(api, {"host": "127.0.0.1", "port": sim.port, "username": "aquabill", "secret": "wrong",
                    "enabled": True})
    state = await wait_for(lambda: _state_is(api, "failed"), "failed state")
    assert "отклонила вход" in state["error"] and sim.failed_logins > failed_before
    body = await put(api, {"host": "127.0.0.1", "port": sim.port, "username": "aquabill",
                           "enabled": False})  # the secret is kept
    assert body["state"]["state"] == "disabled" and body["secret_set"] is True


async def test_one_supervisor_holds_a_tenant_and_another_takes_over(make_tenant, core):
    """Two supervisors (as two processes) on a private key prefix, so the app's own stay out of it."""
    from aquabill.channels.asterisk.runtime import TelephonySupervisor
    from aquabill.platform.keys import Keys
    from aquabill.platform.state import Core

    handle = await make_tenant()
    private = Core(core.settings, core.engines, core.redis, Keys(f"{core.keys.prefix}-lease{secrets.token_hex(3)}"))
    await core.redis.sadd(private.keys.ami_tenants, handle.tenant.id)
    first, second = TelephonySupervisor(private, scan_seconds=1), TelephonySupervisor(private, scan_seconds=1)
    await first.scan()
    await second.scan()
    assert handle.tenant.id in first.held and handle.tenant.id not in second.held
    assert (await core.redis.get(private.keys.ami_lease(handle.tenant.id))).decode() == first.holder
    await first.stop()  # releases the lease
    await second.scan()
    assert handle.tenant.id in second.held
    await asyncio.sleep(0.3)  # the link finds the connection disabled and ends …
    state = await core.redis.hgetall(private.keys.ami_state(handle.tenant.id))
    assert state[b"state"] == b"disabled"
    await second.scan()  # … and the tenant leaves the list until its settings change
    assert handle.tenant.id not in second.held
    assert not await core.redis.sismember(private.keys.ami_tenants, handle.tenant.id)
    await second.stop()
