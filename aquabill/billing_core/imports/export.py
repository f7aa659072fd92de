"""Exporting the charges of a period as CSV (UTF-8 with a BOM, `;`-separated, decimals with a dot)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.imports.csvfile import BOM
from aquabill.billing_core.periods import Period

CHARGE_COLUMNS = ("account_number", "service", "period", "method", "volume", "tariff", "amount",
                  "corrects_period")
EXPORT_SEPARATOR = ";"

_CHARGES = text("""
    SELECT a.number AS account_number, s.code AS service, c.period, c.method, c.volume, c.tariff, c.amount,
           c.corrects_period
    FROM charges c JOIN accounts a ON a.id = c.account_id JOIN services s ON s.id = c.service_id
    WHERE c.period = :period
    ORDER BY a.number, s.sort, s.code, c.corrects_period NULLS FIRST, c.id
""")


def _month(day: date | None) -> str:
    return "" if day is None else str(Period.of(day))


def charge_lines(rows: Iterable, *, header: bool = True) -> Iterable[str]:
    """CSV text lines (each ending with CRLF) for rows with the CHARGE_COLUMNS attributes."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=EXPORT_SEPARATOR, lineterminator="\r\n")

    def flush() -> str:
        out = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return out

    if header:
        writer.writerow(CHARGE_COLUMNS)
        yield BOM + flush()
    for r in rows:
        writer.writerow((r.account_number, r.service, _month(r.period), r.method, r.volume, r.tariff, r.amount,
                         _month(r.corrects_period)))
        yield flush()


async def latest_charged_period(conn: AsyncConnection) -> Period | None:
    day = (await conn.execute(text("SELECT max(period) FROM charges"))).scalar()
    return None if day is None else Period.of(day)


async def export_charges(conn: AsyncConnection, period: Period) -> AsyncIterator[str]:
    """The period's charges as CSV text chunks, streamed from a server-side cursor."""
    first = True
    result = await conn.stream(_CHARGES.execution_options(yield_per=5000), {"period": period.first_day})
    async for chunk in result.partitions():
        yield "".join(charge_lines(chunk, header=first))
        first = False
    if first:
        yield "".join(charge_lines([], header=True))
