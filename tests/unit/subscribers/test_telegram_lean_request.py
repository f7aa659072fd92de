"""The lean HTTP client under python-telegram-bot (channels/telegram/request.py) against a local HTTP/1.1
server on loopback that answers as servers do: Content-Length, chunked, read to the close, a keep-alive
connection closed while idle, a multipart upload."""

from __future__ import annotations

import asyncio

import pytest
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from aquabill.channels.telegram.request import LeanRequest


class Peer:
    """A raw HTTP/1.1 server: each request is recorded and answered by `answer(head, body)` → bytes to write
    (None: close without answering)."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                out = self.answer(head, body)
                if out is None:
                    return
                writer.write(out)
                await writer.drain()
                if b"Connection: close" in out:
                    return
        finally:
            writer.close()


def data(**params) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])


OK = b'{"ok":true,"result":true}'


def fixed(body: bytes = OK) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


async def test_form_body_and_keep_alive():
    async with Peer(lambda head, body: fixed()) as peer:
        req = LeanRequest(4)
        for _ in range(3):
            assert await req.do_request(f"{peer.url}/botT/sendMessage", "POST",
                                        data(chat_id=5, text="Привет")) == (200, OK)
        await req.shutdown()
    head, body = peer.requests[0]
    assert head.startswith(b"POST /botT/sendMessage HTTP/1.1\r\n")
    assert b"Content-Type: application/x-www-form-urlencoded" in head
    assert body == b"chat_id=5&text=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82"
    assert peer.connections == 1  # one connection, kept alive


async def test_chunked_and_read_to_close():
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"ok\"\r\nf\r\n:true,\"result\":\r\n5\r\ntrue}\r\n0\r\n\r\n"
    closing = b"HTTP/1.0 429 Too Many Requests\r\nConnection: close\r\n\r\n{\"ok\":false}"
    answers = iter([chunked, closing])
    async with Peer(lambda head, body: next(answers)) as peer:
        req = LeanRequest(2)
        assert await req.do_request(f"{peer.url}/botT/getMe", "POST") == (200, OK)
        assert await req.do_request(f"{peer.url}/botT/getMe", "POST") == (429, b'{"ok":false}')
        await req.shutdown()


async def test_a_connection_closed_while_idle_is_replaced():
    served = []

    def answer(head, body):
        served.append(1)
        return fixed() if len(served) != 2 else None  # the 2nd request finds its kept connection closed

    async with Peer(answer) as peer:
        req = LeanRequest(2)
        assert await req.do_request(f"{peer.url}/botT/a", "POST") == (200, OK)
        assert await req.do_request(f"{peer.url}/botT/b", "POST") == (200, OK)
        await req.shutdown()
    assert peer.connections == 2
    assert [h.split(b" ")[1] for h, _ in peer.requests] == [b"/botT/a", b"/botT/b", b"/botT/b"]


async def test_multipart_upload():
    async with Peer(lambda head, body: fixed()) as peer:
        req = LeanRequest(1)
        doc = InputFile(b"%PDF-1.4 test", filename="receipt.pdf")
        assert await req.do_request(f"{peer.url}/botT/sendDocument", "POST",
                                    data(chat_id=7, document=doc, caption="Квитанция")) == (200, OK)
        await req.shutdown()
    head, body = peer.requests[0]
    assert b"multipart/form-data; boundary=" in head
    assert b'name="chat_id"\r\n\r\n7\r\n' in body
    assert "Квитанция".encode() in body
    assert b'filename="receipt.pdf"' in body and b"%PDF-1.4 test" in body


async def test_timeouts_and_refusals_are_ptb_errors():
    async def silent(reader, writer):
        await asyncio.sleep(5)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    req = LeanRequest(1, read_timeout=0.2, write_timeout=0.1, connect_timeout=0.1)
    with pytest.raises(TimedOut):
        await req.do_request(f"http://127.0.0.1:{port}/botT/getMe", "POST")
    server.close()
    with pytest.raises(NetworkError):
        await req.do_request("ftp://127.0.0.1/botT/getMe", "POST")
    await req.shutdown()
