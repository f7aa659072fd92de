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
from aquabill.platform.config import Settings, apply_run_tuning
from aquabill.platform.jobs.catalogue import load_job_kinds
from aquabill.platform.realtime import Hub
from aquabill.platform.state import Core
from aquabill.platform.web import health
from aquabill.platform.web.acquiring.routes import ROUTES as ACQUIRING
from aquabill.platform.web.admin.routes import ROUTES as ADMIN
from aquabill.platform.web.billing.routes import ROUTES as BILLING
from aquabill.platform.web.bots.routes import ROUTES as BOTS
from aquabill.platform.web.bots.webhooks import close_bots
from aquabill.platform.web.cash.routes import ROUTES as CASH
from aquabill.platform.web.contact_center.routes import ROUTES as CONTACT_CENTER
from aquabill.platform.web.context import auth_middleware
from aquabill.platform.web.errors import EXCEPTION_HANDLERS
from aquabill.platform.web.legal_entities.routes import ROUTES as LEGAL
from aquabill.platform.web.live.routes import ROUTES as LIVE
from aquabill.platform.web.live.sessions import OpenSockets
from aquabill.platform.web.notifications.routes import ROUTES as NOTIFICATIONS
from aquabill.platform.web.paging import check_path_ids
from aquabill.platform.web.payments.routes import ROUTES as PAYMENTS
from aquabill.platform.web.portal.routes import ROUTES as PORTAL
from aquabill.platform.web.printing.routes import ROUTES as PRINTING
from aquabill.platform.web.receipt_delivery.routes import ROUTES as RECEIPT_DELIVERY
from aquabill.platform.web.shedding import shedding_middleware

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
    load_job_kinds()
    apply_run_tuning(settings)

    async def on_startup(app: Litestar) -> None:
        core = Core.open(settings)
        app.state.core = core
        app.state.hub = Hub(core.redis, core.keys, coalesce_ms=settings.ws_coalesce_ms)
        await app.state.hub.start()
        app.state.sockets = OpenSockets(core)
        app.state.sockets.start()
        app.state.telephony = TelephonySupervisor(core) if settings.telephony else None
        if app.state.telephony is not None:
            await app.state.telephony.start()

    async def on_shutdown(app: Litestar) -> None:
        await close_bots(app)
        if getattr(app.state, "telephony", None) is not None:
            await app.state.telephony.stop()
        await app.state.sockets.stop()
        await app.state.hub.stop()
        await app.state.core.close()

    routes = [
        *health.ROUTES, *ADMIN, *BILLING, *PAYMENTS, *CONTACT_CENTER, *LIVE, *PORTAL, *BOTS, *ACQUIRING, *NOTIFICATIONS,
        *RECEIPT_DELIVERY, *PRINTING, *CASH, *LEGAL,
        create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False),
    ]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return Litestar(
        route_handlers=routes,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        middleware=[shedding_middleware(settings), auth_middleware],  # shedding first: a shed request costs no DB work
        before_request=check_path_ids,
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine,
                                       engine_callback=lambda e: _template_filters(e, settings)),
        openapi_config=OpenAPIConfig(title="Аквабилл API", version=__version__, path="/schema"),
        debug=False,
    )
