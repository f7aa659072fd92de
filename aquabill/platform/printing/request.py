"""What a printing is asked to print, checked before the job starts (and again by the job): the month, the
accounts (the whole tenant, a house, a street or a delivery method) and how the files are cut (by house or N
receipts a file)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import DELIVERY
from aquabill.platform.printing.plan import bundle_policy

MAX_ID = 2_147_483_647
FILTER_KEYS = ("house_id", "street_id", "delivery")
DELIVERY_TITLES = {"paper": "бумажная квитанция", "email": "по электронной почте", "portal": "в личном кабинете"}


@dataclass(frozen=True, slots=True)
class PrintRequest:
    period: Period
    filter: dict[str, Any]  # {} or one of FILTER_KEYS
    by: str  # 'house' | 'count'
    size: int | None

    def params(self) -> dict[str, Any]:
        return {"period": str(self.period), "filter": self.filter,
                "bundle": "house" if self.by == "house" else self.size}


def _id(raw: Any, field: str, what: str) -> int:
    try:
        value = int(str(raw).strip()) if not isinstance(raw, bool) else 0
    except ValueError:
        value = 0
    if not 0 < value <= MAX_ID:
        raise Invalid(f"{what}: укажите его из списка", field=field)
    return value


def parse_request(params: dict[str, Any]) -> PrintRequest:
    """The job's parameters: `period` ГГГГ-ММ, `filter` ({} / {"house_id"} / {"street_id"} / {"delivery"}),
    `bundle` ('house' or N)."""
    try:
        period = Period.parse(str(params.get("period") or ""))
    except ValueError as exc:
        raise Invalid("Месяц печати: укажите его как ГГГГ-ММ", field="period") from exc
    raw = params.get("filter") or {}
    if not isinstance(raw, dict):
        raise Invalid("Отбор лицевых счетов: ожидается объект", field="filter")
    given = {k: v for k, v in raw.items() if v not in (None, "")}
    unknown = set(given) - set(FILTER_KEYS)
    if unknown or len(given) > 1:
        raise Invalid("Отбор: весь расчётный центр, один дом (house_id), одна улица (street_id) или способ "
                      "доставки (delivery)", field="filter")
    flt: dict[str, Any] = {}
    if "house_id" in given:
        flt["house_id"] = _id(given["house_id"], "house_id", "Дом")
    elif "street_id" in given:
        flt["street_id"] = _id(given["street_id"], "street_id", "Улица")
    elif "delivery" in given:
        if given["delivery"] not in DELIVERY:
            raise Invalid(f"Способ доставки: {', '.join(DELIVERY)}", field="delivery")
        flt["delivery"] = given["delivery"]
    by, size = bundle_policy(params.get("bundle"))
    return PrintRequest(period, flt, by, size)


async def check_request(conn: AsyncConnection, req: PrintRequest) -> None:
    """The house or street of the filter exists."""
    for key, table, what in (("house_id", "houses", "Дом"), ("street_id", "streets", "Улица")):
        if key in req.filter:
            found = (await conn.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"), {"id": req.filter[key]})).first()
            if found is None:
                raise Invalid(f"{what} #{req.filter[key]} не найден{'а' if key == 'street_id' else ''}", field=key)


async def filter_title(conn: AsyncConnection, flt: dict[str, Any]) -> str:
    """The filter in words, for the lists."""
    if "house_id" in flt:
        row = (await conn.execute(text(
            "SELECT concat_ws(' ', st.kind, st.name) || ', д. ' || h.number FROM houses h "
            "JOIN streets st ON st.id = h.street_id WHERE h.id = :id"), {"id": flt["house_id"]})).scalar()
        return f"Дом: {row or '#' + str(flt['house_id'])}"
    if "street_id" in flt:
        row = (await conn.execute(text("SELECT concat_ws(' ', kind, name) FROM streets WHERE id = :id"),
                                  {"id": flt["street_id"]})).scalar()
        return f"Улица: {row or '#' + str(flt['street_id'])}"
    if "delivery" in flt:
        return f"Доставка: {DELIVERY_TITLES.get(flt['delivery'], flt['delivery'])}"
    return "Все лицевые счета"
