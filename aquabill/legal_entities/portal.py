"""Organisations on the subscribers' portal: the one-time codes staff hand to an organisation, a portal user
(a `subscribers` row, the individuals' identity) linking itself to the organisation with its INN and such a code,
the guard every organisation page calls (`require_linked`), and the staff's view and revocation of the links.

The code: 10 characters of the edge enrollment codes' alphabet (`aquabill.cash.agents`: no 0/O, 1/I), shown once
as `XXXXX-XXXXX`, valid `INVITE_DAYS` days; only its SHA-256 is stored (org_portal_invites.code_sha256), and a new
code voids the counterparty's unused ones. A code is used once: the statement that checks it marks it used, so two
people typing the same code at the same moment get one link between them.

Linking counts attempts exactly as linking a personal account does (`aquabill.subscribers.links`: the table
`link_attempts`, actor `subscriber:<id>`, `MAX_FAILURES` failures an hour), and a wrong INN, a wrong code, a used or
an expired one all get the very same refusal (no enumeration of organisations or codes).

A link is revoked, never deleted (staff on the counterparty card, with the user). org_portal_invites and
subscriber_counterparties are audited by their triggers (t0033): the staff user comes with the transaction, the
portal user with `aquabill.subscriber_id`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.cash.agents import code_hash, format_code, new_code, normalize_code
from aquabill.subscribers.links import actor_of, record_failure, refuse_when_limited

INVITE_DAYS = 14
ORG_LINK_REFUSAL = ("ИНН или код доступа не подходят. Проверьте их или попросите у поставщика новый код "
                    "(код действует 14 дней и только один раз).")
NOT_LINKED = "Организация не найдена"

_COUNTERPARTY = ("SELECT c.id, c.kind, c.inn, c.kpp, c.name, coalesce(nullif(c.short_name, ''), c.name) AS display_name "
                 "FROM counterparties c ")


def _clean_inn(raw: Any) -> str | None:
    """The INN as typed (spaces ignored): 10 or 12 digits, else None."""
    if not isinstance(raw, str):
        return None
    digits = re.sub(r"\s", "", raw)
    return digits if re.fullmatch(r"\d{10}|\d{12}", digits) else None


# ---- staff: the codes ----------------------------------------------------------------------------------------

async def _counterparty(conn: AsyncConnection, counterparty_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (await conn.execute(text(_COUNTERPARTY + "WHERE c.id = :id" + (" FOR UPDATE" if lock else "")),
                              {"id": counterparty_id})).first()
    if row is None:
        raise NotFound("Контрагент не найден")
    return dict(row._mapping)


async def issue_invite(conn: AsyncConnection, counterparty_id: int, *, user_id: int | None) -> dict[str, Any]:
    """A new one-time code for the organisation (its unused codes are voided): the code as shown, once, and
    until when it is valid. The counterparty's row is locked: two issues at once run one after the other."""
    await _counterparty(conn, counterparty_id, lock=True)
    await conn.execute(text(
        "UPDATE org_portal_invites SET expires_at = now() "
        "WHERE counterparty_id = :c AND used_at IS NULL AND expires_at > now()"), {"c": counterparty_id})
    while True:  # 32^10 codes: a collision with a stored hash is practically impossible, but cheap to rule out
        code = new_code()
        row = (await conn.execute(text("""
            INSERT INTO org_portal_invites(counterparty_id, code_sha256, expires_at, created_by)
            VALUES (:c, :h, now() + make_interval(days => :days), :u)
            ON CONFLICT (code_sha256) DO NOTHING RETURNING id, expires_at"""),
            {"c": counterparty_id, "h": code_hash(code), "days": INVITE_DAYS, "u": user_id})).first()
        if row is not None:
            return {"id": row.id, "counterparty_id": counterparty_id, "code": format_code(code),
                    "expires_at": row.expires_at}


async def live_invite(conn: AsyncConnection, counterparty_id: int) -> dict[str, Any] | None:
    """The organisation's code still waiting to be used (when it was issued, by whom, until when), or None."""
    row = (await conn.execute(text(
        "SELECT i.id, i.created_at, i.expires_at, coalesce(nullif(u.full_name, ''), u.login) AS created_by_name "
        "FROM org_portal_invites i LEFT JOIN users u ON u.id = i.created_by "
        "WHERE i.counterparty_id = :c AND i.used_at IS NULL AND i.expires_at > now() "
        "ORDER BY i.id DESC LIMIT 1"), {"c": counterparty_id})).first()
    return dict(row._mapping) if row is not None else None


# ---- the portal user's side ------------------------------------------------------------------------------------

