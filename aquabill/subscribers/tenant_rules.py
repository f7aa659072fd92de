"""The tenant's rules for its subscribers' doors, edited by staff: the days of the month readings are taken
on the portal and by the bots (`portal_reading_days`), and what proves an account is one's own when a
subscriber links it (`portal_link_check`). Both live in `billing_settings` (audited)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.subscribers.links import CHECK_LABELS, CHECKS, link_check_kind
from aquabill.subscribers.readings import reading_days


@dataclass(frozen=True, slots=True)
class PortalRules:
    reading_first_day: int
    reading_last_day: int
    link_check: str

    def as_dict(self) -> dict:
        return {**asdict(self), "link_check_name": CHECK_LABELS[self.link_check]}


async def load_rules(conn: AsyncConnection) -> PortalRules:
    first, last = await reading_days(conn)
    return PortalRules(first, last, await link_check_kind(conn))


def check_rules(first: int, last: int, link_check: str) -> PortalRules:
    for value, name in ((first, "reading_first_day"), (last, "reading_last_day")):
        if not 1 <= value <= 31:
            raise Invalid("День месяца — от 1 до 31", field=name)
    if link_check not in CHECKS:
        raise Invalid("Проверка при привязке счёта: сумма по квитанции или первые буквы фамилии", field="link_check")
    return PortalRules(first, last, link_check)


async def save_rules(conn: AsyncConnection, rules: PortalRules) -> PortalRules:
    """Store checked rules (a first day after the last one: the window runs over the turn of the month)."""
    for key, value in (("portal_reading_days", [rules.reading_first_day, rules.reading_last_day]),
                       ("portal_link_check", rules.link_check)):
        await conn.execute(text(
            "INSERT INTO billing_settings(key, value) VALUES (:k, CAST(:v AS jsonb)) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"), {"k": key, "v": json.dumps(value)})
    return rules
