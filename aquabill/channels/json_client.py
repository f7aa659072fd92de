"""The life of an async JSON HTTP client to a vendor's API (ATOL Online, Diadoc …): one `httpx.AsyncClient` at the
API's base URL, opened by `async with` and closed on exit. A subclass sets `api_url`, `timeout` and `transport`
(a test's in-process transport, or None) — and `auth` when the API wants HTTP authentication — in its own
`__init__` and speaks the vendor's protocol."""

from __future__ import annotations

from typing import Self

import httpx


class JsonApiClient:
    api_url: str
    timeout: float
    transport: httpx.AsyncBaseTransport | None
    auth: httpx.Auth | None = None
    _client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(base_url=self.api_url, auth=self.auth, timeout=self.timeout,
                                         transport=self.transport, headers={"Accept": "application/json"})
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
