"""Readings on the portal: per meter the last reading, a form for today's value with an optional photo of
the meter, the history; outside the tenant's window a plain sentence instead of the form. The photo of a
reading is served only to a subscriber whose account it is."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.response import Template

from aquabill.base.errors import NotFound
from aquabill.platform.web.forms import attempt, parse_id, parse_text
from aquabill.platform.web.paging import Offset
from aquabill.platform.web.portal.context import My, PortalScope
from aquabill.platform.web.portal.pages_common import page_get, page_post, pages, render, today_of
from aquabill.subscribers.links import linked_accounts
from aquabill.subscribers.portal import linked_account
from aquabill.subscribers.readings import (
    PHOTO_MAX_BYTES,
    account_meters,
    reading_days,
    reading_history,
    reading_photo,
    submit_reading,
    window_refusal,
)

HISTORY_PAGE = 10
UPLOAD_LIMIT = 4 * PHOTO_MAX_BYTES  # a larger photo gets the plain "not more than 5 MB" answer, not a 413
RESULT_STYLE = {"accepted": "ok", "duplicate": "ok", "flagged": "warn", "rejected": "error"}


async def _account_block(my: PortalScope, account: dict[str, Any], *, history_offset: int = 0,
                         history_limit: int = HISTORY_PAGE) -> dict[str, Any]:
    today = today_of(my)
    history, total = await reading_history(my.conn, account["id"], limit=history_limit, offset=history_offset)
    return {**account, "meters": await account_meters(my.conn, account["id"], today), "history": history,
            "pager": pages(total, history_limit, history_offset)}


async def _window(my: PortalScope) -> dict[str, Any]:
    days = await reading_days(my.conn)
    return {"days": days, "refusal": window_refusal(today_of(my), days)}


@page_get("/my/readings")
async def readings_page(my: My) -> Template:
    accounts = [await _account_block(my, a, history_limit=5) for a in await linked_accounts(my.conn, my.subscriber_id)]
    return await render(my, "readings.html", accounts=accounts, window=await _window(my), single=False)


async def _account_readings(my: PortalScope, account_id: int, *, offset: int = 0, result: dict | None = None,
                            form: dict | None = None) -> Template:
    account = await linked_account(my.conn, my.subscriber_id, account_id)
    return await render(my, "readings.html", accounts=[await _account_block(my, account, history_offset=offset)],
                        window=await _window(my), single=True, result=result, form=form or {})


@page_get("/my/accounts/{account_id:int}/readings")
async def account_readings_page(my: My, account_id: int, offset: Offset = 0) -> Template:
    return await _account_readings(my, account_id, offset=offset)


async def _photo(form: Any) -> tuple[bytes | None, str | None]:
    upload = form.get("photo")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        return (data or None), upload.content_type
    return None, None


@page_post("/my/accounts/{account_id:int}/readings", request_max_body_size=UPLOAD_LIMIT)
async def submit_reading_form(my: My, account_id: int, request: Request) -> Template:
    """The reading form (multipart: `meter_id`, `value`, optional `photo`)."""
    form = await request.form()
    raw = {"meter_id": parse_text(form.get("meter_id"), 20), "value": parse_text(form.get("value"), 40)}
    photo, photo_type = await _photo(form)
    result = None
    async with attempt(my) as tried:
        meter_id = parse_id(raw["meter_id"], "meter_id", "Выберите счётчик", required=True)
        assert meter_id is not None
        result = await submit_reading(my.conn, subscriber_id=my.subscriber_id, account_id=account_id,
                                      meter_id=meter_id, value=raw["value"], today=today_of(my), source="portal",
                                      photo=photo, photo_type=photo_type)
    if tried.refused:
        if isinstance(tried.error, NotFound):  # another's account or meter: as if it did not exist
            raise tried.error
        result = {"status": "refused", "message": tried.message, "meter_id": raw["meter_id"]}
        return await _account_readings(my, account_id, result={**result, "style": "error"}, form=raw)
    assert result is not None
    return await _account_readings(my, account_id, result={**result, "style": RESULT_STYLE[result["status"]]})


@page_get("/my/readings/{reading_id:int}/photo")
async def photo_page(my: My, reading_id: int) -> Response:
    content_type, data = await reading_photo(my.conn, my.subscriber_id, reading_id)
    return Response(content=data, media_type=content_type,
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


ROUTES = [readings_page, account_readings_page, submit_reading_form, photo_page]
