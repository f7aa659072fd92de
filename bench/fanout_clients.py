"""The client side of bench/console_fanout.py: many WebSocket clients (or bare Redis subscribers) per
process, each noting when every event arrives.

The clients share the machine's two cores with the servers they measure, so they are as lean as a
browser's socket is to the server: a raw asyncio protocol per connection (the WebSocket handshake and
frames — RFC 6455 — or Redis' RESP, read by hand), no task and no queue per message, and each event's
tenant, send time and `measure` flag read with one regular expression over the frame. Both kinds of
client do exactly the same work per event, so the two measures compare.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import struct
import time
from urllib.parse import urlsplit

# the publisher writes …, "tenant": "<slug>", "sent": <unix time>, "measure": true|false}
EVENT = re.compile(rb'"tenant": "([^"]*)", "sent": ([0-9.eE+-]+), "measure": (true|false)')


class Stats:
    def __init__(self) -> None:
        self.cpu0 = time.process_time()
        self.lat: list[float] = []
        self.foreign = 0
        self.received = 0

    def frame(self, raw: bytes, mine: bytes) -> None:
        now = time.time()
        for m in EVENT.finditer(raw):
            self.received += 1
            if m.group(1) != mine:
                self.foreign += 1
            if m.group(3) == b"true":
                self.lat.append(now - float(m.group(2)))

    def as_dict(self) -> dict:
        return {"lat": self.lat, "foreign": self.foreign, "received": self.received,
                "cpu": time.process_time() - self.cpu0}


class WsClient(asyncio.Protocol):
    """One WebSocket client: HTTP upgrade, then server frames (unmasked, unfragmented text); answers pings."""

    def __init__(self, url: str, token: str, slug: str, stats: Stats) -> None:
        self.parts = urlsplit(url)
        self.token, self.mine, self.stats = token, slug.encode(), stats
        self.buf = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET {self.parts.path or '/'} HTTP/1.1\r\nHost: {self.parts.netloc}\r\n"
                         f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                         f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {self.token}\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[:end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_result(RuntimeError(head.split(b"\r\n", 1)[0].decode()))
                return
            self.upgraded = True
        while len(buf) >= 2:
            opcode, size, pos = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, pos = struct.unpack_from("!H", buf, 2)[0], 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, pos = struct.unpack_from("!Q", buf, 2)[0], 10
            if len(buf) < pos + size:
                return
            payload = bytes(buf[pos:pos + size])
            del buf[:pos + size]
            if opcode == 0x1:  # text
                if not self.opened.done():
                    self.opened.set_result(None)  # the greeting
                self.stats.frame(payload, self.mine)
            elif opcode == 0x9:  # ping → pong (client frames are masked)
                mask = os.urandom(4)
                body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + body)

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_result(exc or ConnectionError("closed"))


class RedisSubscriber(asyncio.Protocol):
    """One bare Redis subscriber: SUBSCRIBE, then RESP pushes read by hand."""

    def __init__(self, channel: str, stats: Stats) -> None:
        self.channel, self.stats = channel.encode(), stats
        self.mine = b"bare" + channel.rsplit(":", 1)[1].encode()
        self.buf = bytearray()
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:
        c = self.channel
        transport.write(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(c), c))

    def _element(self, pos: int) -> tuple[bytes | int | None, int]:
        """One bulk string or integer at pos → (value, next pos); (None, -1) when incomplete."""
        buf = self.buf
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None, -1
        kind, head = buf[pos], bytes(buf[pos + 1:eol])
        if kind == 0x3A:  # ':' integer
            return int(head), eol + 2
        size = int(head)  # '$' bulk string
        if len(buf) < eol + 2 + size + 2:
            return None, -1
        return bytes(buf[eol + 2:eol + 2 + size]), eol + 2 + size + 2

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while buf:
            eol = buf.find(b"\r\n")
            if eol < 0:
                return
            count, pos, items = int(buf[1:eol]), eol + 2, []
            for _ in range(count):
                value, pos = self._element(pos)
                if pos < 0:
                    return
                items.append(value)
            del buf[:pos]
            if items[0] == b"message":
                self.stats.frame(items[2], self.mine)
            elif items[0] == b"subscribe" and not self.opened.done():
                self.opened.set_result(None)


async def ws_clients(urls: list[tuple[str, str, str]], ready, stop, out) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    clients = []
    for url, token, slug in urls:
        parts = urlsplit(url)
        _, client = await loop.create_connection(lambda u=url, t=token, s=slug: WsClient(u, t, s, stats),
                                                 parts.hostname, parts.port)
        failure = await asyncio.wait_for(client.opened, 60)
        if failure is not None:
            raise RuntimeError(f"WebSocket handshake failed: {failure!r}")
        clients.append(client)
    stats.cpu0 = time.process_time()
    ready.set()
    await asyncio.to_thread(stop.wait)
    await asyncio.sleep(0.5)
    for c in clients:
        c.transport.close()
    out.put(stats.as_dict())


async def redis_clients(url: str, channels: list[str], ready, stop, out) -> None:
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    stats = Stats()
    transports = []
    for ch in channels:
        transport, sub = await loop.create_connection(lambda c=ch: RedisSubscriber(c, stats), parts.hostname,
                                                      parts.port or 6379)
        await asyncio.wait_for(sub.opened, 60)
        transports.append(transport)
    stats.cpu0 = time.process_time()
    ready.set()
    await asyncio.to_thread(stop.wait)
    await asyncio.sleep(0.5)
    for t in transports:
        t.close()
    out.put(stats.as_dict())


def client_proc(kind: str, arg, items, ready, stop, out) -> None:
    if kind == "ws":
        asyncio.run(ws_clients(items, ready, stop, out))
    else:
        asyncio.run(redis_clients(arg, items, ready, stop, out))
