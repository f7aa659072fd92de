"""An AMI peer for tests and demos: a TCP server on loopback speaking the real manager protocol.

It sends the banner, answers Login (Success / Error as Asterisk words them), Ping, Filter, Originate (Success
"Originate successfully queued", then, when Async, an OriginateResponse event to every session with events on),
Logoff, and refuses other actions; `replay()` sends an event sequence to every logged-in session that asked
for events (through the session's filters); `drop()` cuts every connection (a restarting Asterisk, a broken
link). `load_captured()` reads the events of an Asterisk console log (`<-- Examining AMI event: -->` blocks),
e.g. the captured queue call of the reference set.

An Originate's outcome is scripted by the dialled number (the resource of its Channel: `Local/89160000001@ctx`
→ `89160000001`, `PJSIP/101` → `101`): `outcomes[number]` is one of OUTCOMES (default 'answered') or 'silent'
(the call rings and no OriginateResponse ever comes), `ring_seconds[number]` delays the event.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from aquabill.channels.asterisk import protocol
from aquabill.channels.asterisk.protocol import Message

BANNER = b"Asterisk Call Manager/5.0.1\r\n"
_MARK = "<-- Examining AMI event: -->"

# outcome → the OriginateResponse's Response and Reason (the AST_CONTROL_* code; see autocall.REASONS)
OUTCOMES = {"answered": ("Success", "4"), "busy": ("Failure", "5"), "no_answer": ("Failure", "3"),
            "hangup": ("Failure", "1"), "congestion": ("Failure", "8"), "failed": ("Failure", "0")}
SILENT = "silent"


def load_captured(path: str | Path) -> list[Message]:
    """The AMI events printed in an Asterisk console log, in order."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    events = []
    for chunk in text.split(_MARK)[1:]:
        lines = []
        for line in chunk.lstrip("\r\n").splitlines():
            if not line.strip():
                break
            lines.append(line)
        block = "\n".join(lines).encode()
        msg = protocol.decode_block(block)
        if msg.event:
            events.append(msg)
    return events


