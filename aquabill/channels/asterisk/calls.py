"""Folding a stream of AMI events into call records (pure: no I/O, the time of each event comes in).

A call is the set of channels sharing a `Linkedid`; its root channel is the one whose `Uniqueid` equals the
`Linkedid` (the caller's channel of an inbound call, the agent's phone of a click-to-call Originate).

- ringing:  an agent's phone starts ringing (`AgentCalled` of a queue, or `DialBegin` of a direct dial);
            once per (call, extension);
- answered: an agent is connected (`AgentConnect`, or the root channel and another channel of the call
            enter the same bridge); the agent's extension comes from that channel (`SIP/777-000000bc` → 777);
- ended:    the root channel hangs up (`Hangup`). Status:
            answered  — an agent was connected;
            abandoned — the caller gave up waiting: `QueueCallerAbandon`, or a dial cancelled by the caller
                        (`DialEnd` with `DialStatus: CANCEL`);
            missed    — nobody answered otherwise (queue timeout, no agents, NOANSWER/BUSY/CHANUNAVAIL…).
The recording is what Asterisk reports: `VarSet MIXMONITOR_FILENAME` (set by MixMonitor) or the
`Monitor`'s file name variables. Events repeated (two manager sessions) or of unknown calls are ignored.
Event times: the `Timestamp` header when Asterisk sends it (`timestampevents = yes`), else the time received.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from aquabill.contact_center.call_record import CallRecord

OUTBOUND_PREFIX = "aqb-"  # ChannelId of the channels we originate: `aqb-<call id>`
RECORDING_VARIABLES = ("MIXMONITOR_FILENAME", "MONITOR_FILENAME", "MONITOR_EXEC_FILENAME")
_SUFFIX = re.compile(r"-[0-9a-fA-F]{8}$")  # Asterisk appends -%08x to a channel's name
_FINISHED_KEPT = 5000


def extension_of(channel: str | None) -> str | None:
    """`SIP/777-000000bc` → `777`, `PJSIP/101-00000001` → `101`, `Local/102@from-queue-00000004;1` → `102`,
    `SIP/777` → `777`; None when there is no name."""
    if not channel:
        return None
    _, sep, rest = channel.strip().partition("/")
    if not sep:
        return None
    rest = re.split(r"[@;]", rest, maxsplit=1)[0]
    return _SUFFIX.sub("", rest) or None


def event_time(msg: Mapping[str, str], received: datetime) -> datetime:
    raw = msg.get("Timestamp")
    if raw:
        try:
            return datetime.fromtimestamp(float(raw), UTC)
        except ValueError:
            pass
    return received


def _blank(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", "<unknown>", "unknown") else value


@dataclass(frozen=True, slots=True)
class CallUpdate:
    kind: str  # started | ringing | answered | recording | ended
    call: CallRecord
    extension: str | None = None  # ringing: whose phone rings


@dataclass
class _Live:
    record: CallRecord
    abandoned: bool = False
    rung: set[str] = field(default_factory=set)
    bridges: dict[str, dict[str, str]] = field(default_factory=dict)  # bridge id → {uniqueid: channel}


class CallTracker:
    """Feed AMI events in order; each `feed` returns what changed (usually nothing)."""

    def __init__(self) -> None:
        self._live: dict[str, _Live] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()

    @property
    def live(self) -> list[CallRecord]:
        return [c.record for c in self._live.values()]

    def feed(self, msg: Mapping[str, str], received: datetime) -> list[CallUpdate]:
        name = msg.get("Event")
        if not name:
            return []
        at = event_time(msg, received)
        linkedid = msg.get("Linkedid") or msg.get("Uniqueid")
        if name == "Newchannel":
            return self._new_channel(msg, at)
        if not linkedid or linkedid not in self._live:
            return []
        live = self._live[linkedid]
        handler = getattr(self, "_on_" + name, None)
        return handler(live, msg, at) if handler else []

    # ---- handlers ----------------------------------------------------------------------------------------

    def _new_channel(self, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        uniqueid, linkedid = msg.get("Uniqueid"), msg.get("Linkedid") or msg.get("Uniqueid")
        if not uniqueid or uniqueid != linkedid or linkedid in self._live or linkedid in self._finished:
            return []
        outbound = uniqueid.startswith(OUTBOUND_PREFIX)
        record = CallRecord(
            linkedid=linkedid, uniqueid=uniqueid, direction="outbound" if outbound else "inbound",
            caller=_blank(msg.get("CallerIDNum")) if not outbound else extension_of(msg.get("Channel")),
            called=_blank(msg.get("Exten")), started_at=at,
            agent_extension=extension_of(msg.get("Channel")) if outbound else None,
        )
        self._live[linkedid] = _Live(record)
        return [CallUpdate("started", record)]

    def _set(self, live: _Live, **changes) -> CallRecord:
        live.record = replace(live.record, **changes)
        return live.record

    def _ring(self, live: _Live, extension: str | None, at: datetime, queue: str | None = None) -> list[CallUpdate]:
        if queue and not live.record.queue:
            self._set(live, queue=queue)
        if not extension or extension in live.rung or live.record.answered_at is not None:
            return []
        live.rung.add(extension)
        return [CallUpdate("ringing", live.record, extension=extension)]

    def _on_QueueCallerJoin(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        if live.record.queued_at is None:
            self._set(live, queue=_blank(msg.get("Queue")), queued_at=at)
        return []

    def _on_AgentCalled(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        ext = extension_of(msg.get("DestChannel")) or extension_of(msg.get("Interface"))
        return self._ring(live, ext, at, queue=_blank(msg.get("Queue")))

    def _on_DialBegin(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        if live.record.direction == "outbound":
            return []  # the agent's own phone dialling out: nothing rings at the console
        return self._ring(live, extension_of(msg.get("DestChannel")), at)

    def _on_DialEnd(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        if (msg.get("DialStatus") or "").upper() == "CANCEL" and msg.get("Uniqueid") == live.record.uniqueid:
            live.abandoned = True
        return []

    def _on_QueueCallerAbandon(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        live.abandoned = True
        return []

    def _answer(self, live: _Live, extension: str | None, at: datetime) -> list[CallUpdate]:
        if live.record.answered_at is not None or live.record.ended_at is not None:
            return []
        agent = live.record.agent_extension if live.record.direction == "outbound" else extension
        return [CallUpdate("answered", self._set(live, answered_at=at, agent_extension=agent or extension))]

    def _on_AgentConnect(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        ext = extension_of(msg.get("DestChannel")) or extension_of(msg.get("Interface"))
        return self._answer(live, ext, at)

    def _on_BridgeEnter(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        bridge, uniqueid = msg.get("BridgeUniqueid"), msg.get("Uniqueid")
        if not bridge or not uniqueid:
            return []
        members = live.bridges.setdefault(bridge, {})
        members[uniqueid] = msg.get("Channel") or ""
        root = live.record.uniqueid
        others = [channel for u, channel in members.items() if u != root]
        if root in members and others:
            return self._answer(live, extension_of(others[0]), at)
        return []

    def _on_BridgeLeave(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        members = live.bridges.get(msg.get("BridgeUniqueid") or "")
        if members is not None:
            members.pop(msg.get("Uniqueid") or "", None)
        return []

    def _on_VarSet(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        variable = (msg.get("Variable") or "").upper()
        value = _blank(msg.get("Value"))
        if variable in RECORDING_VARIABLES and value and value != live.record.recording:
            return [CallUpdate("recording", self._set(live, recording=value))]
        return []

    def _on_Hangup(self, live: _Live, msg: Mapping[str, str], at: datetime) -> list[CallUpdate]:
        if msg.get("Uniqueid") != live.record.uniqueid:
            return []
        r = live.record
        status = "answered" if r.answered_at else ("abandoned" if live.abandoned else "missed")
        record = self._set(live, ended_at=at, status=status, hangup_cause=_blank(msg.get("Cause-txt")))
        del self._live[r.linkedid]
        self._finished[r.linkedid] = None
        while len(self._finished) > _FINISHED_KEPT:
            self._finished.popitem(last=False)
        return [CallUpdate("ended", record)]


def fold(events: list[tuple[Mapping[str, str], datetime]]) -> tuple[list[CallRecord], list[CallUpdate]]:
    """All calls of an event stream (finished and live) and every update, in order (for tests and replays)."""
    tracker = CallTracker()
    updates: list[CallUpdate] = []
    for msg, received in events:
        updates.extend(tracker.feed(msg, received))
    ended = {u.call.linkedid: u.call for u in updates if u.kind == "ended"}
    calls = list(ended.values()) + tracker.live
    return calls, updates
