"""What the local fakes share: a uvicorn server for an ASGI callable on the current loop, the few HTTP
helpers they need (aiohttp is not used), the base of a fake that is served and posts to webhooks, and the
mixin that serves a fake from a thread with its own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Self

import httpx
import uvicorn

from aquabill.devserver.services import free_port


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # the process that runs the fake keeps its own signal handlers
        yield


class AsgiServer:
    """Serve an ASGI callable with uvicorn on 127.0.0.1 (a free port unless given) on the current loop
    (`lifespan="on"` for an app with start-up and shutdown, e.g. the whole service in a test)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, lifespan: str = "off") -> None:
        self.host, self.port = host, port or free_port()
        self._server = _QuietServer(uvicorn.Config(app, host=self.host, port=self.port, log_level="warning",
                                                   lifespan=lifespan, access_log=False, timeout_keep_alive=30))
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
            self._task = None


async def read_body(receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body)


async def respond(send, status: int, body: bytes, content_type: str = "application/json",
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """(fields, files: name → (filename, bytes)) of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files[name] = (filename, payload)
        else:
            fields[name] = payload.decode()
    return fields, files


async def deliver(http: httpx.AsyncClient, url: str, update: dict, headers: dict) -> httpx.Response | None:
    """POST an update to a webhook; a connection the server closed meanwhile (keep-alive race) is retried once
    on a new one; None when the webhook cannot be reached (the messenger would deliver it again later)."""
    for attempt in range(2):
        try:
            return await http.post(url, json=update, headers=headers)
        except httpx.TransportError:
            if attempt == 1:
                return None
    return None


class ServedFake:
    """A fake served on 127.0.0.1 by `AsgiServer` (it is its own ASGI app) with an HTTP client for what it
    posts to our webhooks; `async with` starts and stops it."""

    def __init__(self) -> None:
        self._server = AsgiServer(self)
        self._http: httpx.AsyncClient | None = None

    @property
    def url(self) -> str:
        return self._server.url

    async def start(self):
        await self._server.start()
        self._http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200))
        return self

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        await self._server.stop()

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()


class ThreadServed:
    """Serve a fake from a thread with its own event loop (the dev server, and tests whose app client blocks the
    test's loop). The fake has `async start(host, port)` that sets `self._loop` to the loop it serves on, and
    `async stop()`; it names its thread (`thread_name`) and itself in the start-up error (`title`)."""

    thread_name = "fake"
    title = "the fake"
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Any:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def start_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Serve from a thread with its own event loop; returns once it listens."""
        started = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start(host, port))
            started.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not started.wait(15):
            raise RuntimeError(f"{self.title} did not start")
        return self

    def stop_thread(self) -> None:
        """Stop a fake started with `start_in_thread`."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._thread = None

    async def _here(self, coro: Awaitable[Any]) -> Any:
        """Run `coro` on the fake's own loop (it may serve from a thread of its own) and wait for it here."""
        if self._loop is None or asyncio.get_running_loop() is self._loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))
