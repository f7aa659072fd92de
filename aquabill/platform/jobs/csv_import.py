"""The `import.csv` job: a large CSV file imported in the background, one transaction, with progress.

The API keeps the uploaded file in Redis under a key made of the tenant and the job id (never taken from
the job's parameters), with a time limit; the job reads it, imports it and deletes it. The job result is
the report with at most RESULT_MAX_ERRORS errors and warnings listed (the totals are always given).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aquabill.billing_core.imports import import_csv
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.parked_files import parked_file, start_file_job
from aquabill.platform.jobs.registry import job

KIND = "import.csv"
RESULT_MAX_ERRORS = 1000
IMPORT_PERMISSION = ("accounts", "admin")


@job(KIND, "Загрузка файла CSV", resource=IMPORT_PERMISSION[0], action=IMPORT_PERMISSION[1])
async def import_csv_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    async with parked_file(ctx, "Файл для загрузки не найден (истёк срок хранения или задание запущено без "
                                "файла): отправьте его заново в POST /api/imports/{вид}") as data:
        async with ctx.transaction() as conn:
            report = await import_csv(conn, str(params.get("kind", "")), data, user_id=ctx.user_id,
                                      progress=ctx.progress)
    return {**report.as_dict(max_errors=RESULT_MAX_ERRORS), "file_name": params.get("file_name")}


async def start_import_job(scope, kind: str, data: bytes, file_name: str | None) -> UUID:
    """Register the job in `scope` (a TenantScope) and park the file; the job is enqueued after commit."""
    return await start_file_job(scope, KIND, {"kind": kind, "file_name": file_name}, data)
