"""The AMI client (panoramisk's Manager under supervision) against the AMI simulator on loopback: no database.

What the supervisor relies on: a refused login is an exception with Asterisk's words, a drop ends `closed()`
and fails waiting actions, and the client never reconnects by itself (panoramisk would, after
`reconnect_timeout`)."""

from __future__ import annotations

import asyncio

import panoramisk
import pytest

from aquabill.channels.asterisk import AmiAuthError, AmiClient
from aquabill.channels.asterisk.simulator import AmiSimulator

PANORAMISK_RETRY = panoramisk.Manager.defaults["reconnect_timeout"] + 0.5


class UnansweredPing(AmiSimulator):
    """A peer that takes Ping and never answers it."""

    def _handle(self, s, msg) -> bool:
        if (msg.get("Action") or "").lower() == "ping" and s.logged_in:
            return True
        return super()._handle(s, msg)


@pytest.fixture
async def sim():
    s = UnansweredPing()
    await s.start()
    yield s
    await s.stop()


async def until(predicate, what: str) -> None:
    for _ in range(300):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {what}")


async def test_events_arrive_whole_even_when_a_letter_is_split_between_reads(sim):
    got = []
    client = AmiClient("127.0.0.1", sim.port, "aquabill", "amp111", on_event=got.append)
    await client.connect()
    assert client.version == "5.0.1" and sim.logins == 1
    [session] = sim.event_sessions()
    raw = "Event: Newchannel\r\nCallerIDName: Иванов Пётр\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n".encode()
    cut = raw.index("ё".encode()) + 1  # inside the two bytes of `ё`
    for part in (raw[:cut], raw[cut:]):
        session.writer.write(part)
        await session.writer.drain()
        await asyncio.sleep(0.05)
    await until(lambda: any(m.event == "Newchannel" for m in got), "Newchannel")
    [event] = [m for m in got if m.event == "Newchannel"]
    assert event["CallerIDName"] == "Иванов Пётр" and event.all("Variable") == ["A=1", "B=2"]
    assert "content" not in event
    await client.close(logoff=True)
    assert [a["Action"] for a in sim.actions] == ["Login", "Logoff"]


async def test_refused_login_raises_with_the_peers_message(sim):
    client = AmiClient("127.0.0.1", sim.port, "aquabill", "wrong")
    with pytest.raises(AmiAuthError, match="Authentication failed"):
        await client.connect()
    assert sim.failed_logins == 1
    await asyncio.sleep(PANORAMISK_RETRY)
    assert sim.failed_logins == 1 and sim.logins == 0  # no second attempt of its own


async def test_a_drop_fails_the_waiting_action_ends_the_link_and_nothing_reconnects(sim):
    client = AmiClient("127.0.0.1", sim.port, "aquabill", "amp111")
    await client.connect()
    ping = asyncio.create_task(client.send("Ping"))
    await until(lambda: any(a["Action"] == "Ping" for a in sim.actions), "Ping at the peer")
    sim.drop()
    with pytest.raises(ConnectionError, match="closed by the peer"):
        await ping
    with pytest.raises(ConnectionError):
        await client.closed()
    with pytest.raises(ConnectionError, match="not open"):
        await client.send("Ping")
    await asyncio.sleep(PANORAMISK_RETRY)
    assert sim.logins == 1
    await client.close()


async def test_an_unanswered_action_times_out_and_a_shutdown_ends_the_link(sim):
    client = AmiClient("127.0.0.1", sim.port, "aquabill", "amp111", timeout=0.3)
    await client.connect()
    with pytest.raises(TimeoutError):
        await client.send("Ping")
    await sim.replay([{"Event": "Shutdown", "Privilege": "system,all", "Shutdown": "Cleanly", "Restart": "True"}])
    with pytest.raises(ConnectionError, match="shutting down"):
        await asyncio.wait_for(client.closed(), 10)
    await client.close()


async def test_a_refused_connection_is_an_error_and_not_retried():
    sim = AmiSimulator()
    port = await sim.start()
    await sim.stop()
    with pytest.raises(OSError):
        await AmiClient("127.0.0.1", port, "aquabill", "amp111").connect()
    await sim.start(port=port)  # the port answers again: panoramisk would now log in
    try:
        await asyncio.sleep(PANORAMISK_RETRY)
        assert sim.logins == 0
    finally:
        await sim.stop()
