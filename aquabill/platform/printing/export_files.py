"""The export files of a printed batch, written bundle by bundle from the issues it printed (never the whole
batch in memory): `receipts-<ГГГГ-ММ>.csv` and `.xml` beside the bundles, atomically."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.platform.printing import batches
from aquabill.platform.printing.export import XML_TAIL, csv_header, csv_row, xml_head, xml_receipt
from aquabill.platform.printing.files import finish_atomic

_MAX_LINES = """
    SELECT coalesce(max(jsonb_array_length(ri.snapshot->'lines')), 0) FROM print_bundles b
    CROSS JOIN LATERAL unnest(b.issue_ids) AS x(id) JOIN receipt_issues ri ON ri.id = x.id WHERE b.batch_id = :b"""


def _append(path: Path, chunk: str, *, first: bool = False) -> None:
    if first:
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w" if first else "a", encoding="utf-8", newline="") as f:
        f.write(chunk)


async def export_pages(conn: AsyncConnection, batch_id: UUID) -> AsyncIterator[list[tuple[int, int, dict[str, Any]]]]:
    """(bundle, page, issued snapshot) of every printed page, bundle by bundle, in print order."""
    for b in await batches.bundles_of(conn, batch_id):
        if b["done_at"] is not None:
            yield [(b["no"], page, snapshot) for page, snapshot in
                   enumerate(await batches.printed_snapshots(conn, batch_id, b["no"]), start=1)]


async def write_exports(conn: AsyncConnection, batch_id: UUID, folder: Path) -> dict[str, tuple[str, str]]:
    """Both files of the batch; returns {'csv': (name, sha256), 'xml': (name, sha256)}."""
    batch = await batches.get_batch(conn, batch_id)
    services = (await conn.execute(text(_MAX_LINES), {"b": batch_id})).scalar_one()
    names = {"csv": f"receipts-{batch['period']}.csv", "xml": f"receipts-{batch['period']}.xml"}
    tmp = {k: folder / f".{v}.tmp" for k, v in names.items()}
    head = io.StringIO()
    head.write("\ufeff")
    csv.writer(head, delimiter=";", lineterminator="\r\n").writerow(csv_header(services))
    await asyncio.to_thread(_append, tmp["csv"], head.getvalue(), first=True)
    await asyncio.to_thread(_append, tmp["xml"], xml_head(str(batch_id), batch["period"], batch["done"]), first=True)
    async for pages in export_pages(conn, batch_id):
        rows = io.StringIO()
        writer = csv.writer(rows, delimiter=";", lineterminator="\r\n")
        for bundle, page, snapshot in pages:
            writer.writerow(csv_row(bundle, page, snapshot, services))
        await asyncio.to_thread(_append, tmp["csv"], rows.getvalue())
        await asyncio.to_thread(_append, tmp["xml"], "".join(xml_receipt(*p) for p in pages))
    await asyncio.to_thread(_append, tmp["xml"], XML_TAIL)
    return {k: (names[k], await asyncio.to_thread(finish_atomic, tmp[k], folder / names[k])) for k in names}
