"""Cash points: the places where cashiers take money (an office window), with the settlement address and place
printed on receipts, the tax system and the VAT of the utility's own services; each with its edge agents.

A point's agents come with what they last reported of their devices (the register's model, serial, FN number,
shift) and when they were last seen; whether an agent is connected right now is known to the gateway's session
book in Redis (channels/edge/sessions.py), which the web layer asks and puts in `online`. Here `online` is only a
guess from `last_seen_at` (the agent pings every 15 s), for callers without Redis.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound

# Tag 1055 «применяемая система налогообложения» (a bitmask; one system per point), FFD 1.05–1.2 per FNS order
# ЕД-7-20/662@ of 14.09.2020 (t0030's CHECK cash_points_tax_system allows exactly these values).
TAX_SYSTEMS = {1: "ОСН", 2: "УСН доход", 4: "УСН доход минус расход", 8: "ЕНВД", 16: "ЕСХН", 32: "ПСН"}
# ЕНВД is not applied since 01.01.2021 (chapter 26.3 of the Tax Code lost force: part 8 of art. 5 of Federal Law
# 97-FZ of 29.06.2012): a point may not choose it any more.
TAX_SYSTEMS_CLOSED = {8: "ЕНВД не применяется с 01.01.2021"}
# The VAT of the utility's own services on the receipt ('none' or a rate; the receipt takes the rate dated by the
# day of settlement, cash/vat.py). t0030's CHECK cash_points_vat allows exactly these values.
VATS = {"none": "без НДС", "0": "НДС 0 %", "10": "НДС 10 %", "20": "НДС 20 %", "22": "НДС 22 %",
        "10/110": "НДС 10/110", "20/120": "НДС 20/120", "22/122": "НДС 22/122"}
CASH_LIMIT_MAX = Decimal("999999999999.99")  # NUMERIC(14, 2)
NAME_MAX, ADDRESS_MAX, PLACE_MAX = 200, 500, 200
ONLINE_SECONDS = 45  # three missed pings (the agent pings every 15 s)

AGENT_TIMES = ("last_seen_at", "enrolled_at", "revoked_at", "created_at")
COLUMNS = "id, name, address, place, tax_system, vat, cash_limit, active, created_at"
AGENTS_JSON = """coalesce((
    SELECT json_agg(json_build_object(
        'id', a.id, 'name', a.name, 'status', a.status, 'version', a.version, 'device', a.device,
        'last_seen_at', a.last_seen_at, 'last_address', a.last_address, 'enrolled_at', a.enrolled_at,
        'revoked_at', a.revoked_at, 'created_at', a.created_at,
        'fresh', coalesce(a.last_seen_at > now() - make_interval(secs => :online), false)) ORDER BY a.id)
    FROM edge_agents a WHERE a.cash_point_id = p.id), '[]')"""


def _text(value: Any, field: str, label: str, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{label}: ожидается текст", field=field)
    value = value.strip()
    if required and not value:
        raise Invalid(f"Укажите {label.lower()}", field=field)
    if len(value) > limit:
        raise Invalid(f"{label}: не длиннее {limit} символов", field=field)
    if any(ord(ch) < 32 for ch in value):
        raise Invalid(f"{label}: недопустимые символы", field=field)
    return value


def parse_tax_system(value: Any) -> int:
    try:
        code = int(value)
    except (TypeError, ValueError):
        code = -1
    if isinstance(value, bool) or code not in TAX_SYSTEMS:
        raise Invalid("Система налогообложения: выберите одну из ОСН, УСН доход, УСН доход минус расход, ЕСХН, "
                      "ПСН", field="tax_system")
    if code in TAX_SYSTEMS_CLOSED:
        raise Invalid(f"Система налогообложения: {TAX_SYSTEMS_CLOSED[code]}", field="tax_system")
    return code


def parse_vat(value: Any) -> str:
    if not isinstance(value, str) or value.strip() not in VATS:
        raise Invalid("НДС: выберите «без НДС» или ставку (0, 10, 20, 22 %, 10/110, 20/120, 22/122)", field="vat")
    return value.strip()


def parse_cash_limit(value: Any) -> Decimal:
    """The cash balance limit (Bank of Russia Directive 3210-U of 11.03.2014, p. 2): rubles and kopecks, exact
    (no rounding: a third decimal place is refused)."""
    try:
        amount = Decimal(str(value).replace(" ", "").replace("\u00a0", "").replace(",", ".")) \
            if not isinstance(value, bool) and value is not None else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise Invalid("Лимит остатка кассы: ожидается сумма, например 50000,00", field="cash_limit")
    if amount < 0 or amount > CASH_LIMIT_MAX:
        raise Invalid("Лимит остатка кассы: от 0 до 999 999 999 999,99", field="cash_limit")
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid("Лимит остатка кассы: не больше двух знаков после запятой", field="cash_limit")
    return amount.quantize(Decimal("0.01"))


def check_values(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The point's fields checked and normalised; `partial`: only those given (an update)."""
    out: dict[str, Any] = {}
    if "name" in values or not partial:
        out["name"] = _text(values.get("name", ""), "name", "Название кассы", NAME_MAX, required=True)
    if "address" in values or not partial:
        out["address"] = _text(values.get("address", ""), "address", "Адрес расчётов", ADDRESS_MAX)
    if "place" in values or not partial:
        out["place"] = _text(values.get("place", ""), "place", "Место расчётов", PLACE_MAX)
    if "tax_system" in values or not partial:
        out["tax_system"] = parse_tax_system(values.get("tax_system", 1))
    if "vat" in values or not partial:
        out["vat"] = parse_vat(values.get("vat", "none"))
    if "cash_limit" in values or not partial:
        out["cash_limit"] = parse_cash_limit(values.get("cash_limit", "0"))
    if "active" in values:
        if not isinstance(values["active"], bool):
            raise Invalid("Действует: да или нет", field="active")
        out["active"] = values["active"]
    return out


