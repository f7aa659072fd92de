"""Autocall over AMI against the simulator on loopback (the real manager protocol over TCP).

The simulator scripts each dialled number's outcome ('answered' / 'busy' / 'no_answer' / 'congestion' /
'silent': the call rings and no OriginateResponse comes) and how long it rings before the event.
"""

from __future__ import annotations

import asyncio

import pytest

from aquabill.billing_core.receipts.requisites import save_requisites
from aquabill.channels.asterisk.autocall import AmiAutocall, autocall_sender
from aquabill.channels.asterisk.client import AmiClient
from aquabill.channels.asterisk.control import AmiSettings
from aquabill.channels.asterisk.simulator import AmiSimulator
from aquabill.contact_center import calls as telephony_store
from aquabill.notifications.ports import Outgoing
from aquabill.platform.secret_box import SecretBox
from aquabill.tenants.context import tenant_transaction

SOUND = "custom/aquabill-outage"
ANSWERS, BUSY, SILENT_NO, RINGS_OUT, CONGESTED = "89160000001", "89160000002", "89160000003", "89160000004", \
    "89160000005"


def notice(number: str, n: int = 1, sound: str | None = SOUND) -> Outgoing:
    return Outgoing(key=f"7:{n}:autocall", channel="autocall", address=number, subject="", text="Отключение воды",
                    sound=sound)


def plus7(dial: str) -> str:
    return "+7" + dial[1:]


@pytest.fixture
async def sim():
    s = AmiSimulator()
    await s.start()
    s.outcomes.update({ANSWERS: "answered", BUSY: "busy", RINGS_OUT: "no_answer", CONGESTED: "congestion",
                       SILENT_NO: "silent"})
    yield s
    await s.stop()


def sender(sim: AmiSimulator, *, secret: str = "amp111", port: int | None = None, **kw) -> AmiAutocall:
    settings = AmiSettings("127.0.0.1", port or sim.port, "aquabill", secret, context="outgoing")
    kw.setdefault("ring_timeout", 1.0)
    kw.setdefault("grace", 0.5)
    return AmiAutocall(settings, **kw)


async def until(predicate, what: str) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no {what}")


async def test_answered_busy_and_unanswered_numbers_get_their_statuses(sim):
    autocall = sender(sim)
    try:
        got = [await autocall.send(notice(plus7(n), i)) for i, n in enumerate((ANSWERS, BUSY, RINGS_OUT, CONGESTED))]
    finally:
        await autocall.close()
    assert [d.status for d in got] == ["answered", "busy", "no_answer", "failed"]
    assert not any(d.retry for d in got)
    assert "Reason 4" in got[0].detail and "Занято" in got[1].detail and "Reason 8" in got[3].detail
    # one session for all the calls, with call events only, filtered to OriginateResponse
    assert sim.logins == 1
    assert [a["Action"] for a in sim.actions] == ["Login", "Filter", *["Originate"] * 4, "Logoff"]
    assert sim.actions[0]["Events"] == "call" and sim.actions[1]["Filter"] == "Event: OriginateResponse"
    # the answered call is known by the channel id we gave it
    assert got[0].external_id == sim.originates[0]["ChannelId"] == sim.originates[0]["ActionID"]


async def test_originate_carries_what_asterisk_expects(sim):
    autocall = sender(sim, ring_timeout=25, caller_id="+74951234567")
    try:
        delivery = await autocall.send(notice("8 (916) 000-00-01", 42))
    finally:
        await autocall.close()
    assert delivery.status == "answered"
    [orig] = sim.originates
    assert orig["Channel"] == f"Local/{ANSWERS}@outgoing"
    assert (orig["Application"], orig["Data"]) == ("Playback", SOUND)
    assert orig["Timeout"] == "25000" and orig["Async"] == "true" and orig["CallerID"] == "+74951234567"
    assert orig.all("Variable") == ["AQUABILL_NOTICE=7:42:autocall"]
    assert orig["ActionID"].startswith("autocall-") and "Exten" not in orig and "Context" not in orig


async def test_three_calls_at_once_on_one_session_resolve_by_action_id(sim):
    # the answers come back in the reverse order of the calls
    sim.ring_seconds.update({ANSWERS: 0.6, BUSY: 0.3, RINGS_OUT: 0.0})
    seen: list[str] = []  # what another manager session with events on sees, in order
    listener = AmiClient("127.0.0.1", sim.port, "aquabill", "amp111",
                         on_event=lambda m: seen.append(m["Reason"]) if m.event == "OriginateResponse" else None)
    await listener.connect()
    autocall = sender(sim, ring_timeout=5)
    try:
        got = await asyncio.gather(*(autocall.send(notice(plus7(n), i))
                                     for i, n in enumerate((ANSWERS, BUSY, RINGS_OUT))))
        await until(lambda: len(seen) == 3, "three OriginateResponse events at the listener")
    finally:
        await autocall.close()
        await listener.close(logoff=True)
    assert [d.status for d in got] == ["answered", "busy", "no_answer"]
    assert seen == ["3", "5", "4"]
    # the listener's login and one of the autocall sender for all three calls
    assert sim.logins == 2 and len({o["ActionID"] for o in sim.originates}) == 3


