"""Payment registries page: files loaded (agent, file, lines, loaded, unidentified, failed, amount, status),
the upload form (multipart: agent + file, the same import as POST /api/payment-files: small files in the
request, large ones as the `payments.file` job), a file's line errors and payments, and its rollback
(refused with the reason when a payment month of the file is closed).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import NotFound, found
from aquabill.billing_core.payments import intake
from aquabill.billing_core.payments import store as payments_store
from aquabill.billing_core.payments.queries import FILE_STATUSES, unidentified_totals
from aquabill.channels.bank_files.importer import count_lines, import_payment_file
from aquabill.platform.jobs.payments_file import start_payments_file_job
from aquabill.platform.web.billing.imports_api import MAX_FILE_BYTES
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import attempt
from aquabill.platform.web.paging import Offset
from aquabill.platform.web.payments.payment_pages import EDIT, VIEW, page_ctx
from aquabill.platform.web.payments.payments_api import SYNC_MAX_LINES

PAGE = 30
FILE_PAYMENTS = 100
REPORT_ERRORS = 50
AgentId = Annotated[int | None, Parameter(ge=1, description="Агент")]


async def _files_page(ctx: Ctx, *, agent_id: int | None = None, offset: int = 0, message: str = "",
                      error: bool = False, report: dict[str, Any] | None = None, chosen_agent: str = "") -> Template:
    items, total = await payments_store.list_files(ctx.conn, agent_id=agent_id, limit=PAGE, offset=offset)
    agents = await payments_store.list_agents(ctx.conn)
    names = {a["id"]: a["name"] for a in agents}
    return Template("payments/files.html", context=page_ctx(
        ctx, items=items, total=total, offset=offset, limit=PAGE, agent_id=agent_id, agent_names=names,
        agents=[a for a in agents if a["active"] and a["file_format"] != "none"], file_statuses=FILE_STATUSES,
        message=message, error=error, report=report, chosen_agent=chosen_agent,
        unidentified=await unidentified_totals(ctx.conn)))


@get("/payments/files", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def files_page(ctx: Ctx, agent_id: AgentId = None, offset: Offset = 0) -> Template:
    return await _files_page(ctx, agent_id=agent_id, offset=offset)


@post("/payments/files", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200,
      request_max_body_size=MAX_FILE_BYTES)
async def file_upload(ctx: Ctx, request: Request) -> Template:
    """The upload form: a registry or a statement of the chosen agent, loaded as the API loads it."""
    form = await request.form()
    agent = str(form.get("agent") or "").strip()
    upload = form.get("file")
    if not agent:
        return await _files_page(ctx, message="Выберите платёжного агента", error=True)
    if not isinstance(upload, UploadFile):
        return await _files_page(ctx, message="Выберите файл реестра или выписки", error=True, chosen_agent=agent)
    data, file_name = await upload.read(), upload.filename or ""
    if not data:
        return await _files_page(ctx, message=f"Файл «{file_name}» пуст", error=True, chosen_agent=agent)
    if await payments_store.get_agent(ctx.conn, code=agent) is None:
        return await _files_page(ctx, message=f"Платёжный агент «{agent}» не найден", error=True)
    if count_lines(data) > SYNC_MAX_LINES:
        job_id = await start_payments_file_job(ctx, agent, data, file_name)
        return await _files_page(ctx, chosen_agent=agent, message=(
            f"Файл «{file_name}» большой: он загружается заданием № {job_id} (ход — на главной странице); "
            "после загрузки он появится в списке"))
    async with attempt(ctx, also=(ValueError,)) as tried:
        report = (await import_payment_file(ctx.conn, agent, data, file_name=file_name,
                                            user_id=ctx.principal.user_id)).as_dict(max_errors=REPORT_ERRORS)
    if tried.refused:
        return await _files_page(ctx, message=tried.message, error=True, chosen_agent=agent)
    if report["duplicate_file"]:
        message = f"Файл «{file_name}» уже был загружен (№ {report['file_id']}): ничего не добавлено"
    else:
        message = (f"Файл «{file_name}» загружен: строк {report['lines']}, платежей {report['loaded']}, "
                   f"неопознанных {report['unidentified']}, ошибок {report['failed']}")
    return await _files_page(ctx, message=message, error=bool(report["failed"]), report=report,
                             chosen_agent=agent)


async def _file_page(ctx: Ctx, payment_file_id: int, *, message: str = "", error: bool = False) -> Template:
    file = found(await payments_store.get_file(ctx.conn, payment_file_id), "Файл платежей не найден")
    payments, total = await payments_store.list_payments(ctx.conn, file_id=payment_file_id, limit=FILE_PAYMENTS)
    agent = await payments_store.get_agent(ctx.conn, agent_id=file["agent_id"])
    return Template("payments/file.html", context=page_ctx(
        ctx, f=file, agent=agent, errors=file.get("errors") or [], payments=payments, payments_total=total,
        file_statuses=FILE_STATUSES, message=message, error=error, unidentified=await unidentified_totals(ctx.conn)))


@get("/payments/files/{payment_file_id:int}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def file_page(ctx: Ctx, payment_file_id: int) -> Template:
    return await _file_page(ctx, payment_file_id)


@post("/payments/files/{payment_file_id:int}/rollback", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def file_rollback(ctx: Ctx, payment_file_id: int) -> Template:
    if await payments_store.get_file(ctx.conn, payment_file_id) is None:
        raise NotFound("Файл платежей не найден")
    async with attempt(ctx) as tried:
        done = await intake.roll_back_file(ctx.conn, payment_file_id)
    if tried.refused:
        return await _file_page(ctx, payment_file_id, message=tried.message, error=True)
    return await _file_page(ctx, payment_file_id, message=(
        f"Файл откатан: его платежи сняты, лицевых счетов пересчитано {done['accounts']}. {done['note']}"))


ROUTES = [files_page, file_upload, file_page, file_rollback]
