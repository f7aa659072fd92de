"""The synthetic call sequences fold into the calls the console expects (used by the demo and e2e tests)."""

from datetime import UTC, datetime, timedelta

from aquabill.channels.asterisk import protocol
from aquabill.channels.asterisk.calls import fold
from aquabill.channels.asterisk.scenarios import QueueCall

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _timed(events):
    return [(e, T0 + timedelta(seconds=i)) for i, e in enumerate(events)]


def test_answered_queue_call():
    call = QueueCall("89161234567", linkedid="1700000000.10")
    records, updates = fold(_timed(call.ringing() + call.answered()))
    assert [u.kind for u in updates] == ["started", "ringing", "answered", "ended"]
    assert updates[1].extension == "777"
    (rec,) = records
    assert (rec.caller, rec.queue, rec.status, rec.agent_extension) == ("89161234567", "600", "answered", "777")
    assert rec.answered_at == T0 + timedelta(seconds=10)  # AgentConnect, the 11th event and rec.ended_at == T0 + timedelta(seconds=17)


def test_abandoned_queue_call():
    call = QueueCall("+7 916 000-00-01", linkedid="1700000000.20", agent="701")
    records, _ = fold(_timed(call.ringing() + call.abandoned()))
    assert records[0].status == "abandoned" and records[0].answered_at is None


def test_events_survive_the_wire_format():
    call = QueueCall("89161234567", linkedid="1700000000.30")
    wire = b"".join(protocol.encode(e.headers) for e in call.ringing())
    decoded = protocol.Decoder(expect_banner=False).feed(wire)
    assert [m["Event"] for m in decoded] == [m["Event"] for m in call.ringing()]
