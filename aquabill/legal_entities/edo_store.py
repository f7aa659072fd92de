"""The EDO operator's settings (`edo_settings`, one row per operator: 'diadoc') and the list of messages sent.

The API password is stored sealed: the web layer seals it (`platform/secret_box.py`) and hands the bytes here;
the domain never sees it in the clear. Nothing here commits."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid

OPERATOR = "diadoc"
OPERATORS = {"diadoc": "Контур.Диадок"}
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_PARTICIPANT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{3,45}$")  # as fns_upd/naming.py: 4..46, no "_"
_COLUMNS = "id, operator, enabled, api_url, box_id, participant_id, client_id, secret IS NOT NULL AS has_secret, " \
           "updated_at, updated_by"


async def get_settings(conn: AsyncConnection, operator: str = OPERATOR) -> dict[str, Any] | None:
    row = (await conn.execute(text(f"SELECT {_COLUMNS} FROM edo_settings WHERE operator = :op"),
                              {"op": operator})).mappings().first()
    return dict(row) if row is not None else None


async def sealed_secret(conn: AsyncConnection, operator: str = OPERATOR) -> bytes | None:
    return (await conn.execute(text("SELECT secret FROM edo_settings WHERE operator = :op"), {"op": operator})).scalar()


async def require_enabled(conn: AsyncConnection) -> dict[str, Any]:
    settings = await get_settings(conn)
    if settings is None or not settings["enabled"]:
        raise Invalid("Обмен через ЭДО не включён: настройте оператора на странице «ЭДО» (/legal/edo)",
                      field="edo")
    return settings


def check_settings(*, enabled: bool, api_url: str, client_id: str, box_id: str, participant_id: str,
                   login: str, has_secret: bool) -> dict[str, Any]:
    api_url, client_id, box_id = api_url.strip().rstrip("/"), client_id.strip(), box_id.strip()
    participant_id, login = participant_id.strip(), login.strip()
    if api_url and not _URL.match(api_url):
        raise Invalid("Адрес API: ожидается http(s)://…", field="api_url")
    if participant_id and not _PARTICIPANT.match(participant_id):
        raise Invalid("Идентификатор участника ЭДО: от 4 до 46 латинских букв, цифр или дефисов",
                      field="participant_id")
    if enabled:
        for value, name, label in ((api_url, "api_url", "адрес API"), (client_id, "client_id", "ключ разработчика"),
                                   (login, "login", "логин"), (box_id, "box_id", "ящик организации"),
                                   (participant_id, "participant_id", "идентификатор участника ЭДО")):
            if not value:
                raise Invalid(f"Чтобы включить обмен, укажите {label}", field=name)
        if not has_secret:
            raise Invalid("Чтобы включить обмен, укажите пароль", field="password")
    for value, name in ((client_id, "client_id"), (box_id, "box_id"), (login, "login")):
        if len(value) > 200:
            raise Invalid("Не длиннее 200 символов", field=name)
    return {"enabled": enabled, "api_url": api_url, "client_id": client_id, "box_id": box_id,
            "participant_id": participant_id}


async def save_settings(conn: AsyncConnection, values: dict[str, Any], *, sealed: bytes | None,
                        user_id: int | None, operator: str = OPERATOR) -> dict[str, Any]:
    """Insert or update the operator's row; `sealed` None keeps the stored secret."""
    await conn.execute(text(
        "INSERT INTO edo_settings(operator, enabled, api_url, client_id, box_id, participant_id, secret, updated_by) "
        "VALUES (:op, :enabled, :api_url, :client_id, :box_id, :participant_id, :secret, :u) "
        "ON CONFLICT (operator) DO UPDATE SET enabled = EXCLUDED.enabled, api_url = EXCLUDED.api_url, "
        "client_id = EXCLUDED.client_id, box_id = EXCLUDED.box_id, participant_id = EXCLUDED.participant_id, "
        "secret = coalesce(EXCLUDED.secret, edo_settings.secret), updated_at = now(), updated_by = EXCLUDED.updated_by"),
        {**values, "op": operator, "secret": sealed, "u": user_id})
    result = await get_settings(conn, operator)
    assert result is not None
    return result


async def list_messages(conn: AsyncConnection, *, status: str | None = None, q: str = "", limit: int = 50,
                        offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Messages, newest first, with their document and counterparty; by status, document number or the
    counterparty's name / INN."""
    where, params = ["true"], {"limit": limit, "offset": offset}
    if status is not None:
        where.append("m.status = :status")
        params["status"] = status
    q = q.strip()
    if q:
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("(lower(d.number) LIKE :like OR lower(c.name) LIKE :like OR c.inn LIKE :prefix)")
        params.update(like=f"%{escaped}%", prefix=escaped + "%")
    cond = " AND ".join(where)
    base = ("FROM edo_messages m JOIN legal_documents d ON d.id = m.document_id "
            "JOIN counterparties c ON c.id = d.counterparty_id")
    rows = (await conn.execute(text(
        "SELECT m.id, m.document_id, m.status, m.reason, m.attempts, m.message_id, m.created_at, m.updated_at, "
        "d.kind, d.number, d.issued_on, d.amount, c.id AS counterparty_id, "
        f"coalesce(nullif(c.short_name, ''), c.name) AS counterparty, c.inn {base} WHERE {cond} "
        "ORDER BY m.id DESC LIMIT :limit OFFSET :offset"), params)).mappings().all()
    total = (await conn.execute(text(f"SELECT count(*) {base} WHERE {cond}"), params)).scalar_one()
    return [dict(r) for r in rows], total