def _point(row) -> dict[str, Any]:
    d = dict(row._mapping)
    agents = d.pop("agents", None)
    if agents is not None:
        agents = json.loads(agents) if isinstance(agents, str) else agents
        for a in agents:
            a["online"] = a.pop("fresh")
            for k in AGENT_TIMES:  # json_agg gives times as ISO text
                if isinstance(a.get(k), str):
                    a[k] = datetime.fromisoformat(a[k])
        d["agents"] = agents
    return d


async def _name_taken(conn: AsyncConnection, name: str, point_id: int | None = None) -> bool:
    return (await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM cash_points WHERE lower(name) = lower(:n) AND id IS DISTINCT FROM :i)"),
        {"n": name, "i": point_id})).scalar_one()


def _taken(name: str) -> Conflict:
    return Conflict(f"Касса «{name}» уже есть: выберите другое название", field="name")


async def create_point(conn: AsyncConnection, values: dict[str, Any]) -> dict[str, Any]:
    v = check_values(values, partial=False)
    if await _name_taken(conn, v["name"]):
        raise _taken(v["name"])
    row = (await conn.execute(text(f"""
        INSERT INTO cash_points(name, address, place, tax_system, vat, cash_limit)
        VALUES (:name, :address, :place, :tax_system, :vat, :cash_limit)
        ON CONFLICT ON CONSTRAINT cash_points_name DO NOTHING
        RETURNING {COLUMNS}"""), v)).first()
    if row is None:  # the same name committed meanwhile
        raise _taken(v["name"])
    return {**_point(row), "agents": []}


async def update_point(conn: AsyncConnection, point_id: int, values: dict[str, Any]) -> dict[str, Any]:
    v = check_values(values, partial=True)
    await get_point(conn, point_id)
    if "name" in v and await _name_taken(conn, v["name"], point_id):
        raise _taken(v["name"])
    if v:
        sets = ", ".join(f"{k} = :{k}" for k in v)
        try:
            async with conn.begin_nested():  # a name taken by a concurrent transaction: refused, not a 5xx
                await conn.execute(text(f"UPDATE cash_points SET {sets} WHERE id = :id"), {**v, "id": point_id})
        except IntegrityError as exc:
            raise _taken(v.get("name", "")) from exc
    return await get_point(conn, point_id)


async def get_point(conn: AsyncConnection, point_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"SELECT {COLUMNS}, {AGENTS_JSON} AS agents FROM cash_points p WHERE id = :i"),
                              {"i": point_id, "online": ONLINE_SECONDS})).first()
    if row is None:
        raise NotFound("Касса не найдена")
    return _point(row)


async def list_points(conn: AsyncConnection, *, limit: int = 50, offset: int = 0,
                      active_only: bool = False) -> tuple[list[dict[str, Any]], int]:
    """The points by name, each with its agents; (page, total)."""
    where = "WHERE p.active" if active_only else ""
    rows = await conn.execute(text(f"""
        SELECT {', '.join('p.' + c.strip() for c in COLUMNS.split(','))}, {AGENTS_JSON} AS agents
        FROM cash_points p {where} ORDER BY p.name, p.id LIMIT :l OFFSET :o"""),
        {"l": limit, "o": offset, "online": ONLINE_SECONDS})
    total = (await conn.execute(text(f"SELECT count(*) FROM cash_points p {where}"))).scalar_one()
    return [_point(r) for r in rows], total
