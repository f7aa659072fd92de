"""The tenant's acquirer (ЮKassa shop): page `/acquiring` and API `/api/acquiring/settings`, `/api/acquiring/test`.
Permission: payments/admin. The secret key is sealed here (platform/secret_box.py) before it is stored and is
never shown or returned; an empty secret keeps the stored one. The page shows the notification URL to give
ЮKassa («Интеграция → HTTP-уведомления»)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post, put
from litestar.response import Template

from aquabill.base.errors import Invalid
from aquabill.channels.acquiring import flow
from aquabill.platform.auth.permissions import requires
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.web.context import DEPS, Ctx, TenantScope, core_of
from aquabill.platform.web.forms import FORM, attempt
from aquabill.subscribers import acquiring_settings as acq_settings
from aquabill.subscribers import online_payments as op
from aquabill.subscribers.payment_receipt import VAT_RATES

ADMIN = [requires("payments", "admin")]
TAGS = ["online payments"]
Secret = Annotated[str, msgspec.Meta(max_length=200)]
ShopId = Annotated[str, msgspec.Meta(max_length=32)]


class SettingsIn(msgspec.Struct):
    shop_id: ShopId
    vat: str = "none"
    enabled: bool = False
    secret: Secret | None = None  # None or "": keep the stored one
    send_receipt: bool = True
    vat_by_service: dict[str, str] = msgspec.field(default_factory=dict)
    tax_system: int | None = None


class TestIn(msgspec.Struct):
    shop_id: ShopId | None = None  # default: the stored ones
    secret: Secret | None = None


class SettingsForm(msgspec.Struct):
    shop_id: str = ""
    secret: str = ""
    vat: str = "none"
    enabled: str = ""
    send_receipt: str = ""
    tax_system: str = ""
    action: str = "save"


def webhook_url(request: Request, slug: str) -> str:
    return f"{core_of(request).settings.base_url}/api/acquiring/yookassa/{slug}"


async def _save(ts: TenantScope, data: SettingsIn) -> dict[str, Any]:
    sealed = SecretBox(ts.core.settings.secret_key).seal(data.secret.strip()) if data.secret and data.secret.strip() \
        else None
    return await acq_settings.save_acquiring(
        ts.conn, shop_id=data.shop_id, sealed_secret=sealed, vat=data.vat, enabled=data.enabled,
        send_receipt=data.send_receipt, vat_by_service=data.vat_by_service, tax_system=data.tax_system)


async def _test(ts: TenantScope, shop_id: str | None, secret: str | None) -> tuple[bool, str]:
    shop_id, secret = (shop_id or "").strip(), (secret or "").strip()
    if not shop_id or not secret:
        stored = await op.acquiring_config(ts.conn, enabled_only=False)
        shop_id = shop_id or stored.shop_id
        secret = secret or SecretBox(ts.core.settings.secret_key).open(stored.secret)
    return await flow.check_connection(ts.core, shop_id, secret)


# ---- API -------------------------------------------------------------------------------------------------------

@get("/api/acquiring/settings", dependencies=DEPS, guards=ADMIN, tags=TAGS, summary="Настройки онлайн-оплаты")
async def get_settings(ctx: Ctx, request: Request) -> dict[str, Any]:
    view = await acq_settings.settings_view(ctx.conn)  # the notifications' address once a shop is entered
    return {**view, "webhook_url": webhook_url(request, ctx.tenant.slug) if view["shop_id"] else None}


@put("/api/acquiring/settings", dependencies=DEPS, guards=ADMIN, tags=TAGS, summary="Сохранить настройки онлайн-оплаты")
async def put_settings(ctx: Ctx, request: Request, data: SettingsIn) -> dict[str, Any]:
    return {**await _save(ctx, data), "webhook_url": webhook_url(request, ctx.tenant.slug)}


@post("/api/acquiring/test", dependencies=DEPS, guards=ADMIN, tags=TAGS, status_code=200,
      summary="Проверить подключение к ЮKassa")
async def test_settings(ctx: Ctx, data: TestIn) -> dict[str, Any]:
    ok, message = await _test(ctx, data.shop_id, data.secret)
    return {"ok": ok, "message": message}


# ---- the page --------------------------------------------------------------------------------------------------

def _page(ctx: Ctx, request: Request, view: dict[str, Any], *, message: str = "", error: bool = False) -> Template:
    return Template("payments/online_settings.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "s": view, "vat_rates": VAT_RATES, "message": message,
        "error": error, "webhook_url": webhook_url(request, ctx.tenant.slug),
        "networks": core_of(request).settings.acquiring_networks})


@get("/acquiring", dependencies=DEPS, guards=ADMIN, include_in_schema=False)
async def settings_page(ctx: Ctx, request: Request) -> Template:
    return _page(ctx, request, await acq_settings.settings_view(ctx.conn))


@post("/acquiring", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def settings_submit(ctx: Ctx, request: Request, data: Annotated[SettingsForm, FORM]) -> Template:
    message, error = "", False
    async with attempt(ctx) as tried:
        if data.action == "test":
            ok, message = await _test(ctx, data.shop_id, data.secret)
            error = not ok
        else:
            tax = data.tax_system.strip()
            if tax and not tax.isdigit():
                raise Invalid("Система налогообложения: код от 1 до 6", field="tax_system")
            await _save(ctx, SettingsIn(shop_id=data.shop_id, vat=data.vat, enabled=bool(data.enabled),
                                        secret=data.secret, send_receipt=bool(data.send_receipt),
                                        tax_system=int(tax) if tax else None))
            message = "Настройки сохранены"
    if tried.refused:
        message, error = tried.message, True
    return _page(ctx, request, await acq_settings.settings_view(ctx.conn), message=message, error=error)


ROUTES = [get_settings, put_settings, test_settings, settings_page, settings_submit]
