"""Gap-free numbering of documents per kind and calendar year (`legal_number_seq`).

Decree 1137 of 26.12.2011 (rules of filling in the invoice, p. 1 «а»): the invoice number follows the
chronological order of issue. One UPSERT … RETURNING takes a block of `count` numbers: the row lock it holds
until the transaction ends serialises two issues at once, and a rolled-back issue rolls its numbers back too,
so no number is skipped or given twice.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

KINDS = ("bill", "upd", "act", "advance_invoice", "ukd")
_TAKE = text("""
    INSERT INTO legal_number_seq(kind, year, last) VALUES (:kind, :year, :count)
    ON CONFLICT (kind, year) DO UPDATE SET last = legal_number_seq.last + EXCLUDED.last
    RETURNING last""")


async def take_numbers(conn: AsyncConnection, kind: str, year: int, count: int) -> list[str]:
    """`count` consecutive numbers of `kind` in `year` (["1", "2", …]); nothing taken for 0."""
    if kind not in KINDS:
        raise ValueError(kind)
    if count <= 0:
        return []
    last = (await conn.execute(_TAKE, {"kind": kind, "year": year, "count": count})).scalar_one()
    return [str(n) for n in range(last - count + 1, last + 1)]
