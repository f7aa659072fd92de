"""The month-close page (/billing/close): choose the month and the division, run the checks, see their
results with counts and samples, close (the button is disabled while a blocking check fails; warnings
must be accepted with a tick), and the history of closes.

Admins (periods/admin) also get the reopen form of a closed month or division (a reason is required;
only the latest closed month can be reopened) and the form configuring the set of checks (enabled,
blocking or a warning, the parameter such as N days, or back to its default).

Plain form posts (no script needed): the page is rendered again with the outcome. A refusal is shown on
the page (status 200) and nothing of that attempt is written (a savepoint rolls it back).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import DomainError, Invalid
from aquabill.billing_core import month_close
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import default_period
from aquabill.billing_core.run.queries import periods
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.billing.month_close_api import (
    CheckSettingIn,
    close,
    configure_checks,
    reopen,
    run_checks,
)
from aquabill.platform.web.billing.runs import parse_period
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM, attempt, or_none, parse_id, try_period

Text = Annotated[str, Parameter(max_length=16)]
OUTCOMES = {"pass": "Замечаний нет", "warn": "Есть предупреждения", "block": "Есть блокирующие замечания"}
STATUSES = {"pass": "пройдена", "warn": "предупреждение", "block": "блокирует", "skip": "отключена"}
ACTIONS = {"close": "Закрытие", "reopen": "Открытие"}


class CloseForm(msgspec.Struct):
    period: str = ""
    division_id: str = ""  # empty: the whole organisation
    action: str = "check"  # check | close
    accept_warnings: str = ""  # "1" when ticked


async def _page(ctx: TenantScope, period: Period, division_id: int | None, *, message: str = "",
                notice: str = "") -> Template:
    state = await month_close.period_state(ctx.conn, period)
    last = next((c for c in state["checks"] if c["division_id"] == division_id), None)
    division = next((d for d in state["divisions"] if d["id"] == division_id), None)
    closed_here = state["status"] == "closed" or (division is not None and division["status"] == "closed")
    context: dict[str, Any] = {
        "principal": ctx.principal, "tenant": ctx.tenant, "can_edit": ctx.principal.can("periods", "edit"),
        "can_admin": ctx.principal.can("periods", "admin"),
        "period": str(period), "division_id": division_id, "division": division, "state": state, "last": last,
        "closed_here": closed_here, "periods": await periods(ctx.conn), "message": message, "notice": notice,
        "outcomes": OUTCOMES, "statuses": STATUSES, "actions": ACTIONS,
        "checks": await month_close.load_config(ctx.conn), "catalogue": month_close.CATALOGUE,
    }
    return Template("billing/close.html", context=context)


@get("/billing/close", dependencies=DEPS, guards=[requires("periods", "view")], include_in_schema=False)
async def close_page(ctx: Ctx, period: Text = "", division_id: Text = "") -> Template:
    chosen, message = try_period(period) if period.strip() else (None, "")
    return await _page(ctx, chosen or await default_period(ctx.conn), or_none(parse_id, division_id, "division_id"),
                       message=message)


async def _chosen(ctx: Ctx, period: str, division: str) -> tuple[Period | None, int | None, Template | None]:
    """The form's month and division; a month that does not parse gives the page re-rendered with the
    refusal instead (the third item)."""
    division_id = or_none(parse_id, division, "division_id")
    chosen, message = try_period(period)
    if chosen is None:
        return None, division_id, await _page(ctx, await default_period(ctx.conn), division_id, message=message)
    return chosen, division_id, None


@post("/billing/close", dependencies=DEPS, guards=[requires("periods", "edit")], include_in_schema=False,
      status_code=200)
async def close_submit(ctx: Ctx, data: Annotated[CloseForm, FORM]) -> Template:
    chosen, division_id, refused = await _chosen(ctx, data.period, data.division_id)
    if refused is not None:
        return refused
    async with attempt(ctx) as tried:
        if data.action == "close":
            result = await close(ctx, chosen, division_id, data.accept_warnings == "1")
            where = f" по подразделению «{result['division']['name']}»" if result["division"] else ""
            notice = f"Период {chosen} закрыт{where}." + (
                f" Открыт период {result['next_period']}." if result["next_period"] else "")
        else:
            result = await run_checks(ctx, chosen, division_id)
            notice = f"Проверки выполнены: {OUTCOMES[result['outcome']].lower()}."
    if tried.refused:
        return await _page(ctx, chosen, division_id, message=tried.message)
    return await _page(ctx, chosen, division_id, notice=notice)


class ReopenForm(msgspec.Struct):
    period: str = ""
    division_id: str = ""
    reason: str = ""


@post("/billing/close/reopen", dependencies=DEPS, guards=[requires("periods", "admin")], include_in_schema=False,
      status_code=200)
async def reopen_submit(ctx: Ctx, data: Annotated[ReopenForm, FORM]) -> Template:
    chosen, division_id, refused = await _chosen(ctx, data.period, data.division_id)
    if refused is not None:
        return refused
    async with attempt(ctx) as tried:
        result = await reopen(ctx, chosen, division_id, data.reason[:2000])
    if tried.refused:
        return await _page(ctx, chosen, division_id, message=tried.message)
    where = f" по подразделению «{result['division']['name']}»" if result.get("division") else ""
    return await _page(ctx, chosen, division_id, notice=f"Период {chosen} открыт{where}.")


def _settings(form: Any) -> list[CheckSettingIn]:
    """The checks form: per check `enabled_<code>` (ticked), `kind_<code>` (block | warn) and
    `parameter_<code>` (a whole number; empty: the default)."""
    items = []
    for code, spec in month_close.CATALOGUE.items():
        if f"kind_{code}" not in form:
            continue
        item = CheckSettingIn(code=code, enabled=form.get(f"enabled_{code}") == "1",
                              blocking=form.get(f"kind_{code}") == "block")
        if spec.parameter:
            raw = str(form.get(f"parameter_{code}") or "").strip()
            if not raw:
                item.reset_parameter = True
            elif raw.isdigit() and len(raw) <= 6:
                item.parameter = int(raw)
            else:
                raise Invalid(f"«{spec.name}»: параметр — целое неотрицательное число ({spec.parameter})",
                              fields=[{"field": f"parameter_{code}", "message": "не число"}])
        items.append(item)
    return items


@post("/billing/close/checks", dependencies=DEPS, guards=[requires("periods", "admin")], include_in_schema=False,
      status_code=200)
async def checks_submit(ctx: Ctx, request: Request) -> Template:
    form = await request.form()
    division_id = or_none(parse_id, str(form.get("division_id") or ""), "division_id")
    try:
        chosen = parse_period(str(form.get("period") or ""))
    except DomainError:
        chosen = await default_period(ctx.conn)
    async with attempt(ctx) as tried:
        await configure_checks(ctx, _settings(form))
    if tried.refused:
        return await _page(ctx, chosen, division_id, message=tried.message)
    return await _page(ctx, chosen, division_id, notice="Набор проверок сохранён.")


ROUTES = [close_page, close_submit, reopen_submit, checks_submit]
