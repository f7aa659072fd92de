"""A subscriber's personal accounts: linking one by its number plus a check value, the list, the guard every
portal and bot service calls (`require_linked`), unlinking, and the staff's view and revocation.

What proves an account is one's own is the tenant's setting `portal_link_check` (billing_settings):
'receipt_amount' — the sum to pay of the account's last receipt (the latest month with charges, as the
receipt staff print says it), or 'surname' — the first three letters of the holder's surname (ё = е, any
case). A wrong number and a wrong check value get the very same refusal (no enumeration of accounts).

Every attempt is written to `link_attempts` (actor `subscriber:<id>`); after `MAX_FAILURES` failures within
`WINDOW` the actor is refused (`Conflict`) until the oldest of them is an hour old. A failed attempt is
written in a transaction of its own (on the same database, schema and setting), so the refusal can roll the
caller's transaction back and still count.

A link is revoked, never deleted: by the subscriber (`unlink`, `revoked_by` NULL) or by staff on the account
card (`revoke_link`, with the user and a reason). Both are audited (the table has the audit triggers).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts.assemble import build_receipt
from aquabill.billing_core.registry.queries import HOUSE_ADDRESS
from aquabill.billing_core.run.queries import latest_charged_period

LINK_REFUSAL = "Лицевой счёт или проверочное значение не подходят"
NOT_LINKED = "Лицевой счёт не найден"
MAX_FAILURES = 5
WINDOW = timedelta(hours=1)
CHECKS = ("receipt_amount", "surname")
CHECK_HINTS = {
    "receipt_amount": "Сумма «Итого к оплате» из последней квитанции по этому счёту, например 1234,56",
    "surname": "Первые три буквы фамилии владельца лицевого счёта, например «Ива» для Иванова",
}
CHECK_LABELS = {"receipt_amount": "Сумма к оплате по последней квитанции", "surname": "Первые три буквы фамилии"}
VIAS = ("portal", "telegram", "max", "staff")

_ADDRESS = HOUSE_ADDRESS + " || coalesce(', кв. ' || nullif(p.number, ''), '')"
_ACCOUNT = ("SELECT a.id, a.number, a.holder, " + _ADDRESS + " AS address FROM accounts a "
            "JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id "
            "JOIN streets st ON st.id = h.street_id JOIN settlements se ON se.id = st.settlement_id ")


def _account(r) -> dict[str, Any]:
    return {"id": r.id, "number": r.number, "address": r.address, "holder": r.holder}


async def link_check_kind(conn: AsyncConnection) -> str:
    """What proves an account is one's own on this tenant: 'receipt_amount' or 'surname'."""
    value = (await conn.execute(text("SELECT value FROM billing_settings WHERE key = 'portal_link_check'"))).scalar()
    if isinstance(value, str) and value.startswith('"'):  # a driver without a jsonb codec gives the JSON text
        value = json.loads(value)
    return value if value in CHECKS else "receipt_amount"


# ---- the check value (pure) --------------------------------------------------------------------------------

def surname_prefix(value: str) -> str:
    """The first three letters of a surname (the first word of a holder's name), lower case, ё as е."""
    word = next(iter((value or "").split()), "")
    letters = re.sub(r"[^\w]", "", word.lower().replace("ё", "е"))
    return letters[:3]


def parse_amount(raw: str) -> Decimal | None:
    """`1 234,56` / `1234.56` / `1234,56 ₽` → Decimal('1234.56'); None when it is not a sum of money."""
    cleaned = re.sub(r"[\s\u00a0\u202f₽]|руб\.?|р\.?$", "", (raw or "").strip().lower()).replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value.quantize(Decimal("0.01")) if value.is_finite() and abs(value) < 10**12 else None


