"""The agent's WebSocket client: connects outbound to the server, journals and acks commands, runs them.

One session: connect with `Authorization: Bearer <device key>` → `hello` (cursor = highest journaled id,
the devices' state) → `welcome` (heartbeat) → resend every result not yet `result_ack`ed, before anything
else → then frames both ways: a `command` is journaled and committed, THEN acked (a repeated id is the
same command: acked again, and if already finished its stored result is sent again, never re-executed);
`result_ack` marks a result delivered; `ping` every heartbeat seconds.

Commands run in a worker independent of the connection, one at a time in id order, in a single thread
(the register is synchronous). A result is sent when a connection is up; otherwise it waits in the
journal for the next session. Reconnects back off exponentially 1 s → 60 s with jitter. The server's close
code 4401 (key revoked/unknown) stops the agent for good (exit code 78 — systemd's unit does not restart
it); 4409 (a newer connection with the same key took over) is logged and retried like any drop.
Logs go through `logging` (stderr; journald under systemd).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from concurrent.futures import ThreadPoolExecutor

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from aquabill.edge_agent.executor import Executor
from aquabill.edge_agent.journal import Entry, Journal

log = logging.getLogger(__name__)

VERSION = "0.1.0"
CLOSE_REVOKED = 4401
CLOSE_REPLACED = 4409
EXIT_REVOKED = 78  # EX_CONFIG: the unit's RestartPreventExitStatus
WELCOME_TIMEOUT = 15.0
SNAPSHOT_TIMEOUT = 10.0


class Revoked(Exception):
    """The server refused the device key: stop, a person must enrol the agent again."""


class _SessionEnded(Exception):
    pass


def _dumps(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False)


class Agent:
    def __init__(self, url: str, key: str, journal: Journal, executor: Executor, *,
                 backoff_initial: float = 1.0, backoff_max: float = 60.0, open_timeout: float = 15.0) -> None:
        self.url, self.key = url, key
        self.journal, self.executor = journal, executor
        self.backoff_initial, self.backoff_max, self.open_timeout = backoff_initial, backoff_max, open_timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="register")
        self._wake: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._ws = None
        self._device: dict = {"register": None, "terminal": None}
        self._welcomed = False

    # --- life cycle ---

    async def run(self) -> int:
        """Run until `stop()` (→ 0) or until the server revokes the key (→ EXIT_REVOKED)."""
        self._wake, self._stopping = asyncio.Event(), asyncio.Event()
        worker = asyncio.create_task(self._work(), name="edge-worker")
        code = 0
        try:
            code = await self._connect_forever()
        finally:
            self._stopping.set()
            self._wake.set()
            await worker  # lets a command in progress finish; no new one starts
            await asyncio.to_thread(self._pool.shutdown, True)
        return code

    def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
            if self._wake is not None:
                self._wake.set()
        ws = self._ws
        if ws is not None:
            asyncio.ensure_future(ws.close())

    async def _connect_forever(self) -> int:
        attempt = 0
        while not self._stopping.is_set():
            self._welcomed = False
            try:
                await self._session()
            except Revoked as e:
                log.error("device key revoked or unknown (%s): the agent stops; enrol it again with "
                          "`aquabill-edge enroll`", e)
                return EXIT_REVOKED
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ConnectionClosed, _SessionEnded) as e:
                if not self._stopping.is_set():
                    log.warning("connection to %s failed: %s", self.url, _describe(e))
            if self._stopping.is_set():
                break
            attempt = 0 if self._welcomed else attempt + 1  # a welcomed session resets the backoff
            delay = min(self.backoff_max, self.backoff_initial * 2 ** max(attempt - 1, 0))
            delay = min(self.backoff_max, delay + random.uniform(0, delay / 4))
            log.info("reconnecting in %.1f s", delay)
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                pass
        return 0

    # --- one connection ---

    async def _snapshot(self) -> dict:
        """The devices' state for `hello`; the last known one when the register is busy printing."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, self.executor.device_snapshot)
        try:
            self._device = await asyncio.wait_for(asyncio.shield(future), SNAPSHOT_TIMEOUT)
        except TimeoutError:
            log.info("register busy: hello carries the last known device state")
        return self._device

    async def _session(self) -> None:
        """One connection, until it closes (`self._welcomed` tells whether the server welcomed us)."""
        device = await self._snapshot()
        try:
            async with connect(self.url, additional_headers={"Authorization": f"Bearer {self.key}"},
                               open_timeout=self.open_timeout, close_timeout=5) as ws:
                await ws.send(_dumps({"type": "hello", "cursor": self.journal.cursor(), "version": VERSION,
                                      "device": device}))
                welcome = await self._welcome(ws)
                self._welcomed = True
                log.info("connected to %s: agent %s, heartbeat %s s", self.url, welcome.get("agent_id"),
                         welcome.get("heartbeat"))
                sent = set()
                for entry in self.journal.undelivered():  # before anything else
                    await ws.send(_dumps(entry.result_frame()))
                    sent.add(entry.id)
                self._ws = ws  # from now on the worker sends results itself
                for entry in self.journal.undelivered():  # finished while the first pass was being sent
                    if entry.id not in sent:
                        await ws.send(_dumps(entry.result_frame()))
                heartbeat = welcome.get("heartbeat")
                pinger = asyncio.create_task(self._ping(ws, heartbeat if isinstance(heartbeat, int | float)
                                                        and heartbeat > 0 else 15))
                try:
                    async for raw in ws:
                        await self._on_frame(ws, raw)
                finally:
                    self._ws = None
                    pinger.cancel()
        except InvalidStatus as e:
            if e.response.status_code in (401, 403):
                raise Revoked(f"HTTP {e.response.status_code}") from e
            raise
        except ConnectionClosed as e:
            _raise_if_revoked(e.rcvd.code if e.rcvd else None, e.rcvd.reason if e.rcvd else "")
            raise
        _raise_if_revoked(ws.close_code, ws.close_reason or "")
        if ws.close_code == CLOSE_REPLACED:
            log.warning("the server closed this session: a newer connection with the same key (4409)")
        elif not self._stopping.is_set():
            log.warning("the server closed the connection (%s %s)", ws.close_code, ws.close_reason or "")

    async def _welcome(self, ws) -> dict:
        raw = await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT)
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or frame.get("type") != "welcome":
            raise _SessionEnded(f"expected welcome, got {str(raw)[:200]!r}")
        return frame

    async def _ping(self, ws, heartbeat: float) -> None:
        try:
            while True:
                await asyncio.sleep(heartbeat)
                await ws.send(_dumps({"type": "ping"}))
        except ConnectionClosed:
            pass

    async def _on_frame(self, ws, raw) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            log.warning("ignoring a frame that is not a JSON object: %r", str(raw)[:200])
            return
        kind = frame.get("type")
        if kind == "command":
            await self._on_command(ws, frame)
        elif kind == "result_ack":
            command_id = frame.get("id")
            if isinstance(command_id, int) and not await asyncio.to_thread(self.journal.mark_delivered, command_id):
                log.warning("result_ack for %s which has no finished result here", command_id)
        elif kind == "ping":
            await ws.send(_dumps({"type": "pong"}))
        elif kind not in ("pong", "welcome"):
            log.debug("ignoring frame type %r", kind)

    async def _on_command(self, ws, frame: dict) -> None:
        command_id, key, kind = frame.get("id"), frame.get("key"), frame.get("kind")
        payload = frame.get("payload", {})
        if not (isinstance(command_id, int) and not isinstance(command_id, bool) and command_id > 0
                and isinstance(key, str) and isinstance(kind, str)):
            log.warning("ignoring a malformed command frame: %r", str(frame)[:300])
            return
        if not isinstance(payload, dict):
            payload = {"_invalid": payload}
        entry, created = await asyncio.to_thread(self.journal.record, command_id, key, kind, payload)
        await ws.send(_dumps({"type": "ack", "id": command_id}))  # only now: the journal has committed it
        if created:
            log.info("command %s (%s) journaled", command_id, kind)
            self._wake.set()
        elif entry.finished:
            await ws.send(_dumps(entry.result_frame()))  # a repeat of a finished command: its stored result

    # --- the worker ---

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                pending = await asyncio.to_thread(self.journal.pending)
                if not pending:
                    await self._wake.wait()
                    continue
                for entry in pending:
                    if self._stopping.is_set():
                        return
                    finished = await loop.run_in_executor(self._pool, self.executor.execute, entry)
                    await self._deliver(finished)
            except Exception:  # noqa: BLE001 — e.g. the disk is full: keep the agent alive, try again
                log.exception("the command worker failed; retrying in 5 s")
                try:
                    await asyncio.wait_for(self._stopping.wait(), 5)
                except TimeoutError:
                    pass

    async def _deliver(self, entry: Entry) -> None:
        ws = self._ws
        if ws is None:
            return  # sent with the undelivered ones after the next welcome
        try:
            await ws.send(_dumps(entry.result_frame()))
        except ConnectionClosed:
            pass


def _raise_if_revoked(code: int | None, reason: str) -> None:
    if code == CLOSE_REVOKED:
        raise Revoked(f"close code 4401: {reason}" if reason else "close code 4401")


def _describe(e: BaseException) -> str:
    if isinstance(e, ConnectionClosed):
        return f"connection closed ({e.rcvd.code if e.rcvd else 'no close frame'})"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
