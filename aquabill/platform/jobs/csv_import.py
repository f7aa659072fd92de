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
from aquabill.platform.jobs.registry import job
from aquabill.platform.jobs.service import start_job

KIND = "import.csv"
FILE_TTL_SECONDS = 24 * 3600
RESULT_MAX_ERRORS = 1000
IMPORT_PERMISSION = ("accounts", "admin")


@job(KIND, "Загрузка файла CSV", resource=IMPORT_PERMISSION[0], action=IMPORT_PERMISSION[1])
async def import_csv_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    key = ctx.core.keys.import_file(ctx.tenant.id, str(ctx.job_id))
    data = await ctx.core.redis.get(key)
    if data is None:
        raise RuntimeError("Файл для загрузки не найден (истёк срок хранения или задание запущено без файла): "
                           "отправьте его заново в POST /api/imports/{вид}")
    try:
        async with ctx.transaction() as conn:
            report = await import_csv(conn, str(params.get("kind", "")), data, user_id=ctx.user_id,
                                      progress=ctx.progress)
    finally:  # a failed import is not retried: the file is sent again (a killed worker leaves it for arq's retry)
        await ctx.core.redis.delete(key)
    return {**report.as_dict(max_errors=RESULT_MAX_ERRORS), "file_name": params.get("file_name")}


async def start_import_job(scope, kind: str, data: bytes, file_name: str | None) -> UUID:
    """Register the job in `scope` (a TenantScope) and park the file; the job is enqueued after commit."""
    job_id = await start_job(scope, KIND, {"kind": kind, "file_name": file_name, "bytes": len(data)})
    await scope.core.redis.set(scope.core.keys.import_file(scope.tenant.id, str(job_id)), data,
                               ex=FILE_TTL_SECONDS)
    return job_id
