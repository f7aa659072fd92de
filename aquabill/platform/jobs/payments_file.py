"""The `payments.file` job: a large payment file (registry or statement) imported in the background, with
progress. The file waits in Redis under the tenant's and the job's key (never taken from the parameters)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aquabill.channels.bank_files.importer import import_payment_file
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.parked_files import parked_file, start_file_job
from aquabill.platform.jobs.registry import job

KIND = "payments.file"
RESULT_MAX_ERRORS = 1000


@job(KIND, "Загрузка файла платежей", resource="payments", action="edit")
async def payments_file_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    async with parked_file(ctx, "Файл платежей не найден (истёк срок хранения или задание запущено без файла): "
                                "отправьте его заново в POST /api/payment-files") as data:
        async with ctx.transaction() as conn:
            report = await import_payment_file(conn, str(params.get("agent", "")), data,
                                               file_name=str(params.get("file_name") or ""),
                                               user_id=ctx.user_id, progress=ctx.progress)
    return _jsonable(report.as_dict(max_errors=RESULT_MAX_ERRORS))


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if k == "amount" else v for k, v in d.items()}


async def start_payments_file_job(scope, agent: str, data: bytes, file_name: str | None) -> UUID:
    return await start_file_job(scope, KIND, {"agent": agent, "file_name": file_name}, data)
