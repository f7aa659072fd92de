"""Event sequences of typical calls, as Asterisk 13+ sends them over AMI (field sets of the official event
reference: Newchannel, Newstate, QueueCallerJoin, AgentCalled, DialBegin/End, AgentConnect, BridgeEnter,
QueueCallerLeave/Abandon, BridgeLeave, Hangup). For the simulator in the demo and the browser tests; the
captured real call of the reference set is what the call-folding tests replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aquabill.channels.asterisk.protocol import Message


def _channel(peer: str, n: int) -> str:
    return f"SIP/{peer}-{n:08x}"


@dataclass
class QueueCall:
    """An inbound call from `caller` through `queue` to the agent at `agent` (a SIP peer name).

    `ringing()` is the part up to the agent's phone ringing; then `answered()` or `abandoned()` ends it.
    """

    caller: str
    linkedid: str
    agent: str = "777"
    queue: str = "600"
    did: str = "84951234567"
    trunk: str = "toOurAster"
    _n: int = field(default=0, repr=False)

    @property
    def agent_uniqueid(self) -> str:
        return self.linkedid + "1"

    @property
    def caller_channel(self) -> str:
        return _channel(self.trunk, int(self.linkedid.replace(".", "")[-6:] or 0))

    @property
    def agent_channel(self) -> str:
        return _channel(self.agent, int(self.linkedid.replace(".", "")[-6:] or 0) + 1)

    def _caller(self, event: str, state: tuple[str, str] = ("6", "Up"), **extra: str) -> Message:
        return Message([("Event", event), ("Privilege", "call,all"), ("Channel", self.caller_channel),
                        ("ChannelState", state[0]), ("ChannelStateDesc", state[1]),
                        ("CallerIDNum", self.caller), ("CallerIDName", self.caller), ("ConnectedLineNum", "<unknown>"),
                        ("ConnectedLineName", "<unknown>"), ("Language", "ru"), ("AccountCode", ""),
                        ("Context", "from-trunk"), ("Exten", self.did), ("Priority", "1"),
                        ("Uniqueid", self.linkedid), ("Linkedid", self.linkedid), *extra.items()])

    def _agent(self, event: str, state: tuple[str, str] = ("5", "Ringing"), **extra: str) -> Message:
        return Message([("Event", event), ("Privilege", "call,all"), ("Channel", self.agent_channel),
                        ("ChannelState", state[0]), ("ChannelStateDesc", state[1]),
                        ("CallerIDNum", self.agent), ("CallerIDName", self.agent),
                        ("ConnectedLineNum", self.caller), ("ConnectedLineName", self.caller), ("Language", "ru"),
                        ("AccountCode", ""), ("Context", "from-queue"), ("Exten", self.queue), ("Priority", "1"),
                        ("Uniqueid", self.agent_uniqueid), ("Linkedid", self.linkedid), *extra.items()])

    def _dest(self) -> list[tuple[str, str]]:
        return [("DestChannel", self.agent_channel), ("DestChannelState", "5"), ("DestChannelStateDesc", "Ringing"),
                ("DestCallerIDNum", self.agent), ("DestUniqueid", self.agent_uniqueid),
                ("DestLinkedid", self.linkedid)]

    def ringing(self) -> list[Message]:
        dest = dict(self._dest())
        return [
            self._caller("Newchannel", ("0", "Down")),
            self._caller("Newstate", ("4", "Ring")),
            self._caller("Newstate", ("6", "Up")),
            self._caller("QueueCallerJoin", Queue=self.queue, Position="1", Count="1"),
            self._agent("Newchannel", ("0", "Down")),
            self._caller("AgentCalled", Queue=self.queue, Interface=f"SIP/{self.agent}", MemberName=self.agent,
                         **dest),
            self._caller("DialBegin", DialString=self.agent, **dest),
            self._agent("Newstate", ("5", "Ringing")),
        ]

    def answered(self, bridge: str = "b1") -> list[Message]:
        dest = dict(self._dest())
        return [
            self._agent("Newstate", ("6", "Up")),
            self._caller("DialEnd", DialStatus="ANSWER", **dest),
            self._caller("AgentConnect", Queue=self.queue, Interface=f"SIP/{self.agent}", MemberName=self.agent,
                         HoldTime="7", RingTime="3", **dest),
            self._caller("QueueCallerLeave", Queue=self.queue, Position="1", Count="0"),
            self._caller("BridgeEnter", BridgeUniqueid=bridge, BridgeType="basic", BridgeNumChannels="1"),
            self._agent("BridgeEnter", ("6", "Up"), BridgeUniqueid=bridge, BridgeType="basic", BridgeNumChannels="2"),
            self._agent("BridgeLeave", ("6", "Up"), BridgeUniqueid=bridge, BridgeNumChannels="1"),
            self._agent("Hangup", ("6", "Up"), Cause="16", **{"Cause-txt": "Normal Clearing"}),
            self._caller("BridgeLeave", BridgeUniqueid=bridge, BridgeNumChannels="0"),
            self._caller("Hangup", Cause="16", **{"Cause-txt": "Normal Clearing"}),
        ]

    def abandoned(self) -> list[Message]:
        dest = dict(self._dest())
        return [
            self._caller("DialEnd", DialStatus="CANCEL", **dest),
            self._agent("Hangup", Cause="26", **{"Cause-txt": "Answered elsewhere"}),
            self._caller("QueueCallerAbandon", Queue=self.queue, Position="1", OriginalPosition="1", HoldTime="12"),
            self._caller("Hangup", Cause="16", **{"Cause-txt": "Normal Clearing"}),
        ]
