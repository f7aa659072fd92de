"""CSV import of registry and billing data (the migration path from an old system) and CSV export of charges.

`POST /api/imports/{kind}` takes the file as the request body (`text/csv`) or as the `file` field of a
multipart form. Files of up to SYNC_MAX_LINES data lines are imported in the request (200 + the report);
larger ones become an `import.csv` job (202 + the job; the report is the job's result). `mode=sync|job`
forces either way.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.imports import KINDS, CsvFileError, export_charges, import_table, open_file
from aquabill.billing_core.imports.export import latest_charged_period
from aquabill.billing_core.periods import Period
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store
from aquabill.platform.jobs.csv_import import IMPORT_PERMISSION, start_import_job
from aquabill.platform.web.context import DEPS, Ctx

SYNC_MAX_LINES = 5000
MAX_FILE_BYTES = 200 * 1024 * 1024

Mode = Annotated[str, Parameter(pattern=r"^(auto|sync|job)$", description="auto (по размеру), sync или job")]
PeriodParam = Annotated[str | None, Parameter(max_length=7, description="Расчётный период ГГГГ-ММ")]


async def _upload(request: Request) -> tuple[bytes, str | None]:
    content_type, _ = request.content_type
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("В форме нет файла: ожидается поле «file»",
                          fields=[{"field": "file", "message": "обязательно"}])
        return await upload.read(), upload.filename
    return await request.body(), None


@post("/api/imports/{kind:str}", dependencies=DEPS, guards=[requires(*IMPORT_PERMISSION)], tags=["imports"],
      request_max_body_size=MAX_FILE_BYTES, status_code=200)
async def import_file(ctx: Ctx, request: Request, kind: str, mode: Mode = "auto") -> Response:
    if kind not in KINDS:
        raise NotFound(f"Неизвестный вид загрузки «{kind}»: допустимо {', '.join(KINDS)}")
    data, file_name = await _upload(request)
    try:
        table = open_file(kind, data)
    except CsvFileError as exc:
        raise Invalid(str(exc)) from exc
    if mode == "sync" or (mode == "auto" and len(table.records) <= SYNC_MAX_LINES):
        report = await import_table(ctx.conn, kind, table, user_id=ctx.principal.user_id)
        return Response({"mode": "sync", "file_name": file_name, **report.as_dict()}, status_code=200)
    job_id = await start_import_job(ctx, kind, data, file_name)
    return Response({"mode": "job", "job": store.to_dict(await store.get(ctx.conn, job_id))}, status_code=202)


@get("/api/exports/charges", dependencies=DEPS, guards=[requires("accounts", "report")], tags=["exports"])
async def charges_csv(ctx: Ctx, period: PeriodParam = None) -> Response:
    """Charges of `period` (default: the latest period that has charges, else the current month)."""
    if period:
        try:
            month = Period.parse(period)
        except ValueError as exc:
            raise Invalid(str(exc), fields=[{"field": "period", "message": "ожидается ГГГГ-ММ"}]) from exc
    else:
        month = await latest_charged_period(ctx.conn) or Period.of(date.today())
    body = "".join([chunk async for chunk in export_charges(ctx.conn, month)])
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="charges-{month}.csv"'})


ROUTES = [import_file, charges_csv]
