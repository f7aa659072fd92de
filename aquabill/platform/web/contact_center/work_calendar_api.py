"""The working calendar over the API and its page (permission resource "requests": view to read, admin to
change): public holidays and transferred days off, transferred working Saturdays, short pre-holiday days, a
year's weekends; and the tenant's working hours and time zone. SLA deadlines of request phases in working
time count only the tenant's working hours in its zone, skip the non-working dates and count the working
weekend days.

A year is loaded with `POST /api/working-calendar/fill {"year": 2027}` (weekends, public holidays and their
transfers by the Labour Code) and, once the government's decree is out,
`PUT /api/working-calendar/official-list?year=2027` with the year's official list as JSON (`{"days": [{"day": "2027-01-11", "kind": "holiday", "note": "…"}]}`)
or CSV (`Content-Type: text/csv`, lines `2027-01-11;holiday;Перенос с 2 января`); kinds holiday, working,
short, weekend. The page offers the same."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid
from aquabill.contact_center.work_calendar import (
    DAY_KINDS,
    add_day,
    fill_year,
    list_days,
    load_service_hours,
    parse_upload,
    remove_day,
    replace_year,
    save_service_hours,
    year_loaded,
)
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt, parse_date

VIEW, ADMIN = ([requires("requests", a)] for a in ("view", "admin"))
TAGS = ["requests"]
Year = Annotated[int | None, Parameter(ge=2000, le=2100)]
YearQuery = Annotated[int, Parameter(ge=2000, le=2100, description="Год")]
Clock = Annotated[str, msgspec.Meta(pattern=r"^\d{1,2}:\d{2}$", description="ЧЧ:ММ")]
MAX_UPLOAD_BYTES = 256 * 1024


class DayIn(msgspec.Struct):
    day: date
    kind: Annotated[str, msgspec.Meta(pattern=r"^(holiday|working|weekend|short)$",
                                      description="holiday | working | weekend | short")] = "holiday"
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""


class YearIn(msgspec.Struct):
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]


class HoursIn(msgspec.Struct):
    zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="IANA, e.g. Asia/Yekaterinburg")]
    day_start: Clock
    day_end: Clock


def _clock(raw: str, field: str) -> time:
    try:
        hours, minutes = (int(x) for x in raw.strip().split(":"))
        return time(hours, minutes)
    except ValueError as exc:
        raise Invalid(f"Неверное время «{raw.strip()[:8]}»: ожидается ЧЧ:ММ", field=field) from exc


def _hours_out(row: dict[str, Any]) -> dict[str, str]:
    return {"zone": row["zone"], "day_start": f"{row['day_start']:%H:%M}", "day_end": f"{row['day_end']:%H:%M}"}


async def _save_hours(ctx: Ctx, zone: str, day_start: str, day_end: str) -> dict[str, str]:
    row = await save_service_hours(ctx.conn, zone, _clock(day_start, "day_start"), _clock(day_end, "day_end"),
                                   by=ctx.principal.user_id)
    return _hours_out(row)


@get("/api/working-calendar", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def calendar_days(ctx: Ctx, year: Year = None) -> dict:
    """The calendar's dates (of one year when `year` is given, with whether that year is loaded)."""
    items = await list_days(ctx.conn, year)
    out: dict[str, Any] = {"items": items, "total": len(items)}
    if year is not None:
        out["year_loaded"] = await year_loaded(ctx.conn, year)
    return out


