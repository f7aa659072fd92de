"""A thin client of the MAX Bot API: the calls the bot makes, each paced by the bot's `Schedule`
(MAX: 30 requests per second per bot, every request counts; about 1 message per second per chat).

The JSON calls go through the lean keep-alive client (`channels/lean_http.py`) when one is given — the
tenants' bots answering updates, where httpx cost about 1 ms of CPU per reply — else through httpx, which
also carries the file uploads and downloads. A transport failure of the lean client raises `MaxError` with
status 0 and code "network"; httpx's own errors propagate as `httpx.HTTPError`.

Auth is the raw token in `Authorization` (no "Bearer"). An HTTP 429 pauses the bot (`Retry-After` seconds
when given, else one second) and the call is tried again, up to `max_retries` times. Other errors raise
`MaxError` with MAX's `code` and `message`.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from typing import Any
from urllib.parse import urlencode

import httpx

from aquabill.channels.bots.limiter import BULK, REPLY, Pacer, Schedule
from aquabill.channels.lean_http import LeanHttp, LeanHttpError

MAX_RETRIES = 3
NOT_READY_RETRIES = 5  # "attachment.not.ready" right after an upload: retried after a short pause


def max_schedule() -> Schedule:
    return Schedule(bot_rate=30.0, bot_burst=10, chat_rate=1.0, chat_burst=3, bot_lanes=(REPLY, BULK))


class MaxError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"MAX API {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def _retry_after(headers: Any) -> float:
    try:
        return max(0.0, float(headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


class MaxClient:
    def __init__(self, base_url: str, token: str, http: httpx.AsyncClient, pacer: Pacer | None = None,
                 max_retries: int = MAX_RETRIES, lean: LeanHttp | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = http
        self.lean = lean
        self.pacer = pacer or Pacer(max_schedule())
        self.max_retries = max_retries
        self.retried = 0  # 429s answered by waiting (diagnostics, tests)

    async def call(self, method: str, path: str, *, params: dict | None = None, json: Any = None,
                   chat: str | None = None, lane: str = REPLY) -> dict:
        for attempt in range(self.max_retries + 1):
            await self.pacer.wait(chat, lane)
            status, headers, content = await self._exchange(method, path, params, json)
            if status == 429 and attempt < self.max_retries:
                self.retried += 1
                self.pacer.pause_for(_retry_after(headers))
                continue
            if status >= 400:
                try:
                    body = jsonlib.loads(content)
                except ValueError:
                    body = {}
                if not isinstance(body, dict):
                    body = {}
                text = content[:200].decode("utf-8", "replace")
                raise MaxError(status, str(body.get("code", "")), str(body.get("message", text)))
            return jsonlib.loads(content) if content else {}
        raise AssertionError("unreachable")

    async def _exchange(self, method: str, path: str, params: dict | None, json: Any) -> tuple[int, Any, bytes]:
        """(status, headers, body) of one request, through the lean client when there is one."""
        if self.lean is None:
            r = await self.http.request(method, self.base_url + path, params=params, json=json,
                                        headers={"Authorization": self.token})
            return r.status_code, r.headers, r.content
        url = self.base_url + path + (f"?{urlencode(params)}" if params else "")
        headers = {"Authorization": self.token}
        body = b""
        if json is not None:
            headers["Content-Type"] = "application/json"
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            r = await self.lean.request(method, url, headers=headers, body=body)
        except (LeanHttpError, TimeoutError) as exc:
            raise MaxError(0, "network", str(exc) or exc.__class__.__name__) from exc
        return r.status, r.headers, r.content

    async def me(self) -> dict:
        return await self.call("GET", "/me")

    async def send(self, user_id: str, body: dict, *, lane: str = REPLY) -> dict:
        for attempt in range(NOT_READY_RETRIES):
            try:
                return await self.call("POST", "/messages", params={"user_id": user_id}, json=body, chat=user_id,
                                       lane=lane)
            except MaxError as exc:
                if exc.code != "attachment.not.ready" or attempt == NOT_READY_RETRIES - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    async def answer(self, callback_id: str, *, message: dict | None = None, notification: str | None = None) -> dict:
        body: dict[str, Any] = {}
        if message is not None:
            body["message"] = message
        if notification:
            body["notification"] = notification[:200]
        return await self.call("POST", "/answers", params={"callback_id": callback_id}, json=body)

    async def upload_file(self, filename: str, content: bytes, mime_type: str) -> str:
        """Upload a file (`POST /uploads?type=file`, then the file to the URL given); its token."""
        endpoint = await self.call("POST", "/uploads", params={"type": "file"})
        await self.pacer.wait(None, REPLY)
        r = await self.http.post(endpoint["url"], files={"data": (filename, content, mime_type)},
                                 headers={"Authorization": self.token})
        if r.status_code >= 400:
            raise MaxError(r.status_code, "upload", r.text[:200])
        token = r.json().get("token") or endpoint.get("token")
        if not token:
            raise MaxError(r.status_code, "upload", "no token in the upload's answer")
        return str(token)

    async def subscribe(self, url: str, secret: str, update_types: list[str]) -> dict:
        return await self.call("POST", "/subscriptions", json={"url": url, "update_types": update_types,
                                                               "secret": secret})

    async def unsubscribe(self, url: str) -> dict:
        return await self.call("DELETE", "/subscriptions", params={"url": url})

    async def subscriptions(self) -> list[dict]:
        return (await self.call("GET", "/subscriptions")).get("subscriptions", [])

    async def download(self, url: str, limit: int = 20 * 1024 * 1024) -> bytes:
        """A file the user sent (its `payload.url`), at most `limit` bytes."""
        async with self.http.stream("GET", url) as r:
            r.raise_for_status()
            data = bytearray()
            async for chunk in r.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    raise MaxError(413, "too.large", "the file is larger than the bot accepts")
        return bytes(data)
