"""Queries on appeals and their kinds (the journal with its filters, one appeal, insert, update)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import column, func, table, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

SOURCES = {"phone": "Телефон", "email": "Электронная почта", "visit": "Личный приём", "portal": "Личный кабинет",
           "bot": "Чат-бот", "letter": "Письмо"}
STATUSES = {"new": "Новое", "in_work": "В работе", "answered": "Дан ответ", "closed": "Закрыто"}

# the address of a house (and premise) as the registry writes it
ADDRESS_SQL = """concat_ws(', ', concat_ws(' ', s.kind, s.name), concat_ws(' ', st.kind, st.name), 'д. ' || h.number,
                 nullif('кв. ' || coalesce(p.number, ''), 'кв. '))"""

_SELECT = f"""
SELECT a.id, a.number, a.received_at, k.code AS kind, k.name AS kind_name, a.source, a.status, a.account_id,
       acc.number AS account_number, a.house_id, a.premise_id,
       coalesce(nullif(a.address_text, ''), CASE WHEN h.id IS NOT NULL THEN {ADDRESS_SQL} END, '') AS address,
       a.applicant_name, a.applicant_phone, a.applicant_email, a.subject, a.text, a.result,
       a.operator_id, coalesce(nullif(u.full_name, ''), u.login) AS operator_name, a.call_id, a.mail_message_id,
       a.answered_at, a.closed_at, a.created_at, a.created_by, a.updated_at
FROM appeals a
JOIN appeal_kinds k ON k.id = a.kind_id
LEFT JOIN accounts acc ON acc.id = a.account_id
LEFT JOIN houses h ON h.id = a.house_id
LEFT JOIN premises p ON p.id = a.premise_id
LEFT JOIN streets st ON st.id = h.street_id
LEFT JOIN settlements s ON s.id = st.settlement_id
LEFT JOIN users u ON u.id = a.operator_id
"""

EDITABLE = ("kind_id", "status", "account_id", "house_id", "premise_id", "address_text", "applicant_name",
            "applicant_phone", "applicant_email", "subject", "text", "result", "operator_id", "call_id")
# what an update may set: the editable fields and the times the status sets
_APPEALS = table("appeals", column("id"), column("updated_at"),
                 *(column(c) for c in (*EDITABLE, "answered_at", "closed_at")))


@dataclass(frozen=True, slots=True)
class AppealFilter:
    date_from: date | None = None
    date_to: date | None = None
    operator_id: int | None = None
    house_id: int | None = None
    address: str = ""  # part of the address text
    result: str = ""  # part of the result text
    kind: str | None = None  # kind code
    source: str | None = None
    status: str | None = None
    account_id: int | None = None
    q: str = ""  # number, applicant, phone, e-mail, subject or text
    zone: str = "Europe/Moscow"  # the days of the period are the organisation's days

    def where(self) -> tuple[str, dict[str, Any]]:
        conds, args = [], {}
        if self.date_from:
            conds.append("a.received_at >= :date_from")
            args["date_from"] = datetime.combine(self.date_from, time(0), ZoneInfo(self.zone))
        if self.date_to:
            conds.append("a.received_at < :date_to")
            args["date_to"] = datetime.combine(self.date_to + timedelta(days=1), time(0), ZoneInfo(self.zone))
        for col, name in (("a.operator_id", "operator_id"), ("a.house_id", "house_id"),
                          ("a.account_id", "account_id"), ("a.source", "source"), ("a.status", "status"),
                          ("k.code", "kind")):
            value = getattr(self, name)
            if value is not None and value != "":
                conds.append(f"{col} = :{name}")
                args[name] = value
        if self.address.strip():
            conds.append(f"(a.address_text ILIKE :address OR (h.id IS NOT NULL AND {ADDRESS_SQL} ILIKE :address))")
            args["address"] = f"%{_like(self.address.strip())}%"
        if self.result.strip():
            conds.append("a.result ILIKE :result")
            args["result"] = f"%{_like(self.result.strip())}%"
        if self.q.strip():
            conds.append("(a.number ILIKE :q OR a.applicant_name ILIKE :q OR a.applicant_phone ILIKE :q "
                         "OR a.applicant_email ILIKE :q OR a.subject ILIKE :q OR a.text ILIKE :q "
                         "OR acc.number = :q_exact)")
            args["q"], args["q_exact"] = f"%{_like(self.q.strip())}%", self.q.strip()
        return (" WHERE " + " AND ".join(conds)) if conds else "", args


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_appeals(conn: AsyncConnection, f: AppealFilter, *, limit: int = 50,
                       offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    where, args = f.where()
    rows = (await conn.execute(text(_SELECT + where + " ORDER BY a.received_at DESC, a.id DESC "
                                    "LIMIT :limit OFFSET :offset"), {**args, "limit": limit, "offset": offset})).all()
    total = (await conn.execute(text(
        "SELECT count(*) FROM appeals a JOIN appeal_kinds k ON k.id = a.kind_id "
        "LEFT JOIN accounts acc ON acc.id = a.account_id LEFT JOIN houses h ON h.id = a.house_id "
        "LEFT JOIN premises p ON p.id = a.premise_id LEFT JOIN streets st ON st.id = h.street_id "
        "LEFT JOIN settlements s ON s.id = st.settlement_id" + where), args)).scalar_one()
    return [dict(r._mapping) for r in rows], total


async def get_appeal(conn: AsyncConnection, appeal_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(text(_SELECT + " WHERE a.id = :id"), {"id": appeal_id})).first()
    return dict(row._mapping) if row else None


async def insert_appeal(conn: AsyncConnection, values: dict[str, Any]) -> int:
    cols = list(values)
    return (await conn.execute(text(
        f"INSERT INTO appeals({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) RETURNING id"),
        values)).scalar_one()


async def update_appeal(conn: AsyncConnection, appeal_id: int, values: dict[str, Any]) -> bool:
    res = await conn.execute(update(_APPEALS).where(_APPEALS.c.id == appeal_id)
                             .values({**values, "updated_at": func.now()}))
    return res.rowcount == 1


async def list_kinds(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(text("SELECT id, code, name, active FROM appeal_kinds ORDER BY id"))
    return [dict(r._mapping) for r in rows]


async def kind_id(conn: AsyncConnection, code: str) -> int | None:
    return (await conn.execute(text("SELECT id FROM appeal_kinds WHERE code = :c"), {"c": code})).scalar()


async def account_place(conn: AsyncConnection, account_id: int) -> dict[str, Any] | None:
    """An account's premise, house and address (None when the account does not exist)."""
    row = (await conn.execute(text(
        f"SELECT acc.id, acc.number, acc.holder, acc.phone, acc.email, p.id AS premise_id, h.id AS house_id, "
        f"{ADDRESS_SQL} AS address FROM accounts acc JOIN premises p ON p.id = acc.premise_id "
        "JOIN houses h ON h.id = p.house_id JOIN streets st ON st.id = h.street_id "
        "JOIN settlements s ON s.id = st.settlement_id WHERE acc.id = :id"), {"id": account_id})).first()
    return dict(row._mapping) if row else None


