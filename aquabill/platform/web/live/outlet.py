"""Delivery of the hub's frames to one WebSocket without a task per socket.

The hub hands a tenant's frame to every outlet of that tenant in one synchronous loop. An outlet starts
the send at once and, in the usual case (the socket's buffer has room), the send completes right there,
without scheduling anything: no queue, no task wake-up, so the cost per socket is the send itself. Only
a socket whose buffer is full makes the send wait; then a task finishes that send, and frames arriving
meanwhile wait in the outlet's backlog and go out together as one frame. A socket whose backlog grows
past BACKLOG_MAX frames is closed (1013): its client reconnects and resumes with `?since=N`.

Every event goes out once and in sequence order: the outlet remembers the last sequence number sent
and skips events at or below it (those the client got from the replay log when it resumed). A reset
frame (the hub lost events it can no longer replay) always goes out, and numbering continues after it.

A send that fails (the send coroutine raises, at once or after waiting) closes the socket (1011) and
detaches the outlet from the hub: the client reconnects and resumes with `?since=N` instead of staying
connected to an outlet that no longer sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from aquabill.platform.realtime import Frame, join

log = logging.getLogger(__name__)

BACKLOG_MAX = 1000  # frames waiting behind a slow socket before it is closed
TRY_AGAIN_LATER = 1013  # too slow: reconnect and resume
INTERNAL_ERROR = 1011  # a send failed: reconnect and resume


class _Resume:
    """Awaitable that continues a coroutine which already ran up to its first suspension, where it
    yielded `first` (a future): the awaiting task takes over exactly where the coroutine stopped."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro, self.first = coro, first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.first
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # cancellation or an error thrown in by the task: pass it on
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


class SocketOutlet:
    """One socket's end of the hub: `offer(frame)` is called synchronously by the hub's fan-out loop."""

    def __init__(self, send_text: Callable[[str], Awaitable[None]],
                 close: Callable[[int, str], Awaitable[None]],
                 detach: Callable[[], None] | None = None) -> None:
        self._send_text = send_text
        self._close = close
        self._detach = detach  # takes the outlet out of the hub (called once, when the outlet fails)
        self._backlog: list[Frame] = []
        self._held = True  # until `release`: the replay is being sent
        self._busy = False  # a send is waiting for the socket's buffer
        self._task: asyncio.Task | None = None  # finishing a send that had to wait
        self._closing: asyncio.Task | None = None
        self.last = 0  # sequence number of the last event sent
        self.closed = False

    def offer(self, frame: Frame) -> None:
        if self.closed:
            return
        if self._held or self._busy:
            self._backlog.append(frame)
            if len(self._backlog) > BACKLOG_MAX:
                self._fail(TRY_AGAIN_LATER, "too slow, reconnect")
            return
        text = self._text([frame])
        if text is not None:
            self._start(text)

    def release(self, last: int) -> None:
        """The replay is sent up to `last`: deliver what waited meanwhile, then live frames at once."""
        self.last = max(self.last, last)
        self._held = False
        if self._backlog:
            frames, self._backlog = self._backlog, []
            text = self._text(frames)
            if text is not None:
                self._start(text)

    def stop(self) -> None:
        self.closed = True
        if self._task is not None:
            self._task.cancel()

    def _text(self, frames: list[Frame]) -> str | None:
        """The text to send for these frames, skipping events already sent; advances `last`."""
        last = self.last
        if len(frames) == 1 and (frames[0].first > last or frames[0].reset):  # usual: the hub's text as is
            self.last = frames[0].last
            return frames[0].text
        events = []
        for frame in frames:
            if frame.reset:  # always sent; the numbering goes on from it (Redis may have lost its counter)
                events += frame.events
                last = frame.last
            else:
                fresh = [e for e in frame.events if e[0] > last]
                events += fresh
                last = fresh[-1][0] if fresh else last
        if not events:
            return None
        self.last = last
        return join(events)

    def _start(self, text: str) -> None:
        coro = self._send_text(text)
        try:
            suspended_on = coro.send(None)
        except StopIteration:
            return  # sent: the socket's buffer had room
        except Exception as exc:
            self._send_failed(exc)
            return
        self._busy = True
        self._task = asyncio.get_running_loop().create_task(self._finish(coro, suspended_on))

    async def _finish(self, coro: Coroutine[Any, Any, Any], suspended_on: Any) -> None:
        try:
            await _Resume(coro, suspended_on)
            while self._backlog and not self.closed:  # what came meanwhile goes out as one frame
                frames, self._backlog = self._backlog, []
                text = self._text(frames)
                if text is not None:
                    await self._send_text(text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._task = None  # this task: not to be cancelled by _fail
            self._send_failed(exc)
        finally:
            self._busy = False
            self._task = None

    def _send_failed(self, exc: Exception) -> None:
        if isinstance(exc, OSError):  # the client went away (uvicorn's ClientDisconnected is one)
            log.debug("console socket: a send failed (%r); closing it", exc)
        else:
            log.warning("console socket: a send failed; closing it", exc_info=exc)
        self._fail(INTERNAL_ERROR, "send failed, reconnect")

    def _fail(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._backlog = []
        if self._task is not None:
            self._task.cancel()
        if self._detach is not None:
            self._detach()

        async def close() -> None:
            with contextlib.suppress(Exception):
                await self._close(code, reason)

        self._closing = asyncio.get_running_loop().create_task(close())
