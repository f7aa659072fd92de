"""Importing one CSV file: read and check it (pure), load the valid rows (set-based) in the caller's
transaction, and return the per-line report. The caller commits: one transaction per file."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.imports.csvfile import CsvTable, read_table
from aquabill.billing_core.imports.loaders import LOADERS
from aquabill.billing_core.imports.lookups import Progress, no_progress
from aquabill.billing_core.imports.report import ImportReport
from aquabill.billing_core.imports.rows import check_header, parse_rows, spec_of


def open_file(kind: str, data: bytes) -> CsvTable:
    """Read the file and check its header for `kind`; CsvFileError (Russian) if it cannot be loaded."""
    spec = spec_of(kind)
    table = read_table(data)
    check_header(spec, table.columns)
    return table


async def import_csv(conn: AsyncConnection, kind: str, data: bytes, *, user_id: int | None = None,
                     progress: Progress = no_progress) -> ImportReport:
    table = open_file(kind, data)
    return await import_table(conn, kind, table, user_id=user_id, progress=progress)


async def import_table(conn: AsyncConnection, kind: str, table: CsvTable, *, user_id: int | None = None,
                       progress: Progress = no_progress) -> ImportReport:
    parsed = parse_rows(kind, table)
    report = ImportReport(kind, lines=parsed.lines)
    if parsed.ignored_columns:
        report.notes.append("Столбцы не используются и пропущены: " + ", ".join(parsed.ignored_columns))
    for error in parsed.errors:
        report.fail(error.line, error.error)
    await progress(10, f"Прочитано строк: {parsed.lines}")

    async def scaled(percent: float, message: str) -> None:  # the loader's 0–100 % within 10–95 %
        await progress(10 + percent * 0.85, message)

    if parsed.rows:
        await LOADERS[kind](conn, parsed.rows, report, scaled, user_id)
    for line, first in parsed.repeated:  # an identical line repeats the outcome of the first, changing nothing
        if report.status.get(first) == "failed":
            report.fail(line, f"Повтор строки {first}: {report.errors[first]}")
        else:
            report.mark(line, "unchanged")
    await progress(95, report.summary())
    assert len(report.status) == report.lines, "every data line must end with a status"
    return report
