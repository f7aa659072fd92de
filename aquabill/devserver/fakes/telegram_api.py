"""A local fake of the Telegram Bot API, for the tests, the bench and the dev server.

It speaks the real protocol: `POST /bot<token>/<method>` with a form-encoded body (python-telegram-bot
JSON-encodes non-string values inside the form) or multipart (uploads), answered with the envelope
`{"ok": true, "result": …}` or `{"ok": false, "error_code": …, "description": …, "parameters": …}`; files
under `GET /file/bot<token>/<file_path>`. Methods: getMe, setWebhook, deleteWebhook, getWebhookInfo,
getUpdates, sendMessage, sendDocument, sendPhoto, answerCallbackQuery, editMessageText, getFile.

Everything is recorded (`calls`, each with its time) and handed to `on_call`. `inject` delivers an update
as Telegram does: POSTed to the bot's webhook with `X-Telegram-Bot-Api-Secret-Token` (or queued for
`getUpdates` when no webhook is set); a method in the webhook's JSON response is run like a call. `throttle(token, method, retry_after)` makes the next call(s) answer
429 with `retry_after`. It never throttles by itself.

A uvicorn server on the loop that starts it (an ASGI app of a few lines; aiohttp is not used).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aquabill.devserver.fakes.http import ServedFake, deliver, parse_multipart, read_body, respond

# ---- the Bot API ------------------------------------------------------------------------------------------

@dataclass
class Call:
    """One request to the fake: the bot's token, the method and its parameters as sent (strings)."""

    token: str
    method: str
    params: dict[str, str]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    def value(self, key: str) -> Any:
        """A parameter decoded the way python-telegram-bot encoded it (JSON inside the form)."""
        raw = self.params.get(key)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    @property
    def chat_id(self) -> int | None:
        raw = self.params.get("chat_id")
        return int(raw) if raw is not None and raw.lstrip("-").isdigit() else None

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def buttons(self) -> list[list[dict]]:
        markup = self.value("reply_markup") or {}
        return markup.get("inline_keyboard", []) if isinstance(markup, dict) else []

    def payloads(self) -> list[str]:
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    def urls(self) -> list[str]:
        return [b["url"] for row in self.buttons for b in row if "url" in b]


@dataclass
class FakeBot:
    token: str
    id: int
    username: str
    webhook_url: str = ""
    secret_token: str = ""
    pending: list[dict] = field(default_factory=list)  # updates for getUpdates when no webhook is set


