"""Stored message templates (`notification_templates`): listed, read, written after `compile_template` checked
them, archived (campaigns keep their own copy of the text, so an archived template changes no campaign)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.notifications.templates import MessageTemplate, compile_template

COLUMNS = "id, code, title, subject, body, sound, archived, updated_at"


def _row(r) -> dict[str, Any]:
    return {"id": r.id, "code": r.code, "title": r.title, "subject": r.subject, "body": r.body, "sound": r.sound,
            "archived": r.archived, "updated_at": r.updated_at}


def check(title: str, template: MessageTemplate) -> str:
    title = " ".join(title.split())
    if not title:
        raise Invalid("Укажите название шаблона", field="title")
    if len(title) > 200:
        raise Invalid("Название — не длиннее 200 знаков", field="title")
    compile_template(template)
    return title


async def list_templates(conn: AsyncConnection, *, archived: bool = False) -> list[dict[str, Any]]:
    rows = await conn.execute(text(f"SELECT {COLUMNS} FROM notification_templates "
                                   "WHERE archived = false OR :a ORDER BY archived, title, id"), {"a": archived})
    return [_row(r) for r in rows]


async def get_template(conn: AsyncConnection, template_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"SELECT {COLUMNS} FROM notification_templates WHERE id = :i"),
                              {"i": template_id})).first()
    if row is None:
        raise NotFound("Шаблон не найден")
    return _row(row)


async def create_template(conn: AsyncConnection, title: str, template: MessageTemplate,
                          user_id: int | None) -> dict[str, Any]:
    title = check(title, template)
    row = (await conn.execute(text(
        f"INSERT INTO notification_templates(title, subject, body, sound, updated_by) VALUES (:t, :s, :b, :snd, :u) "
        f"RETURNING {COLUMNS}"), {"t": title, "s": template.subject, "b": template.body, "snd": template.sound,
                                  "u": user_id})).one()
    return _row(row)


async def update_template(conn: AsyncConnection, template_id: int, title: str, template: MessageTemplate,
                          user_id: int | None) -> dict[str, Any]:
    title = check(title, template)
    row = (await conn.execute(text(
        f"UPDATE notification_templates SET title = :t, subject = :s, body = :b, sound = :snd, updated_by = :u, "
        f"updated_at = now() WHERE id = :i RETURNING {COLUMNS}"),
        {"i": template_id, "t": title, "s": template.subject, "b": template.body, "snd": template.sound,
         "u": user_id})).first()
    if row is None:
        raise NotFound("Шаблон не найден")
    return _row(row)


async def archive_template(conn: AsyncConnection, template_id: int, user_id: int | None) -> None:
    found = (await conn.execute(text(
        "UPDATE notification_templates SET archived = true, updated_by = :u, updated_at = now() WHERE id = :i "
        "RETURNING id"), {"i": template_id, "u": user_id})).first()
    if found is None:
        raise NotFound("Шаблон не найден")
