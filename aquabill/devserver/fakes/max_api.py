"""A local fake of the MAX Bot API (schema 0.0.32, `../shared/reference/messengers/max/`), for the tests,
the bench and the dev server.

The documented endpoints the bot uses, with the raw token in `Authorization` (a wrong one: 401
`verify.token`): `GET /me`; `POST /messages?user_id=|chat_id=` (→ `{"message": …}`), `PUT /messages`;
`POST /answers?callback_id=`; `POST|GET|DELETE /subscriptions`; `GET /updates`; `POST /uploads?type=` and
the upload URL it gives (multipart field `data` → `{"token": …}`); plus `GET /files/<name>` serving files
added with `add_file` (what an image attachment's `payload.url` points to).

Everything is recorded (`calls`) and handed to `on_call`. `inject` POSTs an update to the bot's
subscription URL with `X-Max-Bot-Api-Secret`. `throttle(token, path, retry_after)` answers the next
call(s) with 429 and `Retry-After`. It never throttles by itself.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aquabill.devserver.fakes.http import ServedFake, deliver, parse_multipart, read_body, respond


@dataclass
class MaxCall:
    token: str
    method: str  # HTTP method
    path: str
    query: dict[str, str]
    body: Any
    user_id: int | None = None  # whom it goes to: /messages' user_id, the pressing user for /answers
    at: float = field(default_factory=time.monotonic)

    @property
    def message(self) -> dict:
        """The NewMessageBody sent (for /answers: the replacing message, if any)."""
        if self.path == "/answers":
            return (self.body or {}).get("message") or {}
        return self.body if isinstance(self.body, dict) else {}

    @property
    def text(self) -> str:
        return self.message.get("text") or ""

    @property
    def buttons(self) -> list[list[dict]]:
        for att in self.message.get("attachments") or []:
            if att.get("type") == "inline_keyboard":
                return att["payload"]["buttons"]
        return []

    def payloads(self) -> list[str]:
        return [b["payload"] for row in self.buttons for b in row if b.get("type") == "callback"]

    def urls(self) -> list[str]:
        return [b["url"] for row in self.buttons for b in row if b.get("type") == "link"]


@dataclass
class MaxBot:
    token: str
    user_id: int
    username: str
    subscriptions: dict[str, dict] = field(default_factory=dict)  # url → {"secret", "update_types", "time"}


class FakeMax(ServedFake):
    def __init__(self, *, record: bool = True, on_call: Callable[[MaxCall], None] | None = None) -> None:
        super().__init__()
        self.bots: dict[str, MaxBot] = {}
        self.calls: list[MaxCall] = []
        self.record = record
        self.on_call = on_call
        self.files: dict[str, bytes] = {}
        self.uploads: dict[str, tuple[str, bytes]] = {}  # token → (filename, bytes)
        self._throttle: dict[tuple[str, str], list[int]] = {}
        self.throttled: list[tuple[str, str]] = []  # (token, path) answered 429
        self._callbacks: dict[str, int] = {}  # callback_id → the user who pressed
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()


    # ---- test controls ----------------------------------------------------------------------------------

    def add_bot(self, token: str, username: str = "") -> MaxBot:
        uid = 900_000 + next(self._ids)
        bot = self.bots[token] = MaxBot(token, uid, username or f"max_bot{uid}")
        return bot

    def add_file(self, name: str, content: bytes) -> str:
        """Serve `content` at a URL (an image attachment's `payload.url`)."""
        self.files[name] = content
        return f"{self.url}/files/{name}"

    def throttle(self, token: str, path: str, retry_after: int = 1, times: int = 1) -> None:
        self._throttle.setdefault((token, path), []).extend([retry_after] * times)

    def sent(self, token: str | None = None, user_id: int | None = None) -> list[MaxCall]:
        """Messages sent (`POST /messages`) and button answers that replaced the message."""
        return [c for c in self.calls if (token is None or c.token == token) and c.method == "POST"
                and (c.path == "/messages" or c.path == "/answers" and bool(c.message))
                and (user_id is None or c.user_id == user_id)]

    async def wait_for(self, predicate: Callable[[MaxCall], bool], *, count: int = 1,
                       within: float = 10.0) -> list[MaxCall]:
        async with asyncio.timeout(within), self._changed:
            while True:
                found = [c for c in self.calls if predicate(c)]
                if len(found) >= count:
                    return found
                await self._changed.wait()

    async def inject(self, token: str, update: dict, *, secret: str | None = None) -> int:
        """POST the update to the bot's (first) subscription with its secret (or `secret`); the status (-1:
        unreachable)."""
        bot = self.bots[token]
        url, sub = next(iter(bot.subscriptions.items()))
        assert self._http is not None
        r = await deliver(self._http, url, update,
                          {"X-Max-Bot-Api-Secret": sub["secret"] if secret is None else secret})
        return -1 if r is None else r.status_code

    # ---- update builders (shapes of the schema's Update objects) -----------------------------------------

    def _user(self, user_id: int, name: str) -> dict:
        return {"user_id": user_id, "first_name": name, "last_name": None, "username": None, "is_bot": False,
                "last_activity_time": int(time.time() * 1000), "name": name}

    def message(self, token: str, user_id: int, text: str | None = None, *, attachments: list | None = None,
                name: str = "Абонент") -> dict:
        bot = self.bots[token]
        now = int(time.time() * 1000)
        return {"update_type": "message_created", "timestamp": now, "user_locale": "ru", "message": {
            "sender": self._user(user_id, name),
            "recipient": {"chat_id": user_id + bot.user_id, "chat_type": "dialog", "user_id": bot.user_id},
            "timestamp": now, "body": {"mid": f"mid.{next(self._ids):016x}", "seq": next(self._ids), "text": text,
                                       "attachments": attachments}}}

    def image(self, token: str, user_id: int, url: str, caption: str | None = None) -> dict:
        return self.message(token, user_id, caption, attachments=[
            {"type": "image", "payload": {"photo_id": next(self._ids), "token": "img", "url": url}}])

    def callback(self, token: str, user_id: int, payload: str, *, name: str = "Абонент") -> dict:
        bot = self.bots[token]
        now = int(time.time() * 1000)
        callback_id = f"cb.{next(self._ids):012x}"
        self._callbacks[callback_id] = user_id
        return {"update_type": "message_callback", "timestamp": now, "user_locale": "ru",
                "callback": {"timestamp": now, "callback_id": callback_id, "payload": payload,
                             "user": self._user(user_id, name)},
                "message": {"recipient": {"chat_id": user_id + bot.user_id, "chat_type": "dialog",
                                          "user_id": bot.user_id},
                            "timestamp": now, "body": {"mid": f"mid.{next(self._ids):016x}", "seq": 1, "text": "…",
                                                       "attachments": None}}}

    def started(self, token: str, user_id: int, *, name: str = "Абонент") -> dict:
        bot = self.bots[token]
        return {"update_type": "bot_started", "timestamp": int(time.time() * 1000),
                "chat_id": user_id + bot.user_id, "user": self._user(user_id, name), "payload": None,
                "user_locale": "ru"}

    # ---- the ASGI app -----------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        body = await read_body(receive)
        headers = dict(scope["headers"])
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        if path.startswith("/files/") and method == "GET":
            content = self.files.get(path[len("/files/"):])
            await respond(send, 200 if content is not None else 404, content or b"", "application/octet-stream")
            return
        token = headers.get(b"authorization", b"").decode()
        bot = self.bots.get(token)
        if bot is None:
            await respond(send, 401, _err("verify.token", "Invalid access_token"))
            return
        queued = self._throttle.get((token, path))
        if queued:
            retry = queued.pop(0)
            self.throttled.append((token, path))
            await respond(send, 429, _err("too.many.requests", "Too many requests"),
                          headers=[(b"retry-after", str(retry).encode())])
            return
        if path.startswith("/upload/") and method == "POST":
            _, files = parse_multipart(headers.get(b"content-type", b"").decode(), body)
            upload_token = f"file.{next(self._ids)}"
            self.uploads[upload_token] = files.get("data", ("", b""))
            self._record(MaxCall(token, method, path, query, {"filename": self.uploads[upload_token][0]}))
            await respond(send, 200, json.dumps({"token": upload_token}).encode())
            return
        try:
            data = json.loads(body) if body else None
        except ValueError:
            await respond(send, 400, _err("bad.request", "Invalid JSON"))
            return
        target = query.get("user_id", "")
        call = MaxCall(token, method, path, query, data, int(target) if target.isdigit() else
                       self._callbacks.get(query.get("callback_id", "")))
        status, answer = self._answer(bot, call)
        if status == 200:
            self._record(call)
        await respond(send, status, json.dumps(answer, ensure_ascii=False).encode())
        async with self._changed:
            self._changed.notify_all()

    def _record(self, call: MaxCall) -> None:
        if self.record:
            self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)

    def _answer(self, bot: MaxBot, call: MaxCall) -> tuple[int, dict]:
        key = (call.method, call.path)
        if key == ("GET", "/me"):
            return 200, {"user_id": bot.user_id, "first_name": bot.username, "username": bot.username,
                         "is_bot": True, "last_activity_time": int(time.time() * 1000), "name": bot.username}
        if key == ("POST", "/messages"):
            target = call.query.get("user_id") or call.query.get("chat_id")
            if not target or not isinstance(call.body, dict) or "text" not in call.body:
                return 400, json.loads(_err("proto.payload", "user_id or chat_id and a body are required"))
            if len(call.body.get("text") or "") > 4000:
                return 400, json.loads(_err("proto.payload", "text: size must be between 0 and 4000"))
            now = int(time.time() * 1000)
            return 200, {"message": {"sender": {"user_id": bot.user_id, "first_name": bot.username, "is_bot": True},
                                     "recipient": {"chat_id": None, "chat_type": "dialog", "user_id": int(target)},
                                     "timestamp": now, "body": {"mid": f"mid.{next(self._ids):016x}", "seq": 1,
                                                                "text": call.body.get("text"), "attachments": []}}}
        if key == ("PUT", "/messages"):
            return 200, {"success": True}
        if key == ("POST", "/answers"):
            if not call.query.get("callback_id") or not isinstance(call.body, dict) or not (
                    call.body.get("message") or call.body.get("notification")):
                return 400, json.loads(_err("proto.payload", "message or notification is required"))
            return 200, {"success": True}
        if key == ("POST", "/subscriptions"):
            body = call.body if isinstance(call.body, dict) else {}
            if not body.get("url"):
                return 400, json.loads(_err("proto.payload", "url is required"))
            bot.subscriptions[body["url"]] = {"secret": body.get("secret") or "", "time": int(time.time() * 1000),
                                              "update_types": body.get("update_types")}
            return 200, {"success": True}
        if key == ("GET", "/subscriptions"):
            return 200, {"subscriptions": [{"url": u, "time": s["time"], "update_types": s["update_types"]}
                                           for u, s in bot.subscriptions.items()]}
        if key == ("DELETE", "/subscriptions"):
            bot.subscriptions.pop(call.query.get("url", ""), None)
            return 200, {"success": True}
        if key == ("GET", "/updates"):
            return 200, {"updates": [], "marker": None}
        if key == ("POST", "/uploads"):
            return 200, {"url": f"{self.url}/upload/{next(self._ids)}"}
        return 404, json.loads(_err("not.found", f"{call.method} {call.path}"))


def _err(code: str, message: str) -> bytes:
    return json.dumps({"code": code, "message": message}).encode()
