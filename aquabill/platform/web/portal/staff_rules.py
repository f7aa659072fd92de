"""Staff side of the portal: the tenant's rules for readings and account links (page and API)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get, post, put
from litestar.response import Template

from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt
from aquabill.subscribers.links import CHECK_LABELS
from aquabill.subscribers.tenant_rules import check_rules, load_rules, save_rules

VIEW, EDIT = [requires("accounts", "view")], [requires("accounts", "admin")]


class RulesIn(msgspec.Struct):
    reading_first_day: Annotated[int, msgspec.Meta(ge=1, le=31)]
    reading_last_day: Annotated[int, msgspec.Meta(ge=1, le=31)]
    link_check: Annotated[str, msgspec.Meta(max_length=32)]


@get("/api/portal/rules", dependencies=DEPS, guards=VIEW, tags=["portal"],
     summary="Правила личного кабинета: окно приёма показаний, проверка при привязке счёта")
async def rules_get(ctx: Ctx) -> dict:
    return (await load_rules(ctx.conn)).as_dict()


@put("/api/portal/rules", dependencies=DEPS, guards=EDIT, tags=["portal"], summary="Изменить правила личного кабинета")
async def rules_put(ctx: Ctx, data: RulesIn) -> dict:
    rules = check_rules(data.reading_first_day, data.reading_last_day, data.link_check)
    return (await save_rules(ctx.conn, rules)).as_dict()


def _page(ctx: Ctx, values: dict, *, message: str | None = None, error: bool = False) -> Template:
    return Template(template_name="portal/staff_rules.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "values": values, "checks": CHECK_LABELS,
        "message": message, "error": error, "can_edit": ctx.principal.can("accounts", "admin")})


@get("/portal/rules", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def rules_page(ctx: Ctx) -> Template:
    return _page(ctx, (await load_rules(ctx.conn)).as_dict())


class RulesForm(msgspec.Struct):
    reading_first_day: Annotated[str, msgspec.Meta(max_length=8)] = ""
    reading_last_day: Annotated[str, msgspec.Meta(max_length=8)] = ""
    link_check: Annotated[str, msgspec.Meta(max_length=32)] = ""


def _day(raw: str) -> int:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) <= 2 else 0


@post("/portal/rules", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def rules_submit(ctx: Ctx, data: Annotated[RulesForm, FORM]) -> Template:
    raw = msgspec.structs.asdict(data)
    async with attempt(ctx) as tried:
        await save_rules(ctx.conn, check_rules(_day(data.reading_first_day), _day(data.reading_last_day),
                                               data.link_check))
    if tried.refused:
        return _page(ctx, raw, message=tried.message, error=True)
    return _page(ctx, (await load_rules(ctx.conn)).as_dict(), message="Правила личного кабинета сохранены")


ROUTES = [rules_get, rules_put, rules_page, rules_submit]
