"""The MAX client's JSON calls over the lean HTTP client (channels/lean_http.py) against a raw HTTP/1.1 server
on loopback: the request as MAX expects it, MAX's error body, a refused connection as MaxError."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from aquabill.channels.lean_http import LeanHttp
from aquabill.channels.max.client import MaxClient, MaxError


async def serve(answers: list[tuple[int, bytes]], seen: list[tuple[bytes, bytes]]) -> asyncio.Server:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                seen.append((head, await reader.readexactly(length)))
                status, body = answers.pop(0)
                writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nRetry-After: 0\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (status, len(body), body))
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handler, "127.0.0.1", 0)


async def test_send_goes_as_json_with_the_raw_token_and_429_waits():
    seen: list[tuple[bytes, bytes]] = []
    server = await serve([(429, b'{"code":"too.many.requests","message":"wait"}'),
                          (200, b'{"message":{"body":{"mid":"m1"}}}')], seen)
    port = server.sockets[0].getsockname()[1]
    lean = LeanHttp(2)
    async with httpx.AsyncClient() as http:
        client = MaxClient(f"http://127.0.0.1:{port}", "TOKEN", http, lean=lean)
        answer = await client.send("42", {"text": "Показания приняты"})
    await lean.close()
    server.close()
    assert answer == {"message": {"body": {"mid": "m1"}}}
    assert client.retried == 1 and len(seen) == 2
    head, body = seen[1]
    assert head.startswith(b"POST /messages?user_id=42 HTTP/1.1\r\n")
    assert b"\r\nAuthorization: TOKEN\r\n" in head and b"\r\nContent-Type: application/json\r\n" in head
    assert json.loads(body) == {"text": "Показания приняты"}


async def test_errors_carry_maxs_code_and_a_refused_connection_is_a_network_maxerror():
    seen: list[tuple[bytes, bytes]] = []
    server = await serve([(400, b'{"code":"chat.denied","message":"chat is blocked"}'), (502, b"[1]")], seen)
    port = server.sockets[0].getsockname()[1]
    lean = LeanHttp(1)
    async with httpx.AsyncClient() as http:
        client = MaxClient(f"http://127.0.0.1:{port}", "T", http, lean=lean)
        with pytest.raises(MaxError) as denied:
            await client.send("7", {"text": "x"})
        assert (denied.value.status, denied.value.code, denied.value.message) == (400, "chat.denied",
                                                                                  "chat is blocked")
        with pytest.raises(MaxError) as bad:
            await client.me()
        assert (bad.value.status, bad.value.code, bad.value.message) == (502, "", "[1]")
        server.close()
        await server.wait_closed()
        await lean.close()
        with pytest.raises(MaxError) as refused:
            await client.me()
        assert (refused.value.status, refused.value.code) == (0, "network")