async def test_a_link_dropped_mid_call_returns_retry_and_the_next_call_reconnects(sim):
    autocall = sender(sim, ring_timeout=30)
    try:
        ringing = asyncio.create_task(autocall.send(notice(plus7(SILENT_NO))))
        await until(lambda: len(sim.originates) == 1, "Originate at the peer")
        sim.drop()
        delivery = await asyncio.wait_for(ringing, 5)
        assert delivery.retry is True and delivery.status == "failed"
        assert "Связь с АТС прервалась" in delivery.detail
        assert delivery.external_id == sim.originates[0]["ActionID"]
        again = await autocall.send(notice(plus7(ANSWERS), 2))
        assert again.status == "answered" and sim.logins == 2
    finally:
        await autocall.close()


async def test_no_outcome_within_the_ring_timeout_is_no_answer(sim):
    autocall = sender(sim, ring_timeout=0.3, grace=0.2)
    try:
        delivery = await autocall.send(notice(plus7(SILENT_NO)))
    finally:
        await autocall.close()
    assert delivery.status == "no_answer" and not delivery.retry and "не сообщила итог" in delivery.detail


async def test_wrong_secret_is_a_clear_failure_and_not_retried_against_the_pbx(sim):
    autocall = sender(sim, secret="wrong")
    try:
        first = await autocall.send(notice(plus7(ANSWERS)))
        second = await autocall.send(notice(plus7(BUSY), 2))
    finally:
        await autocall.close()
    for d in (first, second):
        assert d.status == "failed" and not d.retry
        assert "АТС отклонила вход" in d.detail and "Authentication failed" in d.detail
    assert sim.failed_logins == 1 and sim.originates == []


async def test_unreachable_pbx_is_retried_bad_number_or_sound_fails_without_calling(sim):
    closed = AmiSimulator()
    port = await closed.start()
    await closed.stop()  # nothing listens there now
    autocall = sender(sim, port=port)
    try:
        down = await autocall.send(notice(plus7(ANSWERS)))
    finally:
        await autocall.close()
    assert down.retry is True and "АТС недоступна" in down.detail

    autocall = sender(sim)
    try:
        no_sound = await autocall.send(notice(plus7(ANSWERS), sound=None))
        bad_sound = await autocall.send(notice(plus7(ANSWERS), sound="x,options"))
        bad_number = await autocall.send(notice("--"))
    finally:
        await autocall.close()
    assert [d.status for d in (no_sound, bad_sound, bad_number)] == ["failed"] * 3
    assert not any(d.retry for d in (no_sound, bad_sound, bad_number))
    assert "звуковая запись" in bad_sound.detail and "Неверный номер" in bad_number.detail
    assert sim.originates == []


async def test_only_sessions_with_events_get_the_originate_response(sim):
    quiet_got, loud_got = [], []
    quiet = AmiClient("127.0.0.1", sim.port, "aquabill", "amp111", on_event=quiet_got.append, events="off")
    loud = AmiClient("127.0.0.1", sim.port, "aquabill", "amp111", on_event=loud_got.append)
    await quiet.connect()
    await loud.connect()
    try:
        reply = await quiet.send("Originate", Channel="PJSIP/101", Context="from-internal", Exten="89160000009",
                                 Priority="1", Async="true", ActionID="c2c-1")
        assert reply["Message"] == "Originate successfully queued"
        await until(lambda: any(m.event == "OriginateResponse" for m in loud_got), "OriginateResponse")
    finally:
        await quiet.close(logoff=True)
        await loud.close(logoff=True)
    [event] = [m for m in loud_got if m.event == "OriginateResponse"]
    assert (event["ActionID"], event["Reason"], event["Exten"]) == ("c2c-1", "4", "89160000009")
    assert quiet_got == []


async def test_autocall_sender_reads_the_tenants_connection(make_tenant, core, sim):
    t = await make_tenant()
    assert await autocall_sender(core, t.tenant) is None  # no telephony configured
    values = {"host": "127.0.0.1", "port": sim.port, "username": "aquabill", "enabled": False,
              "technology": "PJSIP", "originate_context": "outgoing",
              "secret_encrypted": SecretBox(core.settings.secret_key).seal("amp111")}
    async with tenant_transaction(core.engines, t.tenant) as conn:
        await telephony_store.save_connection(conn, values, None)
    assert await autocall_sender(core, t.tenant) is None  # configured but switched off

    async with tenant_transaction(core.engines, t.tenant) as conn:
        await telephony_store.save_connection(conn, values | {"enabled": True}, None)
        await save_requisites(conn, {"name": "МУП Водоканал", "personal_acc": "40702810900000000001",
                                     "bank_name": "Банк", "bic": "044525225", "phone": "8 (495) 123-45-67"})
    autocall = await autocall_sender(core, t.tenant, ring_timeout=2, grace=1)
    assert autocall is not None and autocall.channel == "autocall"
    try:
        delivery = await autocall.send(notice(plus7(BUSY)))
    finally:
        await autocall.close()
    assert delivery.status == "busy"
    [orig] = sim.originates
    assert orig["Channel"] == f"Local/{BUSY}@outgoing" and orig["CallerID"] == "+74951234567"
    assert orig["Timeout"] == "2000"
