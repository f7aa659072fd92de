"""A local fake of SMS.ru's HTTP API (`channels/sms/smsru.py` describes it), for the tests and the dev server.

`POST` or `GET /sms/send` with `api_id`, `to`, `msg`, `json=1` is answered as SMS.ru answers: a wrong key
gets `{"status": "ERROR", "status_code": 200, …}`, a number that is not 11 digits starting with 7 gets its
own entry with status_code 202, anything else is "sent" — recorded in `messages` (and handed to `on_message`)
with an id `000000-<n>`. `to` may list up to 100 numbers (comma-separated) for one `msg`; different texts to
different numbers come as `multi[<number>]=<text>` (or `to[<number>]=<text>`), up to 100 per request.
`fail_with` makes every request fail with that top-level code (e.g. 201, no money).

What it received is counted for the benchmark: `received` (messages accepted), `requests`, and
`duplicates()` — (number, text) pairs received more than once (SMS.ru takes no idempotency key, so it cannot
refuse a resend: the fake only counts it). `record=False` keeps no `messages` list (the counts stay).

It is a minimal HTTP/1.1 server on `asyncio.start_server` (one request per connection, `Connection: close`),
enough for httpx and curl; it runs on the loop that starts it (`start`), or in a thread of its own
(`start_in_thread`).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 4 * 1024 * 1024  # 100 messages of 8 Cyrillic parts, percent-encoded, fit
MAX_NUMBERS = 100


@dataclass(frozen=True, slots=True)
class SentSms:
    phone: str  # digits, as SMS.ru has them: 79161234567
    text: str
    sms_id: str
    sender: str = ""


class FakeSmsGateway:
    def __init__(self, *, api_id: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 on_message: Callable[[SentSms], None] | None = None, record: bool = True) -> None:
        self.api_id = api_id or secrets.token_hex(8)
        self.host = host
        self.port = port
        self.on_message = on_message
        self.record = record
        self.messages: list[SentSms] = []
        self.received = 0
        self._seen: Counter[tuple[str, str]] = Counter()
        self.balance = 1000.0
        self.fail_with: int | None = None
        self.requests = 0
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    @property
    def url(self) -> str:
        """What `AQUABILL_SMS_URL` is set to for this fake."""
        return f"http://{self.host}:{self.port}/?api_id={self.api_id}"

    async def start(self) -> FakeSmsGateway:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakeSmsGateway:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def duplicates(self) -> dict[tuple[str, str], int]:
        """(number, text) → times received, for what came more than once."""
        return {k: n for k, n in self._seen.items() if n > 1}

    def to(self, phone: str) -> list[SentSms]:
        digits = "".join(c for c in phone if c.isdigit())
        return [m for m in self.messages if m.phone == digits]

    async def wait_for(self, phone: str, count: int = 1) -> list[SentSms]:
        """The messages to `phone` once there are at least `count` of them (wrap it in `asyncio.timeout`);
        works from any loop, also while the gateway serves in its own thread."""
        arrived = asyncio.Event()
        waiter = (asyncio.get_running_loop(), arrived)
        self._waiters.append(waiter)
        try:
            while len(self.to(phone)) < count:
                await arrived.wait()
                arrived.clear()
        finally:
            self._waiters.remove(waiter)
        return self.to(phone)

    def _wake(self) -> None:
        for loop, arrived in list(self._waiters):
            loop.call_soon_threadsafe(arrived.set)

    # ---- in a thread of its own -------------------------------------------------------------------------

    def start_in_thread(self) -> FakeSmsGateway:
        """Serve from a daemon thread with its own event loop (for a caller whose loop blocks while the app
        handles a request, as litestar's in-process test client does)."""
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self.start())
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-sms-gateway", daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop_thread(self) -> None:
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    # ---- the API --------------------------------------------------------------------------------------

    def answer(self, path: str, fields: dict[str, str]) -> tuple[int, dict]:
        """(HTTP status, JSON answer) of one request (pure apart from recording the message)."""
        if path.rstrip("/") != "/sms/send":
            return 404, {"status": "ERROR", "status_code": -1, "status_text": "Метод не найден"}
        if fields.get("api_id") != self.api_id:
            return 200, {"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}
        if self.fail_with is not None:
            return 200, {"status": "ERROR", "status_code": self.fail_with, "status_text": "Отказ (тест)"}
        multi = {k[k.index("[") + 1:-1].strip(): v for k, v in fields.items()
                 if k.startswith(("multi[", "to[")) and k.endswith("]")}
        if multi:
            wanted = list(multi.items())
        else:
            text = fields.get("msg", "")
            if not text:
                return 200, {"status": "ERROR", "status_code": 203, "status_text": "Нет текста сообщения"}
            wanted = [(p, text) for p in filter(None, (p.strip() for p in fields.get("to", "").split(",")))]
        if len(wanted) > MAX_NUMBERS:
            return 200, {"status": "ERROR", "status_code": 213, "status_text": "Слишком много номеров в запросе"}
        sms: dict[str, dict] = {}
        for phone, text in wanted:
            if not (len(phone) == 11 and phone.isdigit() and phone.startswith("7")):
                sms[phone] = {"status": "ERROR", "status_code": 202, "status_text": "Неправильно указан номер"}
                continue
            if not text:
                sms[phone] = {"status": "ERROR", "status_code": 203, "status_text": "Нет текста сообщения"}
                continue
            sent = SentSms(phone, text, f"000000-{self.received + 1:08d}", fields.get("from", ""))
            if fields.get("test") != "1":
                self.received += 1
                self._seen[(phone, text)] += 1
                if self.record:
                    self.messages.append(sent)
                self.balance -= 1.5
                if self.on_message is not None:
                    self.on_message(sent)
                self._wake()
            sms[phone] = {"status": "OK", "status_code": 100, "sms_id": sent.sms_id}
        if not sms:
            return 200, {"status": "ERROR", "status_code": 202, "status_text": "Неправильно указан номер"}
        return 200, {"status": "OK", "status_code": 100, "sms": sms, "balance": round(self.balance, 2)}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await self._request(reader)
        except (ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, UnicodeDecodeError):
            status, body = 400, {"status": "ERROR", "status_code": -1, "status_text": "Неверный запрос"}
        payload = json.dumps(body, ensure_ascii=False).encode()
        head = (f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n").encode()
        try:
            writer.write(head + payload)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _request(self, reader: asyncio.StreamReader) -> tuple[int, dict]:
        request_line = (await reader.readuntil(b"\r\n")).decode("latin-1").strip()
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            line = (await reader.readuntil(b"\r\n")).decode("latin-1")
            if line in ("\r\n", ""):
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        body = (await reader.readexactly(length)).decode() if length else ""
        self.requests += 1
        url = urlsplit(target)
        fields = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if method == "POST":
            fields.update({k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()})
        elif method != "GET":
            return 405, {"status": "ERROR", "status_code": -1, "status_text": "Метод не поддерживается"}
        return self.answer(url.path, fields)
