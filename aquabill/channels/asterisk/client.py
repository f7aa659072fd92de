"""The AMI client: panoramisk's `Manager` does the connection, the login, the actions and the event dispatch;
this module makes it a supervised connection (errors as exceptions, no retries of its own).

`connect()` opens the TCP connection and logs in (AmiAuthError with Asterisk's message on a refused login);
events go to the `on_event` callback in arrival order as `protocol.Message`; `send()` sends an action through
`Manager.send_action` and waits for its response. `closed()` returns (raising why) when the connection ends;
actions still waiting then fail with ConnectionError. The client does not reconnect: the supervisor does,
with backoff and state.

What is changed in panoramisk 1.4, and why (line numbers of its manager.py / ami_protocol.py):
- its reconnects: `Manager.connection_made` retries a refused TCP connection (manager.py:72) and
  `Manager.connection_lost` reconnects after `reconnect_timeout` (manager.py:283); `_Manager` only reports
  both (the error to `connect()`'s caller, a drop to `on_disconnect`), so the supervisor alone retries;
- its keep-alive: `Manager.ping` writes Ping every `ping_interval` and never reads the reply (manager.py:107),
  so a dead link goes unnoticed; it is switched off and the supervisor pings through `send()` with a timeout;
- a refused login only sets `authenticated = False` (manager.py:99): `connect()` awaits the Login response
  itself (the future `Manager.connection_made` stores in `authenticated_future`);
- at a drop, `AMIProtocol.close` keeps unanswered actions to resend after a reconnect or, for Ping and
  Login, forgets them with their futures never done (ami_protocol.py:94–111): `send()` waits for the
  response or the end of the connection, whichever comes first;
- `AMIProtocol.data_received` decodes each TCP read on its own, dropping bytes it cannot decode
  (ami_protocol.py:41), so a Cyrillic caller name split between two reads loses letters: `_Protocol` decodes
  UTF-8 incrementally before handing the text on.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections.abc import Callable, Mapping
from typing import Any

import panoramisk
from panoramisk.ami_protocol import AMIProtocol

from aquabill.channels.asterisk import protocol
from aquabill.channels.asterisk.protocol import Message

log = logging.getLogger(__name__)

LOGOFF_SECONDS = 2.0


class AmiError(Exception):
    pass


class AmiAuthError(AmiError):
    pass


def from_panoramisk(msg: Mapping[str, Any]) -> Message:
    """A panoramisk message (repeated headers as a list) → `protocol.Message`. panoramisk keeps a response's
    body (`Response: Follows`) as the header `content`, empty for every other message: dropped when empty."""
    headers = []
    for key, value in msg.items():
        if key == "content" and not value:
            continue
        for v in value if isinstance(value, list) else [value]:
            headers.append((key, str(v)))
    return Message(headers)


class _Protocol(AMIProtocol):
    """panoramisk's protocol fed whole UTF-8 characters only (a read may end inside one)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._utf8 = codecs.getincrementaldecoder(protocol.ENCODING)("replace")

    def data_received(self, data: bytes) -> None:
        text = self._utf8.decode(data)
        if text:
            super().data_received(text.encode(protocol.ENCODING))


class _Manager(panoramisk.Manager):
    """panoramisk's Manager without its own reconnects and keep-alive (the supervisor owns both)."""

    login_future: asyncio.Future | None = None

    def connection_made(self, f: asyncio.Future) -> None:
        if f.cancelled() or f.exception() is not None:
            return  # the caller of connect() gets the error; no retry timer
        super().connection_made(f)
        self.login_future = self.authenticated_future  # `login()` clears the attribute once answered

    def ping(self) -> None:
        self.pinger = None

    def connection_lost(self, exc: object) -> None:
        self._connected = False
        if self.pinger is not None:
            self.pinger.cancel()
            self.pinger = None
        self.on_disconnect(self, exc)


class AmiClient:
    def __init__(self, host: str, port: int, username: str, secret: str, *,
                 on_event: Callable[[Message], None] | None = None, timeout: float = 10.0,
                 events: str = "on") -> None:
        self.host, self.port, self.username = host, port, username
        self._secret = secret
        self._on_event = on_event
        self.timeout = timeout
        self._events = events
        self._manager: _Manager | None = None
        self._lost: asyncio.Future[BaseException] | None = None  # done (with the reason) once the link ends
        self.version: str | None = None

    def __repr__(self) -> str:
        return f"AmiClient({self.username}@{self.host}:{self.port})"

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        self._lost = loop.create_future()
        self._manager = manager = _Manager(
            host=self.host, port=self.port, username=self.username, secret=self._secret, events=self._events,
            loop=loop, protocol_factory=_Protocol, on_disconnect=self._disconnected)
        manager.register_event("*", self._dispatch)
        try:
            await asyncio.wait_for(manager.connect(), self.timeout)
            if manager.login_future is None:  # (connection_made runs before this line resumes)
                raise ConnectionError("AMI login was not sent")
            reply = from_panoramisk(await self._reply(manager.login_future, self.timeout))
        except BaseException:
            await self.close()
            raise
        if (reply.response or "").lower() != "success":
            await self.close()
            raise AmiAuthError(reply.get("Message") or "Authentication failed")
        self.version = getattr(manager.protocol, "version", None)

    def _disconnected(self, manager: panoramisk.Manager, exc: object) -> None:
        if isinstance(exc, BaseException):
            reason: BaseException = exc if isinstance(exc, OSError) else ConnectionError(str(exc))
        elif exc is not None:  # the Shutdown event
            reason = ConnectionError("Asterisk is shutting down")
        else:
            reason = ConnectionError("AMI connection closed by the peer")
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(reason)

    def _dispatch(self, manager: panoramisk.Manager, event: Mapping[str, Any]) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(from_panoramisk(event))
        except Exception:  # a bad handler must not kill the connection
            log.exception("AMI event handler failed on %s", event.get("Event"))

    async def _reply(self, fut: asyncio.Future, within: float) -> Any:
        """The action's response, or the reason the connection ended first, or TimeoutError."""
        assert self._lost is not None
        done, _ = await asyncio.wait({fut, self._lost}, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        if fut in done:
            return fut.result()
        if self._lost in done:
            raise ConnectionError(str(self._lost.result()))
        raise TimeoutError(f"no AMI response within {within:g}s")

    async def send(self, name: str, **fields: str | int | list[str]) -> Message:
        return await self._send(name, fields, self.timeout)

    async def _send(self, name: str, fields: Mapping[str, str | int | list[str]], within: float) -> Message:
        if self._manager is None or self._lost is None or self._lost.done():
            raise ConnectionError("AMI connection is not open")
        action = {"Action": name, **fields}
        protocol.encode(action)  # ProtocolError on a line break in a value: panoramisk would send it as is
        # as_list=False: the first response completes the action (an async Originate's OriginateResponse
        # event is not awaited: it comes when the agent answers, and only to sessions with events on)
        fut = self._manager.send_action(action, as_list=False)
        return from_panoramisk(await self._reply(fut, within))

    async def closed(self) -> None:
        """Wait until the connection ends; raises why (ConnectionError and the like)."""
        assert self._lost is not None
        await asyncio.wait([self._lost])  # (our own cancellation still propagates; the future stays)
        raise self._lost.result()

    async def close(self, *, logoff: bool = False) -> None:
        if logoff and self._lost is not None and not self._lost.done():
            try:
                await self._send("Logoff", {}, min(LOGOFF_SECONDS, self.timeout))
            except (ConnectionError, TimeoutError, OSError):
                pass
        if self._manager is not None:
            self._manager.close()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(ConnectionError("AMI connection closed"))
