"""`aquabill dev`: local PostgreSQL and Redis when no URLs are given, migrations, the demo tenant,
the web app and the worker in one process group. Ctrl-C stops everything it started."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import replace
from pathlib import Path

from aquabill.devserver.services import LocalPostgres, LocalRedis
from aquabill.platform.config import Settings

DEV_PG_PORT = 54329
DEV_REDIS_PORT = 63799


def dev_postgres(var_dir: Path) -> LocalPostgres:
    return LocalPostgres(data_dir=(var_dir / "pg" / "data").resolve(), port=DEV_PG_PORT)


def dev_redis(var_dir: Path) -> LocalRedis:
    return LocalRedis(data_dir=(var_dir / "redis").resolve(), port=DEV_REDIS_PORT)


def with_dev_defaults(settings: Settings) -> Settings:
    """CLI commands without URLs use the local development instances of `aquabill dev`."""
    changes = {}
    if not settings.database_url:
        changes["database_url"] = dev_postgres(settings.var_dir).url
    if not settings.redis_url:
        changes["redis_url"] = dev_redis(settings.var_dir).url
    return replace(settings, **changes) if changes else settings


def start_local_services(settings: Settings) -> tuple[Settings, list]:
    started: list = []
    if not settings.database_url:
        pg = dev_postgres(settings.var_dir)
        if not pg.is_running():
            print(f"Запускаю PostgreSQL ({pg.data_dir}, порт {pg.port})…", flush=True)
            pg.start()
            started.append(pg)
        settings = replace(settings, database_url=pg.url)
    if not settings.redis_url:
        redis = dev_redis(settings.var_dir)
        if not redis.is_running():
            print(f"Запускаю Redis ({redis.data_dir}, порт {redis.port})…", flush=True)
            redis.start()
            started.append(redis)
        settings = replace(settings, redis_url=redis.url)
    return settings, started


async def _serve(settings: Settings) -> None:
    import uvicorn

    from aquabill.demo.pbx import DemoPbx
    from aquabill.demo.tenant import DEMO_ADMIN, ensure_demo, ensure_platform_admin
    from aquabill.platform.app import create_app
    from aquabill.platform.jobs.worker import build_worker
    from aquabill.platform.serving import uvicorn_options
    from aquabill.platform.state import Core
    from aquabill.tenants.provisioning import migrate_all

    settings, peers = start_dev_peers(settings)
    settings, telegram = await start_dev_telegram(settings, peers)
    core = Core.open(settings)
    summary = await migrate_all(core.engines, jobs=settings.migrate_jobs)
    print(f"Миграции: применено {len(summary.applied)}, без изменений {len(summary.skipped)}, "
          f"ошибок {len(summary.failed)}", flush=True)
    tenant, created = await ensure_demo(core)
    if settings.diadoc_api_url.startswith("http://127.0.0.1"):
        from aquabill.devserver.fakes.diadoc import configure_dev_tenant

        await configure_dev_tenant(core, tenant, settings.diadoc_api_url)
    if telegram is not None:
        await connect_dev_bot(core, tenant)
    await ensure_platform_admin(core, "platform", "platform12345")
    host = f"{tenant.slug}.{settings.domain}" if settings.domain == "localhost" else settings.host
    print("\n".join([
        "",
        f"Демо-организация «{tenant.name}» {'создана' if created else 'уже есть'}.",
        f"  Страницы:  http://{host}:{settings.port}/  (или http://{settings.host}:{settings.port}/login,",
        f"             код организации «{tenant.slug}»)",
        f"  Вход:      логин «{DEMO_ADMIN[0]}», пароль «{DEMO_ADMIN[1]}»",
        f"  API:       http://{settings.host}:{settings.port}/schema (OpenAPI)",
        "  Админ платформы: platform / platform12345",
        f"  Личный кабинет абонента: http://{host}:{settings.port}/my",
        *peers.describe(),
        "Остановка: Ctrl-C",
        "",
    ]), flush=True)
    from aquabill.devserver.edge import DevCashDesk

    cash_desk = DevCashDesk(settings.var_dir, f"http://127.0.0.1:{settings.port}")
    for line in await cash_desk.start(core, tenant):
        print(line, flush=True)
    pbx = DemoPbx()
    pbx_port = await pbx.start(core, tenant)
    print(f"Демо-АТС (AMI) на 127.0.0.1:{pbx_port}: кнопка «Симулировать звонок» в разделе «Контакт-центр».",
          flush=True)
    worker = build_worker(core)
    worker_task = asyncio.create_task(worker.async_run())
    # One process, whatever AQUABILL_WEB_WORKERS says: the app shares this process with the demo PBX (its
    # "simulate a call" button calls the PBX object directly) and the arq worker, and `make run` is for one
    # person. `aquabill serve` runs the worker processes.
    app = create_app(settings)
    app.state.demo_pbx = pbx
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port,
                                           log_level="info", **uvicorn_options(settings)))
    try:
        await server.serve()
    finally:
        with contextlib.suppress(Exception):
            await pbx.stop()
        cash_desk.stop()
        peers.stop()
        if telegram is not None:
            with contextlib.suppress(Exception):
                await telegram.stop()
        worker_task.cancel()
        with contextlib.suppress(BaseException):
            await worker_task
        with contextlib.suppress(Exception):
            await worker.close()
        await core.close()


class DevPeers:
    """The outside world of a developer's machine: local peers speaking the real protocols."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.stops: list = []

    def describe(self) -> list[str]:
        return self.lines

    def stop(self) -> None:
        for stop in reversed(self.stops):
            with contextlib.suppress(Exception):
                stop()


