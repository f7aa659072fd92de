"""A lean HTTP/1.1 client under python-telegram-bot (its `BaseRequest`): keep-alive connections to the Bot API
over asyncio streams, in place of PTB's default httpx client.

Why: a bot's one request per answered button press cost about 2–3 ms of CPU through httpx/httpcore/anyio
(profiled with py-spy under bench/subscribers.py), several times the request itself. This class does only
what the Bot API needs: `POST` (or `GET`) to one host, the parameters form-encoded as PTB's default client
sends them (each value JSON-serialised) or `multipart/form-data` when files are uploaded, a response with
`Content-Length`, chunked, or read to the close. Timeouts map to PTB's `TimedOut`, transport failures to
`NetworkError` (PTB's contract for `do_request`); the connect, write and read timeouts are summed into one
deadline for the whole exchange.

Connections: at most `pool_size` requests at once per bot (PTB's `connection_pool_size`), waiting at most
`pool_timeout` for a free slot; idle connections are reused. A reused connection the server closed while it
was idle (nothing at all read back) is tried once more on a new connection — the server had not read the
request then.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
from urllib.parse import urlsplit

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

USER_AGENT = "aquabill (python-telegram-bot lean request)"
MAX_HEADER_BYTES = 64 * 1024

_ssl_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every bot of the process (creating one loads the CA bundle: ~50 ms)."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


class _Closed(Exception):
    """The server closed a reused connection before answering anything."""


class LeanRequest(BaseRequest):
    def __init__(self, pool_size: int = 16, *, read_timeout: float | None = 10.0, write_timeout: float | None = 10.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 10.0) -> None:
        self._pool_size = pool_size
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: dict[tuple[str, str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout,
                          "pool": pool_timeout}

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for _, writer in conns:
                writer.close()

    def _timeout(self, name: str, given: ODVInput[float]) -> float | None:
        return self._timeouts[name] if given is DEFAULT_NONE else given  # type: ignore[return-value]

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = DEFAULT_NONE, write_timeout: ODVInput[float] = DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = DEFAULT_NONE) -> tuple[int, bytes]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetworkError(f"Неподдерживаемый адрес Bot API: {parts.scheme}://{parts.hostname}")
        key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head, body = _encode(method, target, parts.netloc, request_data)
        try:
            async with asyncio.timeout(self._timeout("pool", pool_timeout)):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise TimedOut("Pool timeout: all connections to the Bot API are busy; the request was not sent") \
                from exc
        try:
            budget = [self._timeout(n, g) for n, g in (("connect", connect_timeout), ("write", write_timeout),
                                                        ("read", read_timeout))]
            total = None if any(b is None for b in budget) else sum(budget)  # type: ignore[arg-type]
            try:
                async with asyncio.timeout(total):
                    try:
                        return await self._exchange(key, head, body, reuse=True)
                    except _Closed:
                        return await self._exchange(key, head, body, reuse=False)
            except TimeoutError as exc:
                raise TimedOut from exc
            except (OSError, EOFError, ValueError, _Closed, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError) as exc:
                raise NetworkError(f"LeanRequest: {exc.__class__.__name__}: {exc}") from exc
        finally:
            self._slots.release()

    async def _exchange(self, key: tuple[str, str, int], head: bytes, body: bytes, *,
                        reuse: bool) -> tuple[int, bytes]:
        idle = self._idle.get(key)
        conn = idle.pop() if reuse and idle else None
        reused = conn is not None
        if conn is None:
            conn = await asyncio.open_connection(key[1], key[2], ssl=_tls() if key[0] == "https" else None,
                                                 limit=MAX_HEADER_BYTES)
        reader, writer = conn
        keep = False
        try:
            writer.write(head + body if len(body) < 65536 else head)
            if len(body) >= 65536:
                writer.write(body)
            await writer.drain()
            try:
                status_line = await reader.readuntil(b"\r\n")
            except asyncio.IncompleteReadError as exc:
                if reused and not exc.partial:
                    raise _Closed() from exc
                raise
            status, content, keep = await _read_response(status_line, reader)
            return status, content
        except (ConnectionResetError, BrokenPipeError) as exc:
            if reused:
                raise _Closed() from exc
            raise
        finally:
            if keep:
                self._idle.setdefault(key, []).append(conn)
                if len(self._idle[key]) > self._pool_size:
                    self._idle[key].pop(0)[1].close()
            else:
                writer.close()


def _encode(method: str, target: str, host: str, data: RequestData | None) -> tuple[bytes, bytes]:
    headers = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}",
               "Accept-Encoding: identity"]
    body = b""
    if data is not None and data.contains_files:
        boundary = secrets.token_hex(16)
        chunks: list[bytes] = []
        for name, value in data.json_parameters.items():
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                          + value.encode() + b"\r\n")
        for name, upload in data.multipart_data.items():
            filename, content, mime = upload if len(upload) == 3 else (upload[0], upload[1], "application/octet-stream")
            safe = str(filename).replace('"', "").replace("\r", "").replace("\n", "")
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
                          f"Content-Type: {mime}\r\n\r\n".encode() + bytes(content) + b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode())
        body = b"".join(chunks)
        headers.append(f"Content-Type: multipart/form-data; boundary={boundary}")
    elif data is not None and data.parameters:
        body = data.url_encoded_parameters().encode()  # the form PTB's own httpx client sends
        headers.append("Content-Type: application/x-www-form-urlencoded")
    if body or method == "POST":
        headers.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode(), body


async def _read_response(status_line: bytes, reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the connection may be reused)."""
    version, _, rest = status_line.decode("latin-1").partition(" ")
    status = int(rest.split(" ", 1)[0])
    raw = await reader.readuntil(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in raw.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                with contextlib.suppress(asyncio.IncompleteReadError):
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, then the blank line
                        pass
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return status, bytes(body), keep
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"])), keep
    if status in (204, 304) or 100 <= status < 200:
        return status, b"", keep
    return status, await reader.read(), False  # to the close
