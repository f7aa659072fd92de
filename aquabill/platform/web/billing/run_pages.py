"""Billing pages: start a run (whole tenant, one house or one account) and follow it live; a period's
charges summed by service and method, with their rows.

The run form posts URL-encoded fields through htmx (like the account card's forms); a refusal (bad
period, unknown account, closed period without an open one, …) is shown in the form (status 200, so
htmx swaps it) and nothing of that attempt is written (a savepoint rolls it back). Runs started as jobs
report progress over the WebSocket (static/billing_runs.js); without it the list polls itself.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.periods_guard import default_period
from aquabill.billing_core.reference.services import service_names
from aquabill.billing_core.registry.card import CHARGE_METHODS
from aquabill.billing_core.registry.queries import account_by_number, house_options
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.queries import (
    charge_rows,
    charge_summary,
    latest_charged_period,
    list_runs,
    periods,
)
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.billing.runs import StartedRun, parse_period, start_billing_run
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM, attempt, parse_id, try_period
from aquabill.platform.web.paging import Offset, Search

RUNS_PAGE = 20
CHARGES_PAGE = 50
RUN_STATUS = {"queued": "В очереди", "running": "Выполняется", "done": "Завершён", "failed": "Ошибка"}
SCOPES = {"tenant": "Вся организация", "house": "Дом", "account": "Лицевой счёт"}
PROBLEMS = {"no_tariff": "нет тарифа", "no_norm": "нет норматива"}
Part = Annotated[str, Parameter(max_length=16, description="Часть страницы (runs — только список расчётов)")]
Text = Annotated[str, Parameter(max_length=64)]


class RunForm(msgspec.Struct):
    period: str = ""
    scope: str = "tenant"
    house_id: str = ""
    account_number: str = ""


def _ctx(ts: TenantScope, **kw: Any) -> dict[str, Any]:
    return {"principal": ts.principal, "tenant": ts.tenant, "can_edit": ts.principal.can("billing", "edit"),
            "run_status": RUN_STATUS, "scopes": SCOPES, "problems": PROBLEMS, "methods": CHARGE_METHODS, **kw}


async def _services(ctx: Ctx) -> dict[str, str]:
    return await service_names(ctx.conn)


async def _runs_ctx(ctx: Ctx, offset: int) -> dict[str, Any]:
    runs, total = await list_runs(ctx.conn, limit=RUNS_PAGE, offset=offset)
    return {"runs": runs, "runs_total": total, "offset": offset, "limit": RUNS_PAGE,
            "has_active": any(r["active"] for r in runs), "service_names": await _services(ctx)}


async def _page(ctx: Ctx, request: Request, form: RunForm | None = None, *, offset: int = 0,
                started: StartedRun | None = None, message: str = "") -> Template:
    """The whole page, or only its panel (form and list) for htmx."""
    form = form or RunForm(period=str(await default_period(ctx.conn)))
    all_periods = await periods(ctx.conn)
    context = _ctx(ctx, form=form, houses=await house_options(ctx.conn), started=started, message=message,
                   open_period=next((p["period"] for p in reversed(all_periods) if p["status"] == "open"), None),
                   closed_until=next((p["period"] for p in all_periods if p["status"] == "closed"), None),
                   **await _runs_ctx(ctx, offset))
    partial = request.headers.get("hx-request") == "true"
    return Template("billing/runs_panel.html" if partial else "billing/runs.html", context=context)


@get("/billing/runs", dependencies=DEPS, guards=[requires("billing", "view")], include_in_schema=False)
async def runs_page(ctx: Ctx, request: Request, part: Part = "", offset: Offset = 0) -> Template:
    if part == "runs":  # the list alone: refreshed when a run finishes, polled while the WebSocket is down
        return Template("billing/runs_list.html", context=_ctx(ctx, **await _runs_ctx(ctx, offset)))
    return await _page(ctx, request, offset=offset)


@get("/billing/runs/houses", dependencies=DEPS, guards=[requires("billing", "view")], include_in_schema=False)
async def house_choices(ctx: Ctx, house_q: Search = "") -> Template:
    return Template("billing/house_options.html", context={"houses": await house_options(ctx.conn, house_q),
                                                           "form": RunForm()})


async def _scope(ctx: Ctx, form: RunForm) -> Scope:
    if form.scope == "tenant":
        return Scope()
    if form.scope == "house":
        return Scope("house", parse_id(form.house_id, "house_id", "Выберите дом", required=True))
    if form.scope == "account":
        number = form.account_number.strip()
        if not number:
            raise Invalid("Укажите номер лицевого счёта", fields=[{"field": "account_number", "message": "пусто"}])
        account_id = await account_by_number(ctx.conn, number)
        if account_id is None:
            raise NotFound(f"Лицевой счёт № {number} не найден")
        return Scope("account", account_id)
    raise Invalid("Выберите область расчёта", fields=[{"field": "scope", "message": "неизвестна"}])


@post("/billing/runs", dependencies=DEPS, guards=[requires("billing", "edit")], include_in_schema=False,
      status_code=200)
async def run_submit(ctx: Ctx, request: Request, data: Annotated[RunForm, FORM]) -> Template:
    async with attempt(ctx) as tried:
        started = await start_billing_run(ctx, parse_period(data.period), await _scope(ctx, data))
    if tried.refused:
        return await _page(ctx, request, data, message=tried.message)
    return await _page(ctx, request, data, started=started)


@get("/billing/charges", dependencies=DEPS, guards=[requires("billing", "view")], include_in_schema=False)
async def charges_page(ctx: Ctx, period: Text = "", account: Text = "", offset: Offset = 0) -> Template:
    chosen, message = try_period(period) if period.strip() else (None, "")
    chosen = chosen or await latest_charged_period(ctx.conn) or await default_period(ctx.conn)
    found = await charge_rows(ctx.conn, chosen, account_prefix=account, limit=CHARGES_PAGE, offset=offset)
    summary = await charge_summary(ctx.conn, chosen, account_prefix=account)
    return Template("billing/charges.html", context=_ctx(
        ctx, period=str(chosen), account=account.strip(), periods=await periods(ctx.conn), message=message,
        summary=summary, charges=found, offset=offset, limit=CHARGES_PAGE))


ROUTES = [runs_page, house_choices, run_submit, charges_page]
