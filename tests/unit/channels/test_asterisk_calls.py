"""Folding AMI events into call records, on the captured Asterisk 13 queue call (221 events) and on
variants of it. Event times: SequenceNumber 7666 (the caller's Newchannel) is 13:43:47 UTC on 2017-12-26
(its Uniqueid 1514295827), each further sequence number a tenth of a second later.

Worked by hand for the captured call (Linkedid 1514295827.372, caller 123 → 888999, queue Q1, agent SIP/777):
  started   seq 7666                                → 13:43:47.0
  ringing   AgentCalled seq 7765 (SIP/777-000000bc) → extension 777
  answered  AgentConnect seq 7804                   → 13:44:00.8 (wait 13.8 s → 14)
  ended     Hangup of the caller's channel seq 7856 → 13:44:06.0 (duration 19 s, talk 5.2 s → 5)
  recording VarSet MIXMONITOR_FILENAME (…/1514295827.372-2017-12-26-14_43-123-888999.wav)
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aquabill.channels.asterisk import extension_of, fold
from aquabill.channels.asterisk.protocol import Message
from aquabill.channels.asterisk.simulator import load_captured

# the fixture is part of the repository (tests/data/asterisk-ami/SOURCES.md): a missing file fails the test
CAPTURED = (Path(__file__).resolve().parents[2] / "data" / "asterisk-ami"
            / "vistep_callme_asterisk13_queue_call_log.txt")
T0 = datetime(2017, 12, 26, 13, 43, 47, tzinfo=UTC)


def captured() -> list[Message]:
    return load_captured(CAPTURED)


def timed(events: list[Message]) -> list[tuple[Message, datetime]]:
    return [(m, T0 + timedelta(seconds=(int(m["SequenceNumber"]) - 7666) / 10)) for m in events]


def until(events: list[Message], name: str) -> list[Message]:
    """The events before the first `name` event."""
    return events[:next(i for i, m in enumerate(events) if m.event == name)]


def event(name: str, seq: int, **fields: str) -> Message:
    base = {"Event": name, "SequenceNumber": str(seq), "Channel": "SIP/toOurAster-000000bb",
            "CallerIDNum": "123", "Uniqueid": "1514295827.372", "Linkedid": "1514295827.372"}
    return Message(list((base | fields).items()))


def test_captured_log_has_the_documented_events():
    events = captured()
    assert len(events) == 221
    assert sum(m.event == "Hangup" for m in events) == 2


def test_captured_queue_call_is_answered_by_777():
    [call], updates = fold(timed(captured()))
    assert (call.linkedid, call.direction, call.caller, call.called, call.queue) == \
        ("1514295827.372", "inbound", "123", "888999", "Q1")
    assert call.status == "answered" and call.agent_extension == "777"
    assert call.started_at == T0
    assert call.answered_at == T0 + timedelta(seconds=13.8)
    assert call.ended_at == T0 + timedelta(seconds=19)
    assert (call.duration_s, call.wait_s, call.talk_s) == (19, 14, 5)
    assert call.hangup_cause == "Normal Clearing"
    assert call.recording.endswith("/2017/12/26/1514295827.372-2017-12-26-14_43-123-888999.wav")
    assert [(u.kind, u.extension) for u in updates] == \
        [("started", None), ("recording", None), ("ringing", "777"), ("answered", None), ("ended", None)]


def test_events_repeated_by_a_second_manager_session_change_nothing():
    events = captured()
    doubled = [m for e in events for m in (e, e)]
    [call], updates = fold(timed(doubled))
    assert call.status == "answered" and [u.kind for u in updates].count("ended") == 1


def test_caller_hangs_up_in_queue_is_abandoned():
    events = captured()
    agent_channel = next(i for i, m in enumerate(events) if m.event == "Newchannel" and m["Uniqueid"] != m["Linkedid"])
    head = events[:agent_channel]  # in the queue, before any agent's phone rings
    tail = [event("QueueCallerAbandon", 7770, Queue="Q1", Position="1", OriginalPosition="1", HoldTime="5"),
            event("Hangup", 7771, Cause="16", **{"Cause-txt": "Normal Clearing"})]
    [call], _ = fold(timed(head + tail))
    assert call.status == "abandoned" and call.answered_at is None and call.agent_extension is None
    assert (call.duration_s, call.wait_s) == (10, 10)  # (7771 - 7666) / 10 = 10.5 → 10


def test_queue_timeout_with_agent_ringing_is_missed():
    head = until(captured(), "NewConnectedLine")  # AgentCalled and DialBegin to 777 seen, nobody answers
    tail = [event("DialEnd", 7790, DestChannel="SIP/777-000000bc", DestUniqueid="1514295839.373",
                  DialStatus="NOANSWER"),
            event("QueueCallerLeave", 7791, Queue="Q1", Position="1"),
            event("Hangup", 7800, Cause="16", **{"Cause-txt": "Normal Clearing"})]
    [call], updates = fold(timed(head + tail))
    assert call.status == "missed" and call.queue == "Q1"
    assert [u.extension for u in updates if u.kind == "ringing"] == ["777"]


def test_direct_dial_cancelled_by_caller_is_abandoned():
    events = [event("Newchannel", 1, Exten="101", Context="from-trunk"),
              event("DialBegin", 2, DestChannel="PJSIP/101-00000001", DestUniqueid="x.2"),
              event("DialEnd", 3, DestChannel="PJSIP/101-00000001", DestUniqueid="x.2", DialStatus="CANCEL"),
              event("Hangup", 4, Cause="16")]
    calls, _ = fold([(m, T0) for m in events])
    assert calls[0].status == "abandoned"


def test_direct_dial_answered_through_a_bridge_names_the_agent():
    events = [event("Newchannel", 1, Exten="101"),
              event("DialBegin", 2, DestChannel="PJSIP/101-00000001", DestUniqueid="x.2"),
              Message([("Event", "BridgeEnter"), ("BridgeUniqueid", "b1"), ("Channel", "PJSIP/101-00000001"),
                       ("Uniqueid", "x.2"), ("Linkedid", "1514295827.372")]),
              event("BridgeEnter", 4, BridgeUniqueid="b1"),
              event("Hangup", 5)]
    calls, updates = fold([(m, T0 + timedelta(seconds=i)) for i, m in enumerate(events)])
    assert calls[0].status == "answered" and calls[0].agent_extension == "101"
    assert calls[0].answered_at == T0 + timedelta(seconds=3)


def test_timestamp_header_wins_over_receive_time():
    events = [event("Newchannel", 1, Timestamp="1514295827.000000"), event("Hangup", 2, Timestamp="1514295830.5")]
    calls, _ = fold([(m, datetime(2030, 1, 1, tzinfo=UTC)) for m in events])
    assert calls[0].started_at == datetime.fromtimestamp(1514295827, UTC) and calls[0].duration_s == 4


def test_events_of_unknown_calls_are_ignored():
    calls, updates = fold([(m, T0) for m in captured()[40:]])  # joined mid-call: no root Newchannel
    assert calls == [] and updates == []


@pytest.mark.parametrize("channel, ext", [
    ("SIP/777-000000bc", "777"), ("PJSIP/101-00000001", "101"), ("SIP/777", "777"),
    ("Local/102@from-queue-00000004;1", "102"), ("SIP/toOurAster-000000bb", "toOurAster"), ("", None), (None, None),
])
def test_extension_of_channel(channel, ext):
    assert extension_of(channel) == ext
