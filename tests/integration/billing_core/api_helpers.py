"""Calling the API of a test tenant as its admin or as a user with one role."""

from __future__ import annotations

import asyncio
import secrets
from datetime import date

from sqlalchemy import text

from tests.conftest import ADMIN_PASSWORD


class Api:
    def __init__(self, client, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    async def get(self, url: str, **kw):
        return await self.client.get(url, headers=self.headers, **kw)

    async def post(self, url: str, json=None, **kw):
        return await self.client.post(url, headers=self.headers, json=json, **kw)

    async def put(self, url: str, json=None):
        return await self.client.put(url, headers=self.headers, json=json)

    async def patch(self, url: str, json=None):
        return await self.client.patch(url, headers=self.headers, json=json)

    async def delete(self, url: str):
        return await self.client.delete(url, headers=self.headers)

    async def ok(self, method: str, url: str, json=None, status: int | None = None) -> dict:
        r = await getattr(self, method)(url, json) if json is not None else await getattr(self, method)(url)
        assert r.status_code == (status or (201 if method == "post" else 200 if method != "delete" else 204)), r.text
        return r.json() if r.content else {}


async def as_role(client, handle, role: str) -> Api:
    """A new user of the tenant with only `role`, logged in through the API."""
    admin = Api(client, handle.headers)
    login = f"{role}{secrets.token_hex(3)}"
    await admin.ok("post", "/api/users", {"login": login, "password": "role-password-1", "roles": [role]})
    r = await client.post("/api/auth/login", json={"tenant": handle.tenant.slug, "login": login,
                                                   "password": "role-password-1"})
    assert r.status_code == 200, r.text
    return Api(client, {"Authorization": f"Bearer {r.json()['token']}"})


async def login_cookie(client, handle) -> None:
    r = await client.post("/login", data={"tenant": handle.tenant.slug, "login": "admin", "password": ADMIN_PASSWORD,
                                          "next": "/"}, follow_redirects=False)
    assert r.status_code == 302, r.text


async def close_period(tx, month: str) -> None:
    """Mark the month (YYYY-MM) closed, as the billing run's closing would."""
    async with tx() as conn:
        await conn.execute(text(
            "INSERT INTO periods(period, status, closed_at) VALUES (:p, 'closed', now()) "
            "ON CONFLICT (period) DO UPDATE SET status = 'closed', closed_at = now()"), {"p": date.fromisoformat(f"{month}-01")})


async def service_id(api: Api, code: str) -> int:
    items = (await api.ok("get", f"/api/services?q={code}"))["items"]
    return next(s["id"] for s in items if s["code"] == code)


async def wait_job(api: Api, job_id: str, path: str = "/api/jobs/{id}") -> dict:
    """The job once it is done or failed (polled at `path`, 60 s at most)."""
    async with asyncio.timeout(60):
        while True:
            job = await api.ok("get", path.format(id=job_id))
            if job["status"] in ("done", "failed"):
                return job
            await asyncio.sleep(0.1)
