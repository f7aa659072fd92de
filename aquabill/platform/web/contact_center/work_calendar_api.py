"""The working calendar over the API and its page (permission resource "requests": view to read, admin to
change): public holidays and transferred days off, transferred working Saturdays. SLA deadlines of request
phases in working time skip the non-working dates and count the working weekend days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import delete, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import DomainError, Invalid
from aquabill.contact_center.work_calendar import DAY_KINDS, add_day, list_days, remove_day
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import Ctx, provide_tenant_scope

DEPS = {"ctx": Provide(provide_tenant_scope)}
VIEW, ADMIN = ([requires("requests", a)] for a in ("view", "admin"))
TAGS = ["requests"]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
Year = Annotated[int | None, Parameter(ge=2000, le=2100)]


class DayIn(msgspec.Struct):
    day: date
    kind: Annotated[str, msgspec.Meta(pattern=r"^(holiday|working)$", description="holiday | working")] = "holiday"
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""


@get("/api/working-calendar", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def calendar_days(ctx: Ctx, year: Year = None) -> dict:
    """The calendar's dates (of one year when `year` is given)."""
    items = await list_days(ctx.conn, year)
    return {"items": items, "total": len(items)}


@post("/api/working-calendar", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def calendar_add(ctx: Ctx, data: DayIn) -> dict:
    return await add_day(ctx.conn, data.day, data.kind, data.note, by=ctx.principal.user_id)


@delete("/api/working-calendar/{working_calendar_id:int}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def calendar_remove(ctx: Ctx, working_calendar_id: int) -> None:
    await remove_day(ctx.conn, working_calendar_id)


# ---- the page ------------------------------------------------------------------------------------------

class DayForm(msgspec.Struct):
    day: str = ""
    kind: str = "holiday"
    note: str = ""


async def _page(ctx: Ctx, year: int, message: str = "", form: DayForm | None = None) -> Template:
    context: dict[str, Any] = {
        "principal": ctx.principal, "tenant": ctx.tenant, "can_edit": ctx.principal.can("requests", "admin"),
        "year": year, "items": await list_days(ctx.conn, year), "day_kinds": DAY_KINDS, "message": message,
        "form": form or DayForm()}
    return Template("contact_center/work_calendar.html", context=context)


@get("/requests/calendar", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def calendar_page(ctx: Ctx, year: Year = None) -> Template:
    return await _page(ctx, year or datetime.now(UTC).year)


@post("/requests/calendar", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def calendar_submit(ctx: Ctx, data: Annotated[DayForm, FORM]) -> Template | Redirect:
    try:
        async with ctx.conn.begin_nested():
            try:
                day = date.fromisoformat(data.day.strip())
            except ValueError as exc:
                raise Invalid(f"Неверная дата: {data.day.strip()[:20]}") from exc
            await add_day(ctx.conn, day, data.kind, data.note[:300], by=ctx.principal.user_id)
    except DomainError as exc:
        return await _page(ctx, datetime.now(UTC).year, exc.message, data)
    return Redirect(path=f"/requests/calendar?year={day.year}", status_code=303)


@post("/requests/calendar/{working_calendar_id:int}/delete", dependencies=DEPS, guards=ADMIN,
      include_in_schema=False, status_code=200)
async def calendar_delete(ctx: Ctx, working_calendar_id: int) -> Redirect:
    await remove_day(ctx.conn, working_calendar_id)
    return Redirect(path="/requests/calendar", status_code=303)


ROUTES = [calendar_days, calendar_add, calendar_remove, calendar_page, calendar_submit, calendar_delete]