async def house_address(conn: AsyncConnection, house_id: int, premise_id: int | None = None) -> str | None:
    """The house's (and premise's) address; None when the house (or the premise in it) does not exist."""
    row = (await conn.execute(text(
        f"SELECT {ADDRESS_SQL} FROM houses h JOIN streets st ON st.id = h.street_id "
        "JOIN settlements s ON s.id = st.settlement_id "
        "LEFT JOIN premises p ON p.id = CAST(:premise_id AS int) AND p.house_id = h.id WHERE h.id = :house_id "
        "AND (CAST(:premise_id AS int) IS NULL OR p.id IS NOT NULL)"),
        {"house_id": house_id, "premise_id": premise_id})).first()
    return row[0] if row else None


async def accounts_by_numbers(conn: AsyncConnection, numbers: list[str]) -> dict[str, int]:
    if not numbers:
        return {}
    rows = await conn.execute(text("SELECT number, id FROM accounts WHERE number = ANY(:n)"), {"n": numbers})
    return {n: i for n, i in rows}


async def user_exists(conn: AsyncConnection, user_id: int) -> bool:
    return bool((await conn.execute(text("SELECT EXISTS (SELECT 1 FROM users WHERE id = :id)"),
                                    {"id": user_id})).scalar())


async def has_calls(conn: AsyncConnection) -> bool:
    """Whether the telephony call journal (t0008) exists in this schema."""
    return bool((await conn.execute(text("SELECT to_regclass('calls') IS NOT NULL"))).scalar())


async def call_record(conn: AsyncConnection, call_id: int) -> dict[str, Any] | None:
    """The call record with that id as a dict of its columns (None when there is none, or no call journal)."""
    if not await has_calls(conn):
        return None
    row = (await conn.execute(text("SELECT to_jsonb(c) FROM calls c WHERE c.id = :id"), {"id": call_id})).first()
    return row[0] if row else None


def moment(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def appeal_origin(conn: AsyncConnection, appeal_id: int) -> dict[str, Any] | None:
    """What a request made from the appeal takes over: its account, house, address as typed, subject and text."""
    row = (await conn.execute(text(
        "SELECT account_id, house_id, address_text, subject, text FROM appeals WHERE id = :i"),
        {"i": appeal_id})).first()
    return dict(row._mapping) if row else None