@post("/api/working-calendar", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def calendar_add(ctx: Ctx, data: DayIn) -> dict:
    return await add_day(ctx.conn, data.day, data.kind, data.note, by=ctx.principal.user_id)


@delete("/api/working-calendar/{working_calendar_id:int}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def calendar_remove(ctx: Ctx, working_calendar_id: int) -> None:
    await remove_day(ctx.conn, working_calendar_id)


@get("/api/working-calendar/hours", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def hours_get(ctx: Ctx) -> dict:
    """The tenant's time zone and working day (Monday–Friday) that SLA working time counts."""
    return _hours_out(await load_service_hours(ctx.conn))


@put("/api/working-calendar/hours", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def hours_put(ctx: Ctx, data: HoursIn) -> dict:
    """Deadlines computed from now on use them; running timers keep their deadlines."""
    return await _save_hours(ctx, data.zone, data.day_start, data.day_end)


@post("/api/working-calendar/fill", dependencies=DEPS, guards=ADMIN, tags=TAGS, status_code=200)
async def year_fill(ctx: Ctx, data: YearIn) -> dict:
    """Write the year's weekends, public holidays, their transfers and short days (Labour Code arts. 95, 112);
    dates already in the calendar are kept, so it can run again."""
    return await fill_year(ctx.conn, data.year, by=ctx.principal.user_id)


async def _upload(request: Request) -> bytes:
    content_type, _ = request.content_type
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            data = await upload.read()
            if data.strip():
                return data
        pasted = form.get("text")
        return pasted.encode() if isinstance(pasted, str) else b""
    return await request.body()


@put("/api/working-calendar/official-list", dependencies=DEPS, guards=ADMIN, tags=TAGS,
     request_max_body_size=MAX_UPLOAD_BYTES)
async def year_replace(ctx: Ctx, request: Request, year: YearQuery) -> dict:
    """The year's official list (JSON or CSV body, or the `file` of a multipart form) replaces the year's
    holiday, working and short dates; the same list again changes nothing."""
    return await replace_year(ctx.conn, year, parse_upload(await _upload(request)), by=ctx.principal.user_id)


# ---- the page ------------------------------------------------------------------------------------------

class DayForm(msgspec.Struct):
    day: str = ""
    kind: str = "holiday"
    note: str = ""


async def _page(ctx: Ctx, year: int, message: str = "", form: DayForm | None = None, notice: str = "") -> Template:
    context: dict[str, Any] = {
        "principal": ctx.principal, "tenant": ctx.tenant, "can_edit": ctx.principal.can("requests", "admin"),
        "year": year, "items": await list_days(ctx.conn, year), "day_kinds": DAY_KINDS, "message": message,
        "form": form or DayForm(), "hours": _hours_out(await load_service_hours(ctx.conn)),
        "loaded": await year_loaded(ctx.conn, year), "notice": notice}
    return Template("contact_center/work_calendar.html", context=context)


@get("/requests/calendar", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def calendar_page(ctx: Ctx, year: Year = None) -> Template:
    return await _page(ctx, year or datetime.now(UTC).year)


@post("/requests/calendar", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def calendar_submit(ctx: Ctx, data: Annotated[DayForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        day = parse_date(data.day, "day", required=True)
        await add_day(ctx.conn, day, data.kind, data.note[:300], by=ctx.principal.user_id)
    if tried.refused:
        return await _page(ctx, datetime.now(UTC).year, tried.message, data)
    return Redirect(path=f"/requests/calendar?year={day.year}", status_code=303)


@post("/requests/calendar/{working_calendar_id:int}/delete", dependencies=DEPS, guards=ADMIN,
      include_in_schema=False, status_code=200)
async def calendar_delete(ctx: Ctx, working_calendar_id: int) -> Redirect:
    await remove_day(ctx.conn, working_calendar_id)
    return Redirect(path="/requests/calendar", status_code=303)


class YearForm(msgspec.Struct):
    year: str = ""  # the year the page shows


class HoursForm(YearForm):
    zone: str = ""
    day_start: str = ""
    day_end: str = ""


def _form_year(raw: str) -> int:
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else datetime.now(UTC).year


@post("/requests/calendar/hours", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def hours_submit(ctx: Ctx, data: Annotated[HoursForm, FORM]) -> Template:
    year = _form_year(data.year)
    async with attempt(ctx) as tried:
        saved = await _save_hours(ctx, data.zone, data.day_start, data.day_end)
    if tried.refused:
        return await _page(ctx, year, tried.message)
    return await _page(ctx, year, notice=f"Рабочее время: {saved['day_start']}–{saved['day_end']}, {saved['zone']}")


@post("/requests/calendar/fill", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def year_fill_submit(ctx: Ctx, data: Annotated[YearForm, FORM]) -> Template:
    year = _form_year(data.year)
    done = await fill_year(ctx.conn, year, by=ctx.principal.user_id)
    return await _page(ctx, year, notice=f"{year}: добавлено дат — {done['added']}")


@post("/requests/calendar/upload", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200,
      request_max_body_size=MAX_UPLOAD_BYTES)
async def year_upload_submit(ctx: Ctx, request: Request, year: YearQuery) -> Template:
    async with attempt(ctx) as tried:
        done = await replace_year(ctx.conn, year, parse_upload(await _upload(request)), by=ctx.principal.user_id)
    if tried.refused:
        return await _page(ctx, year, tried.message)
    return await _page(ctx, year, notice=f"{year}: записано дат — {done['written']}, удалено — {done['removed']}")


ROUTES = [calendar_days, calendar_add, calendar_remove, hours_get, hours_put, year_fill, year_replace,
          calendar_page, calendar_submit, calendar_delete, hours_submit, year_fill_submit, year_upload_submit]
