"""The Litestar application factory."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from aquabill import __version__
from aquabill.channels.asterisk.runtime import TelephonySupervisor
from aquabill.platform.config import Settings
from aquabill.platform.realtime import Hub
from aquabill.platform.state import Core
from aquabill.platform.web import health
from aquabill.platform.web.admin import (
    audit_api,
    auth_api,
    divisions_api,
    jobs_api,
    pages,
    platform_api,
    users_api,
)
from aquabill.platform.web.billing import (
    accounts_api,
    adjustments_api,
    card_pages,
    close_pages,
    imports_api,
    month_close_api,
    penalties_api,
    receipt_pages,
    receipts_api,
    run_pages,
)
from aquabill.platform.web.billing import registry_api as billing_api
from aquabill.platform.web.billing import runs_api as billing_runs_api
from aquabill.platform.web.contact_center import (
    appeals_api,
    appeals_pages,
    calls_api,
    calls_pages,
    console_api,
    console_pages,
    mailbox_pages,
    requests_api,
    requests_pages,
    work_calendar_api,
)
from aquabill.platform.web.context import auth_middleware
from aquabill.platform.web.errors import EXCEPTION_HANDLERS
from aquabill.platform.web.live import ws
from aquabill.platform.web.live.sessions import OpenSockets
from aquabill.platform.web.payments import balance_pages, balances_api, payment_pages, payments_api
from aquabill.platform.web.payments import file_pages as payment_file_pages

HERE = Path(__file__).parent


def _template_filters(engine: JinjaTemplateEngine, settings: Settings) -> None:
    zone = ZoneInfo(settings.timezone)

    def local_time(value, fmt: str = "%d.%m.%Y %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value else ""

    def ru_date(value, fmt: str = "%d.%m.%Y") -> str:
        return value.strftime(fmt) if value else ""

    def ru_num(value, places: int | None = None) -> str:
        """1234.5 → «1 234,5» (places: fixed decimals, e.g. 2 for money); trailing zeros dropped otherwise."""
        if value is None or value == "":
            return ""
        number = Decimal(value)
        number = number.quantize(Decimal(1).scaleb(-places)) if places is not None else number.normalize()
        return f"{number:,f}".replace(",", "\u202f").replace(".", ",")

    engine.engine.filters["local_time"] = local_time
    engine.engine.filters["ru_date"] = ru_date
    engine.engine.filters["ru_num"] = ru_num


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings are read here (at start-up), not at import time."""
    settings = settings or Settings.from_env()

    async def on_startup(app: Litestar) -> None:
        core = Core.open(settings)
        app.state.core = core
        app.state.hub = Hub(core.redis, core.keys)
        await app.state.hub.start()
        app.state.sockets = OpenSockets(core)
        app.state.sockets.start()
        app.state.telephony = TelephonySupervisor(core) if settings.telephony else None
        if app.state.telephony is not None:
            await app.state.telephony.start()

    async def on_shutdown(app: Litestar) -> None:
        if getattr(app.state, "telephony", None) is not None:
            await app.state.telephony.stop()
        await app.state.sockets.stop()
        await app.state.hub.stop()
        await app.state.core.close()

    routes = [
        *health.ROUTES, *auth_api.ROUTES, *users_api.ROUTES, *audit_api.ROUTES, *jobs_api.ROUTES,
        *platform_api.ROUTES, *accounts_api.ROUTES, *imports_api.ROUTES, *billing_api.ROUTES, *billing_runs_api.ROUTES, *ws.ROUTES,
        *pages.ROUTES, *card_pages.ROUTES, *run_pages.ROUTES,
        *adjustments_api.ROUTES, *receipts_api.ROUTES, *receipt_pages.ROUTES,
        *balances_api.ROUTES,
        *penalties_api.ROUTES,
        *payments_api.ROUTES, *payment_pages.ROUTES, *payment_file_pages.ROUTES, *balance_pages.ROUTES,
        *calls_api.ROUTES,
        *month_close_api.ROUTES, *close_pages.ROUTES, *divisions_api.ROUTES,
        *console_api.ROUTES,
        *console_pages.ROUTES,
        *calls_pages.ROUTES,
        *appeals_api.ROUTES, *appeals_pages.ROUTES, *mailbox_pages.ROUTES,
        *requests_api.ROUTES, *requests_pages.ROUTES, *work_calendar_api.ROUTES,
        create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False),
    ]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return Litestar(
        route_handlers=routes,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        middleware=[auth_middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine,
                                       engine_callback=lambda e: _template_filters(e, settings)),
        openapi_config=OpenAPIConfig(title="Аквабилл API", version=__version__, path="/schema"),
        debug=False,
    )