def start_dev_peers(settings: Settings) -> tuple[Settings, DevPeers]:
    """Mail to subscribers goes to a local SMTP sink unless AQUABILL_SMTP_URL is given; the portal of a host
    without a tenant subdomain is the demo tenant's."""
    from aquabill.devserver.mail_sink import MailSink

    peers, changes = DevPeers(), {}
    if not settings.portal_tenant:
        changes["portal_tenant"] = "demo"
    if not settings.smtp_url:
        sink = MailSink((settings.var_dir / "mail").resolve())
        sink.start()
        peers.stops.append(sink.stop)
        changes["smtp_url"] = sink.url
        peers.lines.append(f"  Почта абонентам: локальный SMTP {sink.url}, письма в {sink.folder}")
    if not settings.sms_url:  # SMS codes to subscribers: a local gateway speaking SMS.ru's API prints them
        from aquabill.devserver.fakes.sms_gateway import FakeSmsGateway

        def show(sms) -> None:
            print(f"SMS для +{sms.phone}: {sms.text}", flush=True)

        gateway = FakeSmsGateway(on_message=show).start_in_thread()
        peers.stops.append(gateway.stop_thread)
        changes["sms_url"] = gateway.url
        peers.lines.append(f"  SMS абонентам: локальный шлюз (протокол SMS.ru) {gateway.url}, коды — в этой консоли")
    if settings.yookassa_api_url == "https://api.yookassa.ru/v3":  # no acquirer given: the local fake of ЮKassa
        from aquabill.devserver.fakes.yookassa import DEV_SHOP_ID, start_for_dev

        fake, extra = start_for_dev(settings.base_url)
        peers.stops.append(fake.stop_thread)
        changes.update(extra)
        peers.lines.append(f"  ЮKassa (тестовая, локальная): {fake.url}, магазин {DEV_SHOP_ID} — оплата в кабинете "
                           "проходит через её страницу подтверждения")
    if settings.atol_api_url == "https://online.atol.ru/possystem/v5":  # cloud fiscalization: a local ATOL Online
        from aquabill.devserver.fakes.atol_online import DEV_GROUP
        from aquabill.devserver.fakes.atol_online import start_for_dev as start_atol

        atol, extra = start_atol()
        peers.stops.append(atol.stop_thread)
        changes.update(extra)
        peers.lines.append(f"  АТОЛ Онлайн (тестовый, локальный): {atol.url}, группа {DEV_GROUP}")
    if settings.diadoc_api_url == "https://diadoc-api.kontur.ru":  # EDO: a local Diadoc
        from aquabill.devserver.fakes.diadoc import DEV_AUTO_SIGN, DEV_BOX
        from aquabill.devserver.fakes.diadoc import start_for_dev as start_diadoc

        diadoc, extra = start_diadoc()
        peers.stops.append(diadoc.stop_thread)
        changes.update(extra)
        peers.lines.append(f"  Диадок (тестовый, локальный): {diadoc.url}, ящик {DEV_BOX}; покупатели подписывают "
                           f"документы через {DEV_AUTO_SIGN:.0f} с")
    return (replace(settings, **changes) if changes else settings), peers


async def start_dev_telegram(settings: Settings, peers: DevPeers):
    """Without AQUABILL_TELEGRAM_API_URL: a local Telegram Bot API with a chat window (`/chat`) in which the
    demo tenant's bot can be tried as a Telegram user would."""
    if settings.telegram_api_url != "https://api.telegram.org":
        return settings, None
    from aquabill.devserver.fakes.telegram_chat import DEV_BOT_TOKEN, DevTelegram

    telegram = await DevTelegram().start()
    telegram.add_bot(DEV_BOT_TOKEN, "demo_vodokanal_bot")
    peers.lines.append(f"  Telegram (локальный): чат с ботом демо-организации — {telegram.url}/chat")
    return replace(settings, telegram_api_url=telegram.url), telegram


async def connect_dev_bot(core, tenant) -> None:
    """Connect the demo tenant's Telegram bot to the local Bot API (its webhook: this dev server)."""
    from aquabill.channels.bots.setup import configure
    from aquabill.devserver.fakes.telegram_chat import DEV_BOT_TOKEN
    from aquabill.tenants.context import tenant_transaction

    async with tenant_transaction(core.engines, tenant) as conn:
        await configure(conn, core.settings, tenant, "telegram", token=DEV_BOT_TOKEN, enabled=True, user_id=None)


def _terminate(_signum, _frame) -> None:
    raise KeyboardInterrupt


def run_dev(settings: Settings) -> None:
    # uvicorn re-raises SIGTERM after its graceful shutdown: turn it into the same path as Ctrl-C.
    signal.signal(signal.SIGTERM, _terminate)
    settings, started = start_local_services(settings)
    try:
        asyncio.run(_serve(settings))
    except KeyboardInterrupt:
        pass
    finally:
        for service in reversed(started):
            print(f"Останавливаю {type(service).__name__}…", flush=True)
            service.stop()