def check_matches(kind: str, typed: str, *, holder: str | None, receipt_due: Decimal | None) -> bool:
    if kind == "surname":
        expected, given = surname_prefix(holder or ""), surname_prefix(typed)
        return len(expected) >= 1 and len(given) == len(expected) and given == expected
    amount = parse_amount(typed)
    return receipt_due is not None and amount is not None and amount == receipt_due


# ---- attempts ----------------------------------------------------------------------------------------------

def actor_of(subscriber_id: int) -> str:
    return f"subscriber:{subscriber_id}"


async def refuse_when_limited(conn: AsyncConnection, actor: str) -> None:
    row = (await conn.execute(text(
        "SELECT count(*) AS failures, min(at) AS oldest, now() AS now FROM link_attempts "
        "WHERE actor = :a AND NOT ok AND at > now() - make_interval(secs => :w)"),
        {"a": actor, "w": WINDOW.total_seconds()})).one()
    if row.failures >= MAX_FAILURES:
        minutes = max(1, int(((row.oldest + WINDOW) - row.now).total_seconds() // 60) + 1)
        raise Conflict(f"Слишком много неудачных попыток привязать лицевой счёт. Повторите через {minutes} мин.",
                       code="too_many_attempts")


async def record_failure(conn: AsyncConnection, actor: str) -> None:
    """Written and committed on a connection of its own: the refusal that follows may roll back `conn`."""
    path = (await conn.execute(text("SELECT current_setting('search_path')"))).scalar_one()
    async with conn.engine.begin() as own:
        await own.execute(text("SELECT set_config('search_path', :p, true)"), {"p": path})
        await own.execute(text("INSERT INTO link_attempts(actor, ok) VALUES (:a, false)"), {"a": actor})


async def _receipt_dues(conn: AsyncConnection, account_id: int) -> AsyncIterator[Decimal | None]:
    """The «к оплате» of the receipts a subscriber may hold, newest first and each built only when asked
    for: the latest month with charges and, when that month is not closed yet (its receipt may not be out),
    the latest closed month with charges — the receipt issued. A payment made since then does not change
    what is printed on it: a closed month's receipt counts the payments of its own month only."""
    period = await latest_charged_period(conn, account_id)
    if period is None:
        yield None
        return
    yield (await build_receipt(conn, account_id, period)).due
    closed = (await conn.execute(text(
        "SELECT max(c.period) FROM charges c JOIN periods p ON p.period = c.period AND p.status = 'closed' "
        "WHERE c.account_id = :a"), {"a": account_id})).scalar()
    if closed is not None and Period.of(closed) != period:
        yield (await build_receipt(conn, account_id, Period.of(closed))).due


# ---- the subscriber's side ---------------------------------------------------------------------------------

async def link_account(conn: AsyncConnection, subscriber_id: int, number: str, check: str, *, via: str) -> dict:
    """Link the account `number` to the subscriber when `check` proves it is theirs; the account (id, number,
    address, holder). Linking an account already linked returns it."""
    if via not in VIAS:
        raise Invalid(f"Неизвестный канал: {via}", field="via")
    actor = actor_of(subscriber_id)
    await refuse_when_limited(conn, actor)
    number = " ".join((number or "").split())[:64]
    row = (await conn.execute(text(_ACCOUNT + "WHERE a.number = :n"), {"n": number})).first() if number else None
    ok = False
    if row is not None:
        kind = await link_check_kind(conn)
        given = (check or "")[:64]
        if kind == "receipt_amount":
            async for due in _receipt_dues(conn, row.id):
                if ok := check_matches(kind, given, holder=row.holder, receipt_due=due):
                    break
        else:
            ok = check_matches(kind, given, holder=row.holder, receipt_due=None)
    if not ok:
        await record_failure(conn, actor)
        raise Invalid(LINK_REFUSAL, field="number")
    await conn.execute(text("INSERT INTO link_attempts(actor, ok) VALUES (:a, true)"), {"a": actor})
    await conn.execute(text(
        "INSERT INTO subscriber_links(subscriber_id, account_id, created_via) VALUES (:s, :a, :v) "
        "ON CONFLICT (subscriber_id, account_id) WHERE revoked_at IS NULL DO NOTHING"),
        {"s": subscriber_id, "a": row.id, "v": via})
    return _account(row)


async def linked_accounts(conn: AsyncConnection, subscriber_id: int) -> list[dict]:
    """The subscriber's live linked accounts (id, number, address, holder), by number."""
    rows = await conn.execute(text(
        _ACCOUNT + "WHERE a.id IN (SELECT account_id FROM subscriber_links WHERE subscriber_id = :s "
        "AND revoked_at IS NULL) ORDER BY a.number"), {"s": subscriber_id})
    return [_account(r) for r in rows]


async def require_linked(conn: AsyncConnection, subscriber_id: int, account_id: int) -> None:
    """NotFound unless the account is linked (live) to the subscriber — the same answer as for an account
    that does not exist."""
    linked = (await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM subscriber_links WHERE subscriber_id = :s AND account_id = :a "
        "AND revoked_at IS NULL)"), {"s": subscriber_id, "a": account_id})).scalar_one()
    if not linked:
        raise NotFound(NOT_LINKED)


