"""What the local fakes share: a uvicorn server for an ASGI callable on the current loop, the few HTTP
helpers they need (aiohttp is not used), and the base of a fake that is served and posts to webhooks."""

from __future__ import annotations

import asyncio
import contextlib
from email.parser import BytesParser
from email.policy import HTTP

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
