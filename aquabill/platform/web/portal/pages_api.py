"""The portal's JSON API (`/api/my/…`), the same data and rules as the pages, for a subscriber's bearer
token or cookie (401 without one). Another subscriber's account, reading, appeal or notice is a 404, the
same as one that does not exist.

- `GET /api/my/accounts`: the linked accounts, each with `balance`, `debt`, `advance`, `penalty`, `to_pay`,
  `services` (debt by service) and `period` (latest month with charges);
- `GET /api/my/accounts/{id}/balance`, `…/charges` (months, newest first), `…/payments`, `…/receipts`
  (months with a receipt), `…/receipt?period=ГГГГ-ММ` (the receipt as staff print it);
- `GET /api/my/accounts/{id}/meters` (with the reading window), `GET …/readings` (history),
  `POST …/readings` `{meter_id, value, photo_base64?}` → `status` (accepted | flagged | rejected | duplicate)
  and `message`; outside the window or a value that is not a number: 422 with the reason;
- `GET /api/my/appeals`, `POST /api/my/appeals` `{kind, text, subject?, account_id?}` (201);
- `GET /api/my/inbox` (with `unread`), `POST /api/my/inbox/{id}/read`, `POST /api/my/inbox/read-all`;
- `GET /api/my/settings`, `PUT /api/my/settings` `{paperless, preferred_channel}`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import msgspec
from litestar import put
from litestar.params import Parameter

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import build_receipt
from aquabill.platform.web.paging import INT4_MAX, Limit, Offset, page
from aquabill.platform.web.portal.context import PORTAL_DEPS, My
from aquabill.platform.web.portal.pages_common import API_TAGS, api_get, api_post, today_of
from aquabill.platform.web.portal.pages_messages import announce_appeal
from aquabill.subscribers import portal, portal_appeals, portal_inbox, portal_settings, readings

PeriodQuery = Annotated[str | None, Parameter(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]
BoundedId = Annotated[int, msgspec.Meta(ge=1, le=INT4_MAX)]
Text = Annotated[str, msgspec.Meta(max_length=portal_appeals.TEXT_LIMIT)]
Short = Annotated[str, msgspec.Meta(max_length=portal_appeals.SUBJECT_LIMIT)]
Code = Annotated[str, msgspec.Meta(max_length=32)]
PHOTO_BASE64_LIMIT = (readings.PHOTO_MAX_BYTES * 4) // 3 * 2  # twice the limit: a larger one is refused by size


class ReadingIn(msgspec.Struct):
    meter_id: BoundedId
    value: Annotated[str, msgspec.Meta(max_length=40)] | int | float
    photo_base64: Annotated[str, msgspec.Meta(max_length=PHOTO_BASE64_LIMIT)] | None = None


class AppealIn(msgspec.Struct):
    text: Text
    kind: Code = "other"
    subject: Short = ""
    account_id: BoundedId | None = None


class SettingsIn(msgspec.Struct):
    paperless: bool
    preferred_channel: Code


@api_get("/api/my/accounts")
async def accounts(my: My) -> dict[str, Any]:
    return {"items": await portal.dashboard(my.conn, my.subscriber_id)}


@api_get("/api/my/accounts/{account_id:int}/balance")
async def balance(my: My, account_id: int) -> dict[str, Any]:
    return await portal.account_view(my.conn, my.subscriber_id, account_id)


@api_get("/api/my/accounts/{account_id:int}/charges")
async def charges(my: My, account_id: int, limit: Limit = 12, offset: Offset = 0) -> dict[str, Any]:
    """Months with charges, newest first (`limit` months), each with its lines and total."""
    items, total = await portal.charges_history(my.conn, my.subscriber_id, account_id, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@api_get("/api/my/accounts/{account_id:int}/payments")
async def payments(my: My, account_id: int, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    items, total = await portal.payments_history(my.conn, my.subscriber_id, account_id, limit=limit,
                                                 offset=offset)
    return page(items, total, limit, offset)


@api_get("/api/my/accounts/{account_id:int}/receipts")
async def receipts(my: My, account_id: int) -> dict[str, Any]:
    return {"months": await portal.receipt_months(my.conn, my.subscriber_id, account_id)}


@api_get("/api/my/accounts/{account_id:int}/receipt")
async def receipt(my: My, account_id: int, period: PeriodQuery = None) -> dict[str, Any]:
    """The month's receipt (by default the latest month that has one)."""
    months = await portal.receipt_months(my.conn, my.subscriber_id, account_id, limit=1)
    if period is None and not months:
        raise Invalid("Квитанций по этому лицевому счёту ещё нет", field="period")
    month = Period.parse(period) if period else Period.parse(months[0])
    return (await build_receipt(my.conn, account_id, month)).as_dict()


