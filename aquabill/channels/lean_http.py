"""A lean HTTP/1.1 client over asyncio streams for the messengers' Bot APIs (Telegram under python-telegram-bot,
MAX): keep-alive connections to a few hosts, one request at a time per connection, no HTTP/2, no redirects,
no cookies, no compression.

Why not httpx: a bot's one request per answered update cost about 1–3 ms of CPU through httpx/httpcore/anyio
(profiled under bench/subscribers.py), several times the request itself; this does only what the Bot APIs
need. A response is read by its `Content-Length`, chunked, or to the close.

Connections: at most `pool_size` requests at once, waiting at most `pool_timeout` for a free slot; idle
connections are reused. A reused connection the server closed while it was idle (nothing at all read back)
is tried once more on a new connection — the server had not read the request then. The whole exchange has
one deadline (`timeout`). Failures: `TimeoutError` (no free slot: `PoolTimeout`), `LeanHttpError` for the
transport (refused, reset, a malformed answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

USER_AGENT = "aquabill (lean HTTP client)"
MAX_HEADER_BYTES = 64 * 1024
LARGE_BODY = 65536  # a body this long is written apart from the head

_ssl_context: ssl.SSLContext | None = None


def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for the process (creating one loads the CA bundle: ~50 ms)."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


class LeanHttpError(Exception):
    """The request failed on the way: the address, the connection or the answer's form."""


class PoolTimeout(TimeoutError):
    """Every connection was busy for `pool_timeout`: the request was not sent."""


class _Closed(Exception):
    """The server closed a reused connection before answering anything."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    content: bytes


Key = tuple[str, str, int]
Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class LeanHttp:
    def __init__(self, pool_size: int = 16, *, timeout: float | None = 25.0, pool_timeout: float | None = 10.0) -> None:
        self.pool_size = pool_size
        self.timeout = timeout
        self.pool_timeout = pool_timeout
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: dict[Key, list[Conn]] = {}

    async def close(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for _, writer in conns:
                writer.close()

    async def request(self, method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes = b"",
                      deadline: float | None = -1.0, pool_timeout: float | None = -1.0) -> Response:
        """One exchange within `deadline` seconds (None: no limit); `deadline` / `pool_timeout` of -1: this
        client's own."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LeanHttpError(f"unsupported address: {parts.scheme}://{parts.hostname}")
        key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", f"User-Agent: {USER_AGENT}",
                 "Accept-Encoding: identity"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        try:
            async with asyncio.timeout(self.pool_timeout if pool_timeout == -1.0 else pool_timeout):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise PoolTimeout("all connections are busy; the request was not sent") from exc
        try:
            async with asyncio.timeout(self.timeout if deadline == -1.0 else deadline):
                try:
                    return await self._exchange(key, head, body, reuse=True)
                except _Closed:
                    return await self._exchange(key, head, body, reuse=False)
        except TimeoutError:  # an OSError too, but not the transport's failure
            raise
        except (OSError, EOFError, ValueError, _Closed, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError) as exc:
            raise LeanHttpError(f"{exc.__class__.__name__}: {exc}") from exc
        finally:
            self._slots.release()

    async def _exchange(self, key: Key, head: bytes, body: bytes, *, reuse: bool) -> Response:
        idle = self._idle.get(key)
        conn = idle.pop() if reuse and idle else None
        reused = conn is not None
        if conn is None:
            conn = await asyncio.open_connection(key[1], key[2], ssl=tls_context() if key[0] == "https" else None,
                                                 limit=MAX_HEADER_BYTES)
        reader, writer = conn
        keep = False
        try:
            writer.write(head + body if len(body) < LARGE_BODY else head)
            if len(body) >= LARGE_BODY:
                writer.write(body)
            await writer.drain()
            try:
                status_line = await reader.readuntil(b"\r\n")
            except asyncio.IncompleteReadError as exc:
                if reused and not exc.partial:
                    raise _Closed() from exc
                raise
            response, keep = await _read_response(status_line, reader)
            return response
        except (ConnectionResetError, BrokenPipeError) as exc:
            if reused:
                raise _Closed() from exc
            raise
        finally:
            if keep:
                self._idle.setdefault(key, []).append(conn)
                if len(self._idle[key]) > self.pool_size:
                    self._idle[key].pop(0)[1].close()
            else:
                writer.close()


async def _read_response(status_line: bytes, reader: asyncio.StreamReader) -> tuple[Response, bool]:
    """The response and whether the connection may be reused."""
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
        return Response(status, headers, bytes(body)), keep
    if "content-length" in headers:
        return Response(status, headers, await reader.readexactly(int(headers["content-length"]))), keep
    if status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, b""), keep
    return Response(status, headers, await reader.read()), False  # to the close
