"""The Litestar application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from aquabill import __version__
from aquabill.platform.config import Settings
from aquabill.platform.realtime import Hub
from aquabill.platform.state import Core
from aquabill.platform.web import (
    accounts_api,
    audit_api,
    auth_api,
    health,
    jobs_api,
    pages,
    platform_api,
    users_api,
    ws,
)
from aquabill.platform.web.context import auth_middleware
from aquabill.platform.web.errors import EXCEPTION_HANDLERS

HERE = Path(__file__).parent


def _template_filters(engine: JinjaTemplateEngine, settings: Settings) -> None:
    zone = ZoneInfo(settings.timezone)

    def local_time(value, fmt: str = "%d.%m.%Y %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value else ""

    engine.engine.filters["local_time"] = local_time


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings are read here (at start-up), not at import time."""
    settings = settings or Settings.from_env()

    async def on_startup(app: Litestar) -> None:
        core = Core.open(settings)
        app.state.core = core
        app.state.hub = Hub(core.redis, core.keys)
        await app.state.hub.start()

    async def on_shutdown(app: Litestar) -> None:
        await app.state.hub.stop()
        await app.state.core.close()

    routes = [
        *health.ROUTES, *auth_api.ROUTES, *users_api.ROUTES, *audit_api.ROUTES, *jobs_api.ROUTES,
        *platform_api.ROUTES, *accounts_api.ROUTES, *ws.ROUTES, *pages.ROUTES,
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
