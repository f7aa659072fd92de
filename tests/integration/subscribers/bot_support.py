"""Test support for the bots: the whole service (a fresh app, served by uvicorn on loopback) talking to the
local fakes of the Telegram Bot API and the MAX Bot API, and a tenant whose bot staff enable through the
settings API. Everything runs on the test's event loop; the fakes deliver updates over HTTP to the
webhook routes and record what the bots send."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import httpx
from sqlalchemy import text

from aquabill.devserver.fakes.http import AsgiServer
from aquabill.devserver.fakes.max_api import FakeMax
from aquabill.devserver.fakes.telegram_api import FakeTelegram
from aquabill.devserver.services import free_port
from aquabill.platform.app import create_app
from aquabill.platform.web.bots.webhooks import close_bots
from aquabill.tenants.context import tenant_transaction
from tests.conftest import with_settings
from tests.integration.subscribers.portal_seed import portal_registry

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(300)


async def bot_registry(conn, tenant=None) -> None:
    """The portal tests' tenant (ЛС1 owes 1 030,00 ₽; a cold water meter per account), plus a hot water meter
    on ЛС1 and readings taken on any day of the month (the tests run on any date)."""
    await portal_registry(conn, tenant)
    await conn.execute(text(
        "INSERT INTO meters(account_id, service_id, serial, digits, fraction_digits, installed_on, initial_reading) "
        "SELECT 1, id, 'ГВ-102', 5, 3, DATE '2024-01-10', 5 FROM services WHERE code = 'hot_water'"))
    await conn.execute(text("UPDATE billing_settings SET value = '[1, 31]' WHERE key = 'portal_reading_days'"))


@dataclass
class Service:
    app: object
    server: AsgiServer
    telegram: FakeTelegram
    max: FakeMax
    http: httpx.AsyncClient

    @property
    def url(self) -> str:
        return self.server.url

    async def restart_bots(self) -> None:
        """What a restart of the process does to the bots: every in-memory bot is gone."""
        await close_bots(self.app)

    async def close(self) -> None:
        await close_bots(self.app)
        await self.http.aclose()
        await self.server.stop()
        await self.telegram.stop()
        await self.max.stop()


async def start_service(settings) -> Service:
    telegram, fake_max = await FakeTelegram().start(), await FakeMax().start()
    port = free_port()
    own = with_settings(settings, telegram_api_url=telegram.url, max_api_url=fake_max.url,
                        public_url=f"http://127.0.0.1:{port}", telephony=False)
    app = create_app(own)
    server = AsgiServer(app, port=port, lifespan="on")
    await server.start()
    return Service(app, server, telegram, fake_max, httpx.AsyncClient(base_url=server.url, timeout=30))


async def enable_bot(service: Service, make_tenant, channel: str) -> tuple[object, str]:
    """A new tenant (bot_registry) whose admin enables its bot on `channel` through the API; (tenant, token)."""
    handle = await make_tenant(seed=bot_registry)
    token = f"{secrets.randbelow(10**9) + 10**9}:{secrets.token_urlsafe(20)}" if channel == "telegram" \
        else secrets.token_urlsafe(24)
    (service.telegram if channel == "telegram" else service.max).add_bot(token, f"{handle.tenant.slug}_bot")
    r = await service.http.put(f"/api/bots/{channel}", json={"token": token, "enabled": True},
                               headers=handle.headers)
    assert r.status_code == 200, r.text
    return handle, token


async def scalar(core, tenant, sql: str, **params):
    async with tenant_transaction(core.engines, tenant) as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def settle(seconds: float = 0.3) -> None:
    """Let background work that should produce nothing have its chance to (used before asserting silence)."""
    await asyncio.sleep(seconds)
