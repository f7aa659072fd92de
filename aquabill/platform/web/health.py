"""Liveness and readiness probes."""

from __future__ import annotations

from litestar import Request, Response, get
from sqlalchemy import text

from aquabill.platform.web.context import core_of


@get("/health/live", sync_to_thread=False, tags=["health"])
def live() -> dict:
    return {"status": "ok"}


@get("/health/ready", tags=["health"])
async def ready(request: Request) -> Response:
    core = core_of(request)
    checks: dict[str, str] = {}
    try:
        async with core.engines.control.connect() as conn:
            await conn.execute(text("SELECT 1 FROM control.tenants LIMIT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, do not raise: this is a probe
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await core.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return Response({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


ROUTES = [live, ready]