async def unlink(conn: AsyncConnection, subscriber_id: int, account_id: int) -> None:
    """The subscriber gives the account up (the link is revoked, not deleted)."""
    done = (await conn.execute(text(
        "UPDATE subscriber_links SET revoked_at = now(), revoked_reason = 'Отвязан абонентом' "
        "WHERE subscriber_id = :s AND account_id = :a AND revoked_at IS NULL RETURNING id"),
        {"s": subscriber_id, "a": account_id})).first()
    if done is None:
        raise NotFound(NOT_LINKED)


# ---- the staff's side (the account card) ---------------------------------------------------------------

_LINKS = ("SELECT l.id, l.subscriber_id, l.account_id, l.created_at, l.created_via, l.revoked_at, l.revoked_by, "
          "l.revoked_reason, s.full_name, s.email, s.phone, s.email_confirmed_at IS NOT NULL AS email_confirmed, "
          "s.phone_confirmed_at IS NOT NULL AS phone_confirmed, "
          "coalesce(nullif(u.full_name, ''), u.login) AS revoked_by_name "
          "FROM subscriber_links l JOIN subscribers s ON s.id = l.subscriber_id "
          "LEFT JOIN users u ON u.id = l.revoked_by ")


async def account_links(conn: AsyncConnection, account_id: int) -> list[dict[str, Any]]:
    """Who is linked to the account on the portal and in the bots: live links first, then revoked ones."""
    rows = await conn.execute(text(
        _LINKS + "WHERE l.account_id = :a ORDER BY l.revoked_at IS NOT NULL, l.created_at DESC, l.id DESC"),
        {"a": account_id})
    return [dict(r._mapping) for r in rows]


async def revoke_link(conn: AsyncConnection, account_id: int, link_id: int, *, user_id: int | None,
                      reason: str) -> dict[str, Any]:
    """Staff revoke a subscriber's link to the account: from now on the portal and the bots lose it."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid("Укажите причину отзыва", field="reason")
    if len(reason) > 200:
        raise Invalid("Причина длиннее 200 символов", field="reason")
    row = (await conn.execute(text(
        "SELECT id, revoked_at FROM subscriber_links WHERE id = :id AND account_id = :a FOR UPDATE"),
        {"id": link_id, "a": account_id})).first()
    if row is None:
        raise NotFound("Привязка не найдена")
    if row.revoked_at is not None:
        raise Conflict("Привязка уже отозвана")
    await conn.execute(text(
        "UPDATE subscriber_links SET revoked_at = now(), revoked_by = :u, revoked_reason = :r WHERE id = :id"),
        {"id": link_id, "u": user_id, "r": reason})
    return dict((await conn.execute(text(_LINKS + "WHERE l.id = :id"), {"id": link_id})).one()._mapping)
