"""The ATOL Online API v5 client over httpx (the wire and its sources: `atol_wire.py`).

`async with AtolOnline(api_url, login, password) as atol:` — one HTTP client per use:
- `token()`: a token from `getToken`, kept in this process for 23 hours (the service's tokens live 24);
- `register(group_code, operation, body)`: `sell` / `sell_refund` → the document's uuid (for a repeated
  external_id too: the service answers code 33 with the first document's uuid);
- `report(group_code, uuid)`: the document's state and, once done, its fiscal proof;
- `check()`: the login and password work (a fresh token).
A 401 for the token (codes 10, 11: not recognised, expired) drops the kept token, logs in again and repeats the
request once. Nothing else is repeated here: an unknown outcome (`AtolUnknown`) is the caller's to retry later
with the same external_id.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import tzinfo
from typing import Any

import httpx

from aquabill.channels.cloud_fiscal import atol_wire as wire
from aquabill.channels.cloud_fiscal.atol_wire import (
    AtolSettings,
    AtolTokenRejected,
    AtolUnknown,
    Registration,
    Report,
)
from aquabill.channels.json_client import JsonApiClient

DEFAULT_API_URL = "https://online.atol.ru/possystem/v5"
TOKEN_TTL = 23 * 3600.0  # seconds a token is used; it lives 24 hours
UUID_RE = re.compile(r"^[0-9A-Za-z-]{1,64}$")
GROUP_RE = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
# (api url, login, digest of the password) → (token, monotonic time it was issued); per process
_TOKENS: dict[tuple[str, str, str], tuple[str, float]] = {}


class AtolOnline(JsonApiClient):
    def __init__(self, api_url: str, login: str, password: str, *, timeout: float = 15.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.api_url, self.login, self._password = api_url.rstrip("/") + "/", login, password
        self.timeout, self.transport = timeout, transport
        self._key = (self.api_url, login, hashlib.sha256(password.encode()).hexdigest())
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"AtolOnline({self.api_url!r}, login={self.login!r})"

    async def _send(self, method: str, path: str, *, body: bytes | None = None,
                    token: str | None = None) -> httpx.Response:
        assert self._client is not None, "use `async with AtolOnline(...)`"
        headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else {}
        if token:
            headers["Token"] = token
        try:
            return await self._client.request(method, path, content=body, headers=headers)
        except httpx.TimeoutException:
            raise AtolUnknown("АТОЛ Онлайн не ответил вовремя") from None
        except httpx.TransportError as exc:
            raise AtolUnknown(f"нет связи с АТОЛ Онлайн ({exc.__class__.__name__})") from None

    async def token(self, *, fresh: bool = False) -> str:
        kept = _TOKENS.get(self._key)
        if kept is not None and not fresh and time.monotonic() - kept[1] < TOKEN_TTL:
            return kept[0]
        response = await self._send("POST", "getToken", body=wire.encode_token_request(self.login, self._password))
        token = wire.decode_token(response.status_code, response.content)
        _TOKENS[self._key] = (token, time.monotonic())
        return token

    def forget_token(self) -> None:
        _TOKENS.pop(self._key, None)

    async def check(self) -> None:
        """The login and password work; `AtolSettings` when they do not, `AtolUnknown` when unreachable."""
        await self.token(fresh=True)

    async def _authorized(self, method: str, path: str, body: bytes | None = None) -> httpx.Response:
        """The request with the kept token; on a token refusal, once more with a new one."""
        response = await self._send(method, path, body=body, token=await self.token())
        if response.status_code == 401 and isinstance(wire.error_of(401, response.content), AtolTokenRejected):
            self.forget_token()
            response = await self._send(method, path, body=body, token=await self.token(fresh=True))
        return response

    async def register(self, group_code: str, operation: str, body: dict[str, Any]) -> Registration:
        if not GROUP_RE.match(group_code) or operation not in wire.OPERATIONS.values():
            raise AtolSettings("неверный код группы касс или операция")
        response = await self._authorized("POST", f"{group_code}/{operation}", wire.dumps(body))
        return wire.decode_registration(response.status_code, response.content)

    async def report(self, group_code: str, uuid: str, zone: tzinfo) -> Report:
        if not GROUP_RE.match(group_code) or not UUID_RE.match(uuid):
            raise AtolSettings("неверный код группы касс или идентификатор чека")
        response = await self._authorized("GET", f"{group_code}/report/{uuid}")
        return wire.decode_report(response.status_code, response.content, zone)