@api_get("/api/my/accounts/{account_id:int}/meters")
async def meters(my: My, account_id: int) -> dict[str, Any]:
    await portal.linked_account(my.conn, my.subscriber_id, account_id)
    days = await readings.reading_days(my.conn)
    today = today_of(my)
    refusal = readings.window_refusal(today, days)
    return {"items": await readings.account_meters(my.conn, account_id, today),
            "window": {"days": list(days), "open": refusal is None, "message": refusal}}


@api_get("/api/my/accounts/{account_id:int}/readings")
async def reading_list(my: My, account_id: int, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    await portal.linked_account(my.conn, my.subscriber_id, account_id)
    items, total = await readings.reading_history(my.conn, account_id, limit=limit, offset=offset)
    return page(items, total, limit, offset)


def _photo(raw: str | None) -> bytes | None:
    if not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("Фото: ожидается изображение в base64", field="photo_base64") from exc


@api_post("/api/my/accounts/{account_id:int}/readings", status_code=200)
async def reading_submit(my: My, account_id: int, data: ReadingIn) -> dict[str, Any]:
    """Today's reading of a meter of the account (validated as every reading is); the answer says what
    became of it in `status` and `message`."""
    value = data.value if isinstance(data.value, str) else repr(data.value)
    return await readings.submit_reading(my.conn, subscriber_id=my.subscriber_id, account_id=account_id,
                                         meter_id=data.meter_id, value=value, today=today_of(my),
                                         source="portal", photo=_photo(data.photo_base64))


@api_get("/api/my/appeals")
async def appeals(my: My, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    items, total = await portal_appeals.subscriber_appeals(my.conn, my.subscriber_id, limit=limit, offset=offset)
    return {**page(items, total, limit, offset), "kinds": await portal_appeals.appeal_kinds(my.conn)}


@api_get("/api/my/appeals/{appeal_id:int}")
async def appeal(my: My, appeal_id: int) -> dict[str, Any]:
    return await portal_appeals.subscriber_appeal(my.conn, my.subscriber_id, appeal_id)


@api_post("/api/my/appeals")
async def appeal_create(my: My, data: AppealIn) -> dict[str, Any]:
    """File an appeal (201): it lands in the contact center's journal, source 'portal'."""
    created = await portal_appeals.file_appeal(my.conn, my.subscriber_id, kind=data.kind, body=data.text,
                                               subject=data.subject, account_id=data.account_id, source="portal")
    announce_appeal(my, created)
    return await portal_appeals.subscriber_appeal(my.conn, my.subscriber_id, created["id"])


@api_get("/api/my/inbox")
async def inbox(my: My, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    items, total = await portal_inbox.inbox(my.conn, my.subscriber_id, limit=limit, offset=offset)
    return {**page(items, total, limit, offset), "unread": await portal_inbox.unread_count(my.conn, my.subscriber_id)}


@api_post("/api/my/inbox/{item_id:int}/read", status_code=200)
async def inbox_read(my: My, item_id: int) -> dict[str, Any]:
    await portal_inbox.mark_read(my.conn, my.subscriber_id, item_id)
    return {"unread": await portal_inbox.unread_count(my.conn, my.subscriber_id)}


@api_post("/api/my/inbox/read-all", status_code=200)
async def inbox_read_all(my: My) -> dict[str, Any]:
    await portal_inbox.mark_all_read(my.conn, my.subscriber_id)
    return {"unread": 0}


@api_get("/api/my/settings")
async def settings(my: My) -> dict[str, Any]:
    return await portal_settings.subscriber_settings(my.conn, my.subscriber_id)


@put("/api/my/settings", dependencies=PORTAL_DEPS, tags=API_TAGS)
async def settings_save(my: My, data: SettingsIn) -> dict[str, Any]:
    return await portal_settings.save_settings(my.conn, my.subscriber_id, paperless=data.paperless,
                                               preferred_channel=data.preferred_channel)


ROUTES = [accounts, balance, charges, payments, receipts, receipt, meters, reading_list, reading_submit, appeals,
          appeal, appeal_create, inbox, inbox_read, inbox_read_all, settings, settings_save]
