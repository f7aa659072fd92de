"""Appeals: register (manually, from a call, from an e-mail), change (result, status, operator), read one
with the telephonograms affecting its address. Services never commit; the caller publishes
`event_data` after the commit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.contact_center.appeals import store
from aquabill.contact_center.appeals.telephonograms import affecting

CREATED, UPDATED = "appeal.created", "appeal.updated"
_CALL_NUMBER_KEYS = ("caller", "caller_normalised", "caller_number", "from_number", "caller_id", "callerid", "phone", "number")


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, fields=[{"field": field, "message": message}])


async def _resolve(conn: AsyncConnection, values: dict[str, Any], current: dict[str, Any] | None = None) -> None:
    """Check and complete `values` in place: kind code → kind_id, the account's premise, house and address,
    the house's address, the operator."""
    if "kind" in values:
        code = values.pop("kind")
        kid = await store.kind_id(conn, code)
        if kid is None:
            raise _invalid("kind", f"Неизвестный вид обращения «{code}»")
        values["kind_id"] = kid
    if "source" in values and values["source"] not in store.SOURCES:
        raise _invalid("source", "Источник: " + ", ".join(store.SOURCES))
    if "status" in values and values["status"] not in store.STATUSES:
        raise _invalid("status", "Состояние: " + ", ".join(store.STATUSES))
    if values.get("account_id") is not None:
        place = await store.account_place(conn, values["account_id"])
        if place is None:
            raise NotFound("Лицевой счёт не найден", fields=[{"field": "account_id", "message": "не найден"}])
        if values.get("house_id") not in (None, place["house_id"]):
            raise _invalid("house_id", "Дом не совпадает с адресом лицевого счёта")
        values["house_id"], values["premise_id"] = place["house_id"], place["premise_id"]
        if not values.get("address_text"):
            values["address_text"] = place["address"]
        if current is None:  # a new appeal: the applicant defaults to the account holder
            if not values.get("applicant_name"):
                values["applicant_name"] = place["holder"] or ""
            if not values.get("applicant_phone"):
                values["applicant_phone"] = place["phone"] or ""
    elif values.get("house_id") is not None:
        address = await store.house_address(conn, values["house_id"], values.get("premise_id"))
        if address is None:
            raise NotFound("Дом (или помещение в нём) не найден",
                           fields=[{"field": "house_id", "message": "не найден"}])
        if not values.get("address_text"):
            values["address_text"] = address
    elif values.get("premise_id") is not None:
        raise _invalid("premise_id", "Помещение указывается вместе с домом")
    if values.get("operator_id") is not None and not await store.user_exists(conn, values["operator_id"]):
        raise NotFound("Оператор не найден", fields=[{"field": "operator_id", "message": "не найден"}])


def _status_times(values: dict[str, Any], current: dict[str, Any] | None, now: datetime) -> None:
    status = values.get("status")
    if status is None:
        return
    if status in ("answered", "closed") and not (current and current.get("answered_at")):
        values["answered_at"] = now
    if status == "closed" and not (current and current.get("closed_at")):
        values["closed_at"] = now
    if status in ("new", "in_work"):
        values["closed_at"] = None


async def create_appeal(conn: AsyncConnection, values: dict[str, Any], *, user_id: int | None) -> dict[str, Any]:
    """`values`: kind (code), source, and any of received_at, account_id, house_id, premise_id, address_text,
    applicant_*, subject, text, result, status, operator_id, call_id, mail_message_id."""
    values = {k: v for k, v in values.items() if v is not None}
    if "kind_id" not in values:
        values.setdefault("kind", "other")
    values.setdefault("status", "new")
    await _resolve(conn, values)
    now = datetime.now().astimezone()
    _status_times(values, None, now)
    appeal_id = await store.insert_appeal(conn, {**values, "created_by": user_id})
    return await store.get_appeal(conn, appeal_id) or {}


async def update_appeal(conn: AsyncConnection, appeal_id: int,
                        changes: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Apply `changes` (only the fields given; None clears operator_id / account_id); returns the appeal and
    the names of the fields that changed."""
    current = await store.get_appeal(conn, appeal_id)
    if current is None:
        raise NotFound("Обращение не найдено")
    values = dict(changes)
    await _resolve(conn, values, current)
    _status_times(values, current, datetime.now().astimezone())
    if "kind_id" in values and values["kind_id"] == (await store.kind_id(conn, current["kind"])):
        values.pop("kind_id")
    values = {k: v for k, v in values.items() if k not in current or current[k] != v}
    if values:
        await store.update_appeal(conn, appeal_id, values)
    after = await store.get_appeal(conn, appeal_id) or {}
    changed = sorted({"kind" if k == "kind_id" else k for k in values} - {"answered_at", "closed_at"})
    return after, changed


async def appeal_from_call(conn: AsyncConnection, call_id: int, values: dict[str, Any], *,
                           user_id: int | None) -> dict[str, Any]:
    """An appeal registered during or after a call, linked to its call record: the caller's number and account
    come from the call (unless given). Without the telephony tables the call id is only recorded."""
    call = await store.call_record(conn, call_id)
    if call is None and await store.has_calls(conn):
        raise NotFound("Звонок не найден", fields=[{"field": "call_id", "message": "не найден"}])
    values = {**values, "call_id": call_id, "source": "phone"}
    if call:
        if not values.get("applicant_phone"):
            values["applicant_phone"] = next((str(call[k]) for k in _CALL_NUMBER_KEYS if call.get(k)), "")[:32]
        if values.get("account_id") is None and isinstance(call.get("account_id"), int):
            values["account_id"] = call["account_id"]
    values.setdefault("operator_id", user_id)
    return await create_appeal(conn, values, user_id=user_id)


async def appeal_card(conn: AsyncConnection, appeal_id: int, timezone: str) -> dict[str, Any]:
    """The appeal with `telephonograms`: those in force on the day it was received for its house."""
    appeal = await store.get_appeal(conn, appeal_id)
    if appeal is None:
        raise NotFound("Обращение не найдено")
    appeal["telephonograms"] = []
    if appeal["house_id"] is not None:
        day: date = appeal["received_at"].astimezone(ZoneInfo(timezone)).date()
        appeal["telephonograms"] = await affecting(conn, appeal["house_id"], day, zone=timezone)
    return appeal


def event_data(appeal: dict[str, Any], changed: list[str] | None = None) -> dict[str, Any]:
    """What `appeal.created` / `appeal.updated` carry (no free text beyond the subject)."""
    data = {k: appeal.get(k) for k in ("id", "number", "kind", "kind_name", "source", "status", "operator_id",
                                       "operator_name", "account_id", "account_number", "house_id", "address",
                                       "applicant_name", "subject", "received_at")}
    if changed is not None:
        data["changed"] = changed
    return data
