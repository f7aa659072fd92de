"""The outside world of an outage notice, for the browser test: the peers `aquabill dev` starts (an SMTP sink
keeping letters as files, the SMS.ru fake, the local Telegram with its chat window, the demo PBX — the AMI
simulator scripted by demo/notifications.py), an app process and an arq worker pointed at them, and the demo
town (registry, a year of billing, the lived-in seeding) as the tenant.

The app and the worker use a Redis prefix of their own, so the session's other worker (tests/conftest.py,
without peers) never takes this module's campaign job, and this worker never takes the others' jobs.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from aquabill.channels.bots.setup import configure
from aquabill.demo.appeals import MOSCOW
from aquabill.demo.billing import seed_billing
from aquabill.demo.lived_in import seed_lived_in
from aquabill.demo.pbx import DemoPbx
from aquabill.demo.tenant import seed_registry
from aquabill.devserver.fakes.sms_gateway import FakeSmsGateway
from aquabill.devserver.fakes.telegram_chat import DEV_BOT_TOKEN, DevTelegram
from aquabill.devserver.mail_sink import MailSink
from aquabill.platform.config import Settings
from aquabill.platform.jobs.worker import build_worker
from aquabill.platform.keys import Keys
from aquabill.platform.state import Core
from aquabill.tenants.context import tenant_transaction
from tests.conftest import AppServer, with_settings

ACCOUNTS = 120
TOWN = "МУП «Водоканал г. Приозёрска» (демо)"


@dataclass
class Peers:
    mail: MailSink
    sms: FakeSmsGateway
    telegram: DevTelegram
    pbx: DemoPbx
    settings: Settings  # the app's and the worker's: own Redis prefix, the peers' URLs

    def letters(self) -> list[Path]:
        return sorted(self.mail.folder.glob("*.eml"))


class ThreadWorker:
    """An arq worker in its own thread and event loop (as tests/conftest.py's `worker`), on given settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="arq-notice-worker", daemon=True)

    def _call(self, coro):
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def start(self) -> None:
        self.thread.start()

        async def start():
            self.core = Core.open(self.settings)
            self.worker = build_worker(self.core)
            self.task = asyncio.create_task(self.worker.async_run())

        await self._call(start())

    async def stop(self) -> None:
        async def stop():
            self.task.cancel()
            try:
                await self.task
            except BaseException:  # the worker's own cancellation
                pass
            await self.worker.close()
            await self.core.close()

        await self._call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
async def peers(settings, tmp_path_factory):
    mail = MailSink(tmp_path_factory.mktemp("notice-mail"))
    mail.start()
    sms = await FakeSmsGateway().start()
    telegram = await DevTelegram().start()
    telegram.add_bot(DEV_BOT_TOKEN, "demo_vodokanal_bot")
    pbx = DemoPbx()
    own = with_settings(settings, redis_prefix=f"{settings.redis_prefix}-notice{secrets.token_hex(3)}",
                        smtp_url=mail.url, sms_url=sms.url, telegram_api_url=telegram.url)
    yield Peers(mail, sms, telegram, pbx, own)
    await pbx.stop()
    await telegram.stop()
    await sms.stop()
    mail.stop()


@pytest.fixture(scope="module")
async def notice_server(peers):
    s = peers.settings
    server = AppServer(s, extra_env={"AQUABILL_REDIS_PREFIX": s.redis_prefix, "AQUABILL_TELEPHONY": "0",
                                     "AQUABILL_SMTP_URL": s.smtp_url, "AQUABILL_SMS_URL": s.sms_url,
                                     "AQUABILL_TELEGRAM_API_URL": s.telegram_api_url})
    worker = ThreadWorker(replace(s, public_url=server.base))
    await worker.start()
    yield server
    await worker.stop()
    server.stop()


@pytest.fixture(scope="module")
async def demo_town(make_tenant, core, peers, notice_server):
    """The demo town as `make run` seeds it, its Telegram bot on the local Telegram, its telephony on the
    demo PBX; no quiet hours (the test must not depend on the time of day it runs at)."""
    now = datetime.now(UTC)

    async def seed(conn, _tenant):
        await seed_registry(conn, accounts_count=ACCOUNTS, seed=42)
        await seed_billing(conn, today=now.astimezone(MOSCOW).date())
        await seed_lived_in(conn, now=now)

    t = await make_tenant(name=TOWN, seed=seed)
    own = replace(core, settings=replace(peers.settings, public_url=notice_server.base),
                  keys=Keys(peers.settings.redis_prefix))
    async with tenant_transaction(core.engines, t.tenant) as conn:
        await configure(conn, own.settings, t.tenant, "telegram", token=DEV_BOT_TOKEN, enabled=True, user_id=None)
        await conn.execute(text("INSERT INTO notification_settings(id, quiet_from, quiet_to) "
                                "VALUES (1, '00:00', '00:00')"))
    await peers.pbx.start(own, t.tenant)
    return t