async def link_organisation(conn: AsyncConnection, subscriber_id: int, inn: Any, code: Any) -> dict[str, Any]:
    """Link the organisation whose INN is `inn` to the portal user with a live code of that organisation;
    the organisation (id, inn, kpp, name, display_name). Linking one already linked uses the code and
    returns it. A refusal is the same `Invalid` for every reason; too many refusals → `Conflict`."""
    actor = actor_of(subscriber_id)
    await refuse_when_limited(conn, actor)
    inn_value, code_value = _clean_inn(inn), normalize_code(code)
    row = None
    if inn_value is not None and code_value is not None:
        row = (await conn.execute(text("""
            UPDATE org_portal_invites i SET used_at = now(), used_by = :s
            FROM counterparties c
            WHERE i.code_sha256 = :h AND i.used_at IS NULL AND i.expires_at > now()
              AND c.id = i.counterparty_id AND c.inn = :inn AND c.active
            RETURNING c.id"""), {"s": subscriber_id, "h": code_hash(code_value), "inn": inn_value})).first()
    if row is None:
        await record_failure(conn, actor)
        raise Invalid(ORG_LINK_REFUSAL, field="code")
    await conn.execute(text("INSERT INTO link_attempts(actor, ok) VALUES (:a, true)"), {"a": actor})
    await conn.execute(text(
        "INSERT INTO subscriber_counterparties(subscriber_id, counterparty_id) VALUES (:s, :c) "
        "ON CONFLICT (subscriber_id, counterparty_id) WHERE revoked_at IS NULL DO NOTHING"),
        {"s": subscriber_id, "c": row.id})
    return await _counterparty(conn, row.id)


async def linked_organisations(conn: AsyncConnection, subscriber_id: int) -> list[dict[str, Any]]:
    """The portal user's live linked organisations, by name."""
    rows = await conn.execute(text(
        _COUNTERPARTY + "WHERE c.id IN (SELECT counterparty_id FROM subscriber_counterparties "
        "WHERE subscriber_id = :s AND revoked_at IS NULL) ORDER BY display_name, c.id"), {"s": subscriber_id})
    return [dict(r._mapping) for r in rows]


async def require_linked(conn: AsyncConnection, subscriber_id: int, counterparty_id: int) -> dict[str, Any]:
    """The organisation when it is linked (live) to the portal user; else `NotFound` — the same answer as for
    an organisation that does not exist."""
    row = (await conn.execute(text(
        _COUNTERPARTY + "JOIN subscriber_counterparties l ON l.counterparty_id = c.id "
        "WHERE c.id = :c AND l.subscriber_id = :s AND l.revoked_at IS NULL"),
        {"c": counterparty_id, "s": subscriber_id})).first()
    if row is None:
        raise NotFound(NOT_LINKED)
    return dict(row._mapping)


# ---- staff: the links ------------------------------------------------------------------------------------------

_LINKS = ("SELECT l.id, l.subscriber_id, l.counterparty_id, l.linked_at, l.revoked_at, l.revoked_by, "
          "s.full_name, s.email, s.phone, coalesce(nullif(u.full_name, ''), u.login) AS revoked_by_name "
          "FROM subscriber_counterparties l JOIN subscribers s ON s.id = l.subscriber_id "
          "LEFT JOIN users u ON u.id = l.revoked_by ")


async def organisation_links(conn: AsyncConnection, counterparty_id: int) -> list[dict[str, Any]]:
    """The portal users linked to the organisation: live links first, then the revoked ones."""
    rows = await conn.execute(text(
        _LINKS + "WHERE l.counterparty_id = :c ORDER BY l.revoked_at IS NOT NULL, l.linked_at DESC, l.id DESC"),
        {"c": counterparty_id})
    return [dict(r._mapping) for r in rows]


async def revoke_link(conn: AsyncConnection, counterparty_id: int, link_id: int, *,
                      user_id: int | None) -> dict[str, Any]:
    """Staff revoke a portal user's link to the organisation: from now on its pages are closed to that user."""
    row = (await conn.execute(text(
        "SELECT id, revoked_at FROM subscriber_counterparties WHERE id = :id AND counterparty_id = :c FOR UPDATE"),
        {"id": link_id, "c": counterparty_id})).first()
    if row is None:
        raise NotFound("Доступ не найден")
    if row.revoked_at is not None:
        raise Conflict("Доступ уже отозван")
    await conn.execute(text("UPDATE subscriber_counterparties SET revoked_at = now(), revoked_by = :u WHERE id = :id"),
                       {"id": link_id, "u": user_id})
    return dict((await conn.execute(text(_LINKS + "WHERE l.id = :id"), {"id": link_id})).one()._mapping)
