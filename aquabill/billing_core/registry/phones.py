"""Phone numbers: one form, +7XXXXXXXXXX, for matching a caller to accounts.

Accepted: `8XXXXXXXXXX`, `7XXXXXXXXXX`, `+7XXXXXXXXXX` and the bare 10 digits, with any punctuation
(`+7 (916) 123-45-67`, `8-81379-2-11-22`); anything else (internal extensions, foreign numbers) is not a
Russian number and matches nothing. `PHONE_SQL` is the same rule in SQL; migration t0008 indexes
`accounts` on exactly this expression, so the lookup uses the index.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.registry.queries import ACCOUNT_COLUMNS, ACCOUNT_FROM
from aquabill.billing_core.registry.tables import accounts

_RU = re.compile(r"^[78]?(\d{10})$")
PHONE_SQL = r"('+7' || substring(regexp_replace(phone, '\D', '', 'g') from '^[78]?(\d{10})$'))"
LOOKUP_LIMIT = 20


def normalise_phone(raw: str | None) -> str | None:
    """`8 (916) 123-45-67` → `+79161234567`; None when it is not a Russian number."""
    if not raw:
        return None
    digits = re.sub(r"\D", "", raw)
    m = _RU.match(digits)
    return "+7" + m.group(1) if m else None


async def accounts_by_phone(conn: AsyncConnection, raw: str | None, *, limit: int = LOOKUP_LIMIT) -> list[dict[str, Any]]:
    """The tenant's accounts whose phone is this number (open ones first, then by number)."""
    phone = normalise_phone(raw)
    if phone is None:
        return []
    q = (select(*ACCOUNT_COLUMNS).select_from(ACCOUNT_FROM)
         .where(text(PHONE_SQL.replace("phone", "accounts.phone") + " = :phone").bindparams(phone=phone))
         .order_by((accounts.c.status != "open"), accounts.c.number).limit(limit))
    rows = (await conn.execute(q)).all()
    return [{"id": r.id, "number": r.number, "holder": r.holder, "status": r.status, "phone": r.phone,
             "address": r.address} for r in rows]
