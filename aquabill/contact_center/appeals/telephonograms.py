"""Telephonograms: other organisations' notices of outages (planned or emergency) for houses or whole
streets over a period; which of them affect an address on a given day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

KINDS = {"planned": "Плановое отключение", "emergency": "Аварийное отключение", "info": "Информация"}

_SELECT = """
SELECT t.id, t.number, t.received_at, t.from_org, t.kind, t.text, t.valid_from, t.valid_to, t.created_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('house_id', ta.house_id, 'street_id', ta.street_id,
                                                     'address', CASE WHEN ta.house_id IS NOT NULL
                                                       THEN concat_ws(' ', st.kind, st.name) || ', д. ' || h.number
                                                       ELSE concat_ws(' ', st2.kind, st2.name) || ' (вся улица)' END)
                                  ORDER BY ta.id)
                 FROM telephonogram_addresses ta
                 LEFT JOIN houses h ON h.id = ta.house_id
                 LEFT JOIN streets st ON st.id = h.street_id
                 LEFT JOIN streets st2 ON st2.id = ta.street_id
                 WHERE ta.telephonogram_id = t.id), '[]'::jsonb) AS addresses
FROM telephonograms t
"""

ZONE = "Europe/Moscow"


def day_window(day_from: date, day_to: date | None = None, zone: str = ZONE) -> dict[str, datetime]:
    """The days [day_from, day_to] in the organisation's time zone as {start, end} (end exclusive)."""
    tz = ZoneInfo(zone)
    return {"start": datetime.combine(day_from, time(0), tz),
            "end": datetime.combine((day_to or day_from) + timedelta(days=1), time(0), tz)}


_IN_FORCE = "t.valid_from < :end AND (t.valid_to IS NULL OR t.valid_to >= :start)"
# in force on some day of the window and covers the house (itself or its whole street)
_AFFECTING = f"""
 WHERE {_IN_FORCE}
   AND EXISTS (SELECT 1 FROM telephonogram_addresses ta WHERE ta.telephonogram_id = t.id
               AND (ta.house_id = :house_id OR ta.street_id = (SELECT street_id FROM houses WHERE id = :house_id)))
"""


async def affecting(conn: AsyncConnection, house_id: int, day_from: date, day_to: date | None = None, *,
                    zone: str = ZONE) -> list[dict[str, Any]]:
    """Telephonograms in force on any day of [day_from, day_to] (days of `zone`) for the house or its street."""
    rows = await conn.execute(text(_SELECT + _AFFECTING + " ORDER BY t.valid_from, t.id"),
                              {"house_id": house_id, **day_window(day_from, day_to, zone)})
    return [dict(r._mapping) for r in rows]


async def list_telephonograms(conn: AsyncConnection, *, active_on: date | None = None, kind: str | None = None,
                              limit: int = 50, offset: int = 0, zone: str = ZONE) -> tuple[list[dict[str, Any]], int]:
    conds, args = [], {}
    if active_on:
        conds.append(_IN_FORCE)
        args.update(day_window(active_on, None, zone))
    if kind:
        conds.append("t.kind = :kind")
        args["kind"] = kind
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    rows = await conn.execute(text(_SELECT + where + " ORDER BY t.valid_from DESC, t.id DESC LIMIT :l OFFSET :o"),
                              {**args, "l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(*) FROM telephonograms t" + where), args)).scalar_one()
    return [dict(r._mapping) for r in rows], total


async def get_telephonogram(conn: AsyncConnection, telephonogram_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(text(_SELECT + " WHERE t.id = :id"), {"id": telephonogram_id})).first()
    return dict(row._mapping) if row else None


async def missing_places(conn: AsyncConnection, house_ids: list[int], street_ids: list[int]) -> list[str]:
    """Russian descriptions of the houses and streets that do not exist (in this tenant)."""
    missing = []
    if house_ids:
        found = {r[0] for r in await conn.execute(text("SELECT id FROM houses WHERE id = ANY(:ids)"), {"ids": house_ids})}
        missing += [f"дом {i}" for i in house_ids if i not in found]
    if street_ids:
        found = {r[0] for r in await conn.execute(text("SELECT id FROM streets WHERE id = ANY(:ids)"),
                                                  {"ids": street_ids})}
        missing += [f"улица {i}" for i in street_ids if i not in found]
    return missing


async def insert_telephonogram(conn: AsyncConnection, *, number: str, from_org: str, kind: str, body: str,
                               valid_from: datetime, valid_to: datetime | None, received_at: datetime | None,
                               house_ids: list[int], street_ids: list[int], user_id: int | None) -> int:
    tid = (await conn.execute(text(
        "INSERT INTO telephonograms(number, received_at, from_org, kind, text, valid_from, valid_to, created_by) "
        "VALUES (:number, coalesce(:received_at, now()), :from_org, :kind, :body, :valid_from, :valid_to, :user_id) "
        "RETURNING id"),
        {"number": number, "received_at": received_at, "from_org": from_org, "kind": kind, "body": body,
         "valid_from": valid_from, "valid_to": valid_to, "user_id": user_id})).scalar_one()
    await conn.execute(text(
        "INSERT INTO telephonogram_addresses(telephonogram_id, house_id, street_id) "
        "SELECT CAST(:t AS int), h, NULL FROM unnest(CAST(:houses AS int[])) h "
        "UNION ALL SELECT CAST(:t AS int), NULL, s FROM unnest(CAST(:streets AS int[])) s"),
        {"t": tid, "houses": sorted(set(house_ids)), "streets": sorted(set(street_ids))})
    return tid
