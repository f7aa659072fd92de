"""Month close over the API: the wizard's state of a month, running the checks, closing a month (whole
tenant or one division), reopening it (admins), configuring the checks. Divisions: `divisions_api.py`.

Permission resource "periods": view to read, edit to run checks and close, admin to reopen and to
configure the checks.
Refusals come from billing_core (409 `conflict` with the checks' Russian messages, 404, 422); so does the
SQL (`billing_core.month_close`).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import get, post, put
from litestar.params import Parameter

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core import month_close
from aquabill.billing_core.periods import Period
from aquabill.platform.auth.permissions import requires
from aquabill.platform.realtime import publish
from aquabill.platform.web.billing.runs import parse_period
from aquabill.platform.web.context import DEPS, Ctx, TenantScope

VIEW, EDIT, ADMIN = [requires("periods", "view")], [requires("periods", "edit")], [requires("periods", "admin")]
TAGS = ["month-close"]

PeriodPath = Annotated[str, Parameter(max_length=16, description="Период ГГГГ-ММ")]


class ChecksIn(msgspec.Struct):
    division_id: int | None = None  # none: the whole organisation


class CloseIn(msgspec.Struct):
    division_id: int | None = None
    accept_warnings: bool = False


class ReopenIn(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(max_length=1000)]
    division_id: int | None = None


class CheckSettingIn(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=32)]
    enabled: bool | None = None
    blocking: bool | None = None
    parameter: int | None = None
    reset_parameter: bool = False  # parameter back to its default (the tenant's payment setting)


class ChecksConfigIn(msgspec.Struct):
    checks: list[CheckSettingIn]


def publish_closed(ctx: TenantScope, event: str, result: dict[str, Any]) -> None:
    data = {"period": result["period"], "division_id": (result.get("division") or {}).get("id"),
            "next_period": result.get("next_period")}

    async def send() -> None:
        await publish(ctx.core.redis, ctx.core.keys, ctx.tenant.id, event, data)

    ctx.after_commit(send)


async def run_checks(ctx: TenantScope, period: Period, division_id: int | None) -> dict[str, Any]:
    return await month_close.check_period(ctx.conn, period, division_id=division_id, today=date.today(),
                                          queued_runs=await month_close.queued_runs(ctx.conn, period))


async def close(ctx: TenantScope, period: Period, division_id: int | None, accept_warnings: bool) -> dict[str, Any]:
    result = await month_close.close_period(ctx.conn, period, division_id=division_id,
                                            accept_warnings=accept_warnings, today=date.today(),
                                            queued_runs=await month_close.queued_runs(ctx.conn, period))
    publish_closed(ctx, "period.closed", result)
    return result


async def checks_config(ctx: TenantScope) -> dict:
    return {"items": [{**asdict(c), "parameter_meaning": month_close.CATALOGUE[c.code].parameter}
                      for c in await month_close.load_config(ctx.conn)]}


@get("/api/month-close/checks", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_checks(ctx: Ctx) -> dict:
    """The tenant's set of checks (code, name, enabled, blocking, parameter) and what each parameter means."""
    return await checks_config(ctx)


async def configure_checks(ctx: TenantScope, items: list[CheckSettingIn]) -> None:
    """Apply the checks' settings (the API's PUT and the month-close page's form)."""
    for item in items:
        change: dict[str, Any] = {k: v for k, v in (("enabled", item.enabled), ("blocking", item.blocking),
                                                    ("parameter", item.parameter)) if v is not None}
        if item.reset_parameter:
            change["parameter"] = None
        try:
            accepted = month_close.check_change(item.code, change)
        except ValueError as exc:
            raise Invalid(str(exc), fields=[{"field": "checks", "message": str(exc)}]) from exc
        await month_close.save_check_settings(ctx.conn, item.code, accepted)


@put("/api/month-close/checks", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def put_checks(ctx: Ctx, data: ChecksConfigIn) -> dict:
    await configure_checks(ctx, data.checks)
    return await checks_config(ctx)


@get("/api/month-close/{period:str}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_state(ctx: Ctx, period: PeriodPath) -> dict:
    p = parse_period(period)
    state = await month_close.period_state(ctx.conn, p)
    if state["status"] is None:
        raise NotFound(f"Период {p} ещё не начат")
    return state


@post("/api/month-close/{period:str}/checks", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def post_checks(ctx: Ctx, period: PeriodPath, data: ChecksIn) -> dict:
    return await run_checks(ctx, parse_period(period), data.division_id)


@post("/api/month-close/{period:str}/close", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def post_close(ctx: Ctx, period: PeriodPath, data: CloseIn) -> dict:
    return await close(ctx, parse_period(period), data.division_id, data.accept_warnings)


@post("/api/month-close/{period:str}/reopen", dependencies=DEPS, guards=ADMIN, tags=TAGS, status_code=200)
async def post_reopen(ctx: Ctx, period: PeriodPath, data: ReopenIn) -> dict:
    return await reopen(ctx, parse_period(period), data.division_id, data.reason)


async def reopen(ctx: TenantScope, period: Period, division_id: int | None, reason: str) -> dict[str, Any]:
    result = await month_close.reopen_period(ctx.conn, period, division_id=division_id, reason=reason)
    publish_closed(ctx, "period.reopened", result)
    return result


ROUTES = [get_checks, put_checks, get_state, post_checks, post_close, post_reopen]
