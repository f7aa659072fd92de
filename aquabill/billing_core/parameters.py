"""Date-dependent account parameters: every value has a validity start; history is never lost.

Setting a value for a day inserts a new row; the previous row's `valid_to` becomes the day before.
Setting the same value again changes nothing (imports are idempotent); a different value for the same
start day corrects that row (the audit log keeps the old one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class ParameterValue:
    account_id: int
    kind: str
    valid_from: date
    value_num: Decimal | None = None
    value_text: str | None = None


def parse_value(value_type: str, raw: str) -> tuple[Decimal | None, str | None]:
    """Validate a raw value for a parameter of `value_type` ('number' | 'text')."""
    raw = (raw or "").strip()
    if value_type == "number":
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation as exc:
            raise ValueError(f"ожидается число, получено «{raw}»") from exc
        if not number.is_finite() or number < 0:
            raise ValueError(f"ожидается неотрицательное число, получено «{raw}»")
        return number, None
    if not raw:
        raise ValueError("пустое значение")
    return None, raw


async def parameter_types(conn: AsyncConnection) -> dict[str, str]:
    return dict((await conn.execute(text("SELECT code, value_type FROM parameter_kinds"))).all())


async def set_parameters(conn: AsyncConnection, values: list[ParameterValue]) -> dict[str, int]:
    """Write many values set-based; returns counts of inserted / corrected / unchanged rows."""
    if not values:
        return {"inserted": 0, "corrected": 0, "unchanged": 0}
    cols = {
        "acc": [v.account_id for v in values], "kind": [v.kind for v in values],
        "vf": [v.valid_from for v in values], "num": [v.value_num for v in values],
        "txt": [v.value_text for v in values],
    }
    rows = (await conn.execute(text("""
        INSERT INTO account_parameters AS p (account_id, kind, valid_from, value_num, value_text)
        SELECT DISTINCT ON (acc, kind, vf) acc, kind, vf, num, txt
        FROM unnest(CAST(:acc AS int[]), CAST(:kind AS text[]), CAST(:vf AS date[]),
                    CAST(:num AS numeric[]), CAST(:txt AS text[])) AS v(acc, kind, vf, num, txt)
        ON CONFLICT (account_id, kind, valid_from) DO UPDATE
          SET value_num = EXCLUDED.value_num, value_text = EXCLUDED.value_text
          WHERE (p.value_num, p.value_text) IS DISTINCT FROM (EXCLUDED.value_num, EXCLUDED.value_text)
        RETURNING (xmax = 0) AS inserted
    """), cols)).all()
    inserted = sum(1 for r in rows if r.inserted)
    corrected = len(rows) - inserted
    if inserted:
        await close_validity(conn, cols["acc"], cols["kind"])
    unique = len({(v.account_id, v.kind, v.valid_from) for v in values})
    return {"inserted": inserted, "corrected": corrected, "unchanged": unique - len(rows)}


async def close_validity(conn: AsyncConnection, account_ids: list[int], kinds: list[str]) -> None:
    """Recompute `valid_to` (the day before the next value starts) for the given account × kind pairs."""
    await conn.execute(text("""
        UPDATE account_parameters p SET valid_to = n.next_from - 1
        FROM (
          SELECT id, lead(valid_from) OVER (PARTITION BY account_id, kind ORDER BY valid_from) AS next_from
          FROM account_parameters
          WHERE (account_id, kind) IN (SELECT * FROM unnest(CAST(:acc AS int[]), CAST(:kind AS text[])))
        ) n
        WHERE p.id = n.id AND p.valid_to IS DISTINCT FROM n.next_from - 1
    """), {"acc": account_ids, "kind": kinds})


async def history(conn: AsyncConnection, account_id: int) -> list[dict]:
    rows = await conn.execute(text(
        "SELECT p.id, p.kind, k.name, p.value_num, p.value_text, p.valid_from, p.valid_to "
        "FROM account_parameters p JOIN parameter_kinds k ON k.code = p.kind "
        "WHERE p.account_id = :a ORDER BY p.kind, p.valid_from"), {"a": account_id})
    return [dict(r._mapping) for r in rows]