class _Session:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.logged_in = False
        self.events = True
        self.filters: list[tuple[bool, re.Pattern[str]]] = []  # (include?, regex) added by the Filter action

    def send(self, fields: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        if not self.writer.is_closing():
            self.writer.write(protocol.encode(fields))

    def wants(self, fields: Iterable[tuple[str, str]]) -> bool:
        """Asterisk's legacy event filters: a regex over the whole event; '!' excludes. With include filters
        only matching events pass; an exclude filter blocks what it matches."""
        if not self.filters:
            return True
        payload = "".join(f"{k}: {v}\r\n" for k, v in fields)
        includes = [rx for inc, rx in self.filters if inc]
        if includes and not any(rx.search(payload) for rx in includes):
            return False
        return not any(rx.search(payload) for inc, rx in self.filters if not inc)


class AmiSimulator:
    def __init__(self, username: str = "aquabill", secret: str = "amp111") -> None:
        self.username, self.secret = username, secret
        self.sessions: list[_Session] = []
        self.actions: list[Message] = []  # every action received (Login secrets included: it is a test peer)
        self.logins = 0  # successful logins
        self.failed_logins = 0
        self._server: asyncio.Server | None = None
        self._login_event = asyncio.Event()
        self.port = 0
        self.outcomes: dict[str, str] = {}  # dialled number → one of OUTCOMES or SILENT (default 'answered')
        self.ring_seconds: dict[str, float] = {}  # dialled number → delay of its OriginateResponse
        self._timers: set[asyncio.TimerHandle] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop(self) -> None:
        """Cut every connection now (no Logoff, no goodbye)."""
        for s in list(self.sessions):
            s.writer.transport.abort()
        self.sessions.clear()

    @property
    def originates(self) -> list[Message]:
        return [a for a in self.actions if (a.get("Action") or "").lower() == "originate"]

    def event_sessions(self) -> list[_Session]:
        return [s for s in self.sessions if s.logged_in and s.events]

    async def wait_for_logins(self, count: int, within: float = 20.0) -> None:
        """Until `count` successful logins have happened in total (a reconnect is one more)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.logins < count:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"{self.logins} logins, expected {count}")
            self._login_event.clear()
            try:
                await asyncio.wait_for(self._login_event.wait(), left)
            except TimeoutError:
                pass

    async def replay(self, events: Iterable[Mapping[str, str] | Message]) -> int:
        """Send the events to every session that receives events; returns how many sessions got them."""
        targets = self.event_sessions()
        for event in events:
            fields = event.headers if isinstance(event, Message) else list(event.items())
            for s in targets:
                if s.wants(fields):
                    s.send(fields)
        for s in targets:
            try:
                await s.writer.drain()
            except ConnectionError:
                pass
        return len(targets)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(writer)
        self.sessions.append(session)
        writer.write(BANNER)
        decoder = protocol.Decoder(expect_banner=False)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for msg in decoder.feed(data):
                    self.actions.append(msg)
                    if not self._handle(session, msg):
                        await writer.drain()
                        return
                await writer.drain()
        except (ConnectionError, protocol.ProtocolError):
            pass
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            writer.close()

    def _handle(self, s: _Session, msg: Message) -> bool:
        name = (msg.get("Action") or "").lower()
        head = [("ActionID", msg["ActionID"])] if "ActionID" in msg else []
        if name == "login":
            if msg.get("Username") == self.username and msg.get("Secret") == self.secret:
                s.logged_in = True
                s.events = (msg.get("Events") or "on").lower() != "off"
                self.logins += 1
                self._login_event.set()
                s.send([("Response", "Success"), *head, ("Message", "Authentication accepted")])
                if s.events:
                    s.send([("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", "1000"),
                            ("LastReload", "1000"), ("Status", "Fully Booted")])
            else:
                self.failed_logins += 1
                s.send([("Response", "Error"), *head, ("Message", "Authentication failed")])
            return True
        if not s.logged_in:
            s.send([("Response", "Error"), *head, ("Message", "Permission denied")])
            return True
        if name == "ping":
            s.send([("Response", "Success"), *head, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")])
        elif name == "originate":
            s.send([("Response", "Success"), *head, ("Message", "Originate successfully queued")])
            if (msg.get("Async") or "").lower() in ("true", "yes", "1"):
                self._originated(msg, head)
        elif name == "filter":
            self._filter(s, msg, head)
        elif name == "logoff":
            s.send([("Response", "Goodbye"), *head, ("Message", "Thanks for all the fish.")])
            return False
        else:
            s.send([("Response", "Error"), *head, ("Message", "Invalid/unknown command")])
        return True

    def _filter(self, s: _Session, msg: Message, head: list[tuple[str, str]]) -> None:
        expr = msg.get("Filter") or ""
        if (msg.get("Operation") or "").lower() != "add" or not expr:
            s.send([("Response", "Error"), *head, ("Message", "Unknown operation")])
            return
        include = not expr.startswith("!")
        try:
            s.filters.append((include, re.compile(expr if include else expr[1:])))
        except re.error:
            s.send([("Response", "Error"), *head, ("Message", "Filter Compilation Error")])
            return
        s.send([("Response", "Success"), *head, ("Message", "Success")])

    def _originated(self, msg: Message, head: list[tuple[str, str]]) -> None:
        """The OriginateResponse of an Async Originate, as Asterisk's manager.c `fast_originate` words it:
        ActionID, Response, Channel, Context/Exten (or Application/Data), Reason, Uniqueid, CallerID*."""
        requested = msg.get("Channel") or ""
        number = dialled(requested)
        outcome = self.outcomes.get(number, "answered")
        if outcome == SILENT:
            return
        response, reason = OUTCOMES[outcome]
        answered = response == "Success"
        channel_id = msg.get("ChannelId") or f"{time.time():.0f}.{len(self.actions)}"
        target = (("Application", msg.get("Application") or ""), ("Data", msg.get("Data") or "")) \
            if msg.get("Application") else (("Context", msg.get("Context") or ""), ("Exten", msg.get("Exten") or ""))
        fields = [("Event", "OriginateResponse"), ("Privilege", "call,all"), *head, ("Response", response),
                  ("Channel", f"{requested}-00000001;1" if answered and requested.startswith("Local/") else requested),
                  *target, ("Reason", reason), ("Uniqueid", channel_id if answered else "<null>"),
                  ("CallerIDNum", msg.get("CallerID") or "<unknown>"), ("CallerIDName", "<unknown>")]
        delay = self.ring_seconds.get(number, 0.0)
        if delay <= 0:
            self._broadcast(fields)
            return
        timer = asyncio.get_running_loop().call_later(delay, lambda: (self._timers.discard(timer),
                                                                      self._broadcast(fields)))
        self._timers.add(timer)

    def _broadcast(self, fields: list[tuple[str, str]]) -> None:
        for target in self.event_sessions():
            if target.wants(fields):
                target.send(fields)


def dialled(channel: str) -> str:
    """`Local/89160000001@outgoing` → `89160000001`; `PJSIP/101` → `101`."""
    return channel.partition("/")[2].partition("@")[0]