class FakeTelegram(ServedFake):
    def __init__(self, *, record: bool = True, on_call: Callable[[Call], None] | None = None) -> None:
        super().__init__()
        self.bots: dict[str, FakeBot] = {}
        self.calls: list[Call] = []
        self.record = record
        self.on_call = on_call
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id → (file_path, bytes)
        self._throttle: dict[tuple[str, str], list[int]] = {}
        self.throttled: list[tuple[str, str]] = []  # (token, method) answered 429
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(100_000)
        self._changed = asyncio.Condition()


    # ---- test controls ----------------------------------------------------------------------------------

    def add_bot(self, token: str, username: str = "") -> FakeBot:
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else next(self._ids)
        bot = self.bots[token] = FakeBot(token, bot_id, username or f"bot{bot_id}")
        return bot

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> None:
        self.files[file_id] = (file_path or f"photos/{file_id}.jpg", content)

    def throttle(self, token: str, method: str, retry_after: int = 1, times: int = 1) -> None:
        self._throttle.setdefault((token, method), []).extend([retry_after] * times)

    def sent(self, token: str | None = None, chat_id: int | None = None,
             methods: tuple[str, ...] = ("sendMessage", "sendDocument")) -> list[Call]:
        return [c for c in self.calls if c.method in methods and (token is None or c.token == token)
                and (chat_id is None or c.chat_id == chat_id)]

    async def wait_for(self, predicate: Callable[[Call], bool], *, count: int = 1, within: float = 10.0) -> list[Call]:
        """The recorded calls matching `predicate` once there are `count` of them."""
        async with asyncio.timeout(within), self._changed:
            while True:
                found = [c for c in self.calls if predicate(c)]
                if len(found) >= count:
                    return found
                await self._changed.wait()

    def next_update_id(self) -> int:
        return next(self._update_ids)

    async def inject(self, token: str, update: dict, *, secret: str | None = None) -> int:
        """Deliver an update: POST it to the bot's webhook (with its secret, or `secret` to test a wrong
        one) and return the HTTP status (-1: unreachable); without a webhook it waits for `getUpdates` (status 0)."""
        bot = self.bots[token]
        if not bot.webhook_url:
            bot.pending.append(update)
            async with self._changed:
                self._changed.notify_all()
            return 0
        assert self._http is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": bot.secret_token if secret is None else secret}
        r = await deliver(self._http, bot.webhook_url, update, headers)
        if r is None:
            return -1
        if r.status_code == 200:
            await self.webhook_answer(token, r.content)
        return r.status_code

    async def webhook_answer(self, token: str, body: bytes) -> None:
        """Run the method call a webhook put in its response body, if any (as Telegram does)."""
        try:
            answer = json.loads(body) if body else None
        except ValueError:
            return
        if isinstance(answer, dict) and isinstance(answer.get("method"), str):
            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in answer.items() if k != "method"}
            await self._answer(token, answer["method"], params, {})

    # ---- update builders --------------------------------------------------------------------------------

    def message(self, chat_id: int, text: str | None = None, *, first_name: str = "Абонент", **extra) -> dict:
        msg = {"message_id": next(self._ids), "date": int(time.time()),
               "chat": {"id": chat_id, "type": "private", "first_name": first_name},
               "from": {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": "ru"}, **extra}
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": self.next_update_id(), "message": msg}

    def photo(self, chat_id: int, file_id: str, caption: str | None = None) -> dict:
        sizes = [{"file_id": file_id + "-small", "file_unique_id": file_id + "s", "width": 90, "height": 120},
                 {"file_id": file_id, "file_unique_id": file_id + "l", "width": 960, "height": 1280}]
        extra: dict[str, Any] = {"photo": sizes}
        if caption:
            extra["caption"] = caption
        return self.message(chat_id, None, **extra)

    def callback(self, chat_id: int, data: str, *, first_name: str = "Абонент") -> dict:
        return {"update_id": self.next_update_id(), "callback_query": {
            "id": str(next(self._ids)), "chat_instance": str(chat_id), "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": first_name},
            "message": {"message_id": next(self._ids), "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private"}, "text": "…"}}}

    # ---- the ASGI app -----------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        body = await read_body(receive)
        if path.startswith("/file/bot") and scope["method"] == "GET":
            token, _, file_path = path[len("/file/bot"):].partition("/")
            found = next((c for p, c in self.files.values() if p == file_path), None)
            if token not in self.bots or found is None:
                await respond(send, 404, b"Not Found", "text/plain")
            else:
                await respond(send, 200, found, "application/octet-stream")
            return
        if not path.startswith("/bot") or "/" not in path[4:]:
            await respond(send, 404, b'{"ok": false, "error_code": 404, "description": "Not Found"}')
            return
        token, _, method = path[4:].partition("/")
        headers = dict(scope["headers"])
        ctype = headers.get(b"content-type", b"").decode()
        if ctype.startswith("multipart/form-data"):
            params, files = parse_multipart(ctype, body)
        elif ctype.startswith("application/json"):
            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (json.loads(body or b"{}")).items()}
            files = {}
        else:
            params = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            files = {}
        status, answer = await self._answer(token, method, params, files)
        await respond(send, status, json.dumps(answer, ensure_ascii=False).encode())

    async def _answer(self, token: str, method: str, params: dict[str, str],
                      files: dict[str, tuple[str, bytes]]) -> tuple[int, dict]:
        bot = self.bots.get(token)
        if bot is None:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        queued = self._throttle.get((token, method))
        if queued:
            retry = queued.pop(0)
            self.throttled.append((token, method))
            return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry}",
                         "parameters": {"retry_after": retry}}
        call = Call(token, method, params, files)
        if self.record:
            self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        result = await self._result(bot, call)
        if self.record:
            async with self._changed:
                self._changed.notify_all()
        if result is None:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: method {method} not supported"}
        return 200, {"ok": True, "result": result}

    def _message(self, bot: FakeBot, call: Call, **extra) -> dict:
        return {"message_id": next(self._ids), "date": int(time.time()),
                "from": {"id": bot.id, "is_bot": True, "first_name": bot.username, "username": bot.username},
                "chat": {"id": call.chat_id or 0, "type": "private"}, **extra}

    async def _result(self, bot: FakeBot, call: Call) -> Any:
        m = call.method
        if m == "getMe":
            return {"id": bot.id, "is_bot": True, "first_name": bot.username, "username": bot.username,
                    "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
        if m == "setWebhook":
            bot.webhook_url, bot.secret_token = call.params.get("url", ""), call.params.get("secret_token", "")
            return True
        if m == "deleteWebhook":
            bot.webhook_url = bot.secret_token = ""
            return True
        if m == "getWebhookInfo":
            return {"url": bot.webhook_url, "has_custom_certificate": False, "pending_update_count": len(bot.pending)}
        if m == "getUpdates":
            return await self._updates(bot, call)
        if m == "sendMessage":
            return self._message(bot, call, text=call.params.get("text", ""))
        if m in ("sendDocument", "sendPhoto"):
            name, content = next(iter(call.files.values()), ("file", b""))
            file_id = f"doc{next(self._ids)}"
            self.files[file_id] = (f"documents/{file_id}-{name}", content)
            return self._message(bot, call, document={"file_id": file_id, "file_unique_id": file_id,
                                                      "file_name": name, "file_size": len(content)})
        if m == "editMessageText":
            return self._message(bot, call, text=call.params.get("text", ""))
        if m == "answerCallbackQuery":
            return True
        if m == "getFile":
            found = self.files.get(call.params.get("file_id", ""))
            if found is None:
                return None
            return {"file_id": call.params["file_id"], "file_unique_id": call.params["file_id"],
                    "file_size": len(found[1]), "file_path": found[0]}
        return None

    async def _updates(self, bot: FakeBot, call: Call) -> list[dict]:
        offset = int(call.params.get("offset") or 0)
        bot.pending = [u for u in bot.pending if u["update_id"] >= offset]
        if not bot.pending:
            wait = min(float(call.params.get("timeout") or 0), 1.0)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait), self._changed:
                    await self._changed.wait_for(lambda: bool(bot.pending))
        return list(bot.pending)
