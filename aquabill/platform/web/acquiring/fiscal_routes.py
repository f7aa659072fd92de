"""Cloud fiscalization of online payments (ATOL Online): the page `/acquiring/cloud-fiscal` and the API
`/api/cloud-fiscal/…`.

The settings (payments/admin): on/off, the API address, login, password (sealed here, `platform/secret_box.py`,
before it is stored; never shown or returned; an empty one keeps the stored), group of registers, INN, the
sender's e-mail, the settlement place, the tax system; «Проверить подключение» asks the configured address for a
token. Switching it on while ЮKassa sends the receipt data itself is refused (one payment, one receipt).
The requests (payments/view): newest first, paged, with their status, the error in Russian and the fiscal sign;
a failed one can be sent again (payments/edit). «Отправить сейчас» starts the `fiscal.cloud` job.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import get, post, put
from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import NotFound
from aquabill.cash import cloud, cloud_settings
from aquabill.channels.cloud_fiscal.runner import check_connection, default_api_url
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs.cloud_fiscal import KIND, kick
from aquabill.platform.jobs.service import start_job
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM, attempt
from aquabill.platform.web.paging import Limit, Offset, page

VIEW, EDIT, ADMIN = [requires("payments", "view")], [requires("payments", "edit")], [requires("payments", "admin")]
TAGS = ["online payments"]
PAGE = 50
Text100 = Annotated[str, msgspec.Meta(max_length=100)]
Text300 = Annotated[str, msgspec.Meta(max_length=300)]
Secret = Annotated[str, msgspec.Meta(max_length=200)]
Status = Annotated[str, Parameter(max_length=8)]


class SettingsIn(msgspec.Struct):
    api_url: Text300 = ""
    login: Text100 = ""
    password: Secret | None = None  # None or "": keep the stored one
    group_code: Text100 = ""
    inn: Annotated[str, msgspec.Meta(max_length=20)] = ""
    email: Text100 = ""
    payment_address: Text300 = ""
    sno: Annotated[str, msgspec.Meta(max_length=24)] = "osn"
    enabled: bool = False


class TestIn(msgspec.Struct):
    login: Text100 | None = None  # default: the stored ones (the address is always the configured one)
    password: Secret | None = None


class SettingsForm(msgspec.Struct):
    api_url: str = ""
    login: str = ""
    password: str = ""
    group_code: str = ""
    inn: str = ""
    email: str = ""
    payment_address: str = ""
    sno: str = "osn"
    enabled: str = ""
    action: str = "save"


def _default_url(ts: TenantScope) -> str:
    return default_api_url(ts.core.settings)


async def _save(ts: TenantScope, data: SettingsIn) -> dict[str, Any]:
    password = (data.password or "").strip()
    sealed = SecretBox(ts.core.settings.secret_key).seal(password) if password else None
    values = {f: getattr(data, f) for f in ("api_url", "login", "group_code", "inn", "email", "payment_address",
                                             "sno", "enabled")}
    return await cloud_settings.save(ts.conn, values, sealed_password=sealed, default_api_url=_default_url(ts))


async def _test(ts: TenantScope, api_url: str | None, login: str | None, password: str | None) -> tuple[bool, str]:
    stored = await cloud_settings.load(ts.conn) or {}
    url = cloud_settings.check_api_url(api_url or stored.get("api_url") or _default_url(ts))
    login = (login or "").strip() or stored.get("login", "")
    password = (password or "").strip()
    if not password and stored.get("password"):
        try:
            password = SecretBox(ts.core.settings.secret_key).open(stored["password"])
        except ValueError as exc:
            return False, f"Сохранённый пароль не расшифровывается: введите его заново ({exc})"
    if not login or not password:
        return False, "Укажите логин и пароль АТОЛ Онлайн"
    return await check_connection(url, login, password)


# ---- API -------------------------------------------------------------------------------------------------------

@get("/api/cloud-fiscal/settings", dependencies=DEPS, guards=ADMIN, tags=TAGS,
     summary="Настройки облачной фискализации")
async def get_settings(ctx: Ctx) -> dict[str, Any]:
    return await cloud_settings.settings_view(ctx.conn, _default_url(ctx))


@put("/api/cloud-fiscal/settings", dependencies=DEPS, guards=ADMIN, tags=TAGS,
     summary="Сохранить настройки облачной фискализации")
async def put_settings(ctx: Ctx, data: SettingsIn) -> dict[str, Any]:
    return await _save(ctx, data)


@post("/api/cloud-fiscal/test", dependencies=DEPS, guards=ADMIN, tags=TAGS, status_code=200,
      summary="Проверить подключение к АТОЛ Онлайн")
async def test_settings(ctx: Ctx, data: TestIn) -> dict[str, Any]:
    ok, message = await _test(ctx, None, data.login, data.password)
    return {"ok": ok, "message": message}


@get("/api/cloud-fiscal/requests", dependencies=DEPS, guards=VIEW, tags=TAGS,
     summary="Запросы на фискализацию онлайн-платежей")
async def list_requests(ctx: Ctx, status: Status = "", limit: Limit = PAGE, offset: Offset = 0) -> dict[str, Any]:
    items, total = await cloud.list_requests(ctx.conn, status=status, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/cloud-fiscal/requests/{request_id:uuid}/retry", dependencies=DEPS, guards=EDIT, tags=TAGS,
      status_code=200, summary="Отправить запрос с ошибкой повторно")
async def retry_request(ctx: Ctx, request_id: UUID) -> dict[str, Any]:
    new_id = await cloud.retry_failed(ctx.conn, request_id)
    _kick_after(ctx)
    return {"id": str(new_id), "status": "new"}


def _kick_after(ctx: TenantScope) -> None:
    core, tenant = ctx.core, ctx.tenant

    async def after() -> None:
        await kick(core, tenant)

    ctx.after_commit(after)


# ---- the page --------------------------------------------------------------------------------------------------

async def _page(ctx: Ctx, *, status: str = "", offset: int = 0, message: str = "", error: bool = False,
                form: dict[str, Any] | None = None) -> Template:
    status = status if status in cloud.STATUS_TEXT else ""
    items, total = await cloud.list_requests(ctx.conn, status=status, limit=PAGE, offset=offset)
    can_admin = ctx.principal.can("payments", "admin")
    view = await cloud_settings.settings_view(ctx.conn, _default_url(ctx)) if can_admin else None
    return Template("payments/cloud_fiscal.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "s": {**(view or {}), **(form or {})}, "can_admin": can_admin,
        "can_edit": ctx.principal.can("payments", "edit"), "sno": cloud_settings.SNO, "items": items, "total": total,
        "offset": offset, "limit": PAGE, "status": status, "statuses": cloud.STATUS_TEXT, "message": message,
        "error": error})


@get("/acquiring/cloud-fiscal", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def fiscal_page(ctx: Ctx, status: Status = "", offset: Offset = 0) -> Template:
    return await _page(ctx, status=status, offset=offset)


@post("/acquiring/cloud-fiscal", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def fiscal_submit(ctx: Ctx, data: Annotated[SettingsForm, FORM]) -> Template:
    message, error, form = "", False, None
    async with attempt(ctx) as tried:
        if data.action == "test":
            ok, message = await _test(ctx, data.api_url, data.login, data.password)
            error = not ok
        elif data.action == "run":
            await start_job(ctx, KIND, {})
            message = "Отправка запущена: статусы обновятся через несколько секунд"
        else:
            await _save(ctx, SettingsIn(api_url=data.api_url[:300], login=data.login[:100], password=data.password[:200],
                                        group_code=data.group_code[:100], inn=data.inn[:20], email=data.email[:100],
                                        payment_address=data.payment_address[:300], sno=data.sno[:24],
                                        enabled=bool(data.enabled)))
            message = "Настройки сохранены"
    if tried.refused:
        message, error = tried.message, True
        form = {k: getattr(data, k) for k in ("api_url", "login", "group_code", "inn", "email", "payment_address",
                                              "sno")} | {"enabled": bool(data.enabled)}
    return await _page(ctx, message=message, error=error, form=form)


@post("/acquiring/cloud-fiscal/requests/{request_id:uuid}/retry", dependencies=DEPS, guards=EDIT,
      include_in_schema=False, status_code=200)
async def retry_submit(ctx: Ctx, request_id: UUID) -> Template:
    async with attempt(ctx) as tried:
        await cloud.retry_failed(ctx.conn, request_id)
        _kick_after(ctx)
    if isinstance(tried.error, NotFound):  # no such request (or another tenant's): 404, as the API answers
        raise tried.error
    return await _page(ctx, message=tried.message or "Запрос отправлен повторно", error=tried.refused)


ROUTES = [get_settings, put_settings, test_settings, list_requests, retry_request, fiscal_page, fiscal_submit,
          retry_submit]
