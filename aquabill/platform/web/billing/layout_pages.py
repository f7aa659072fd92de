"""The tenant's receipt layout: the texts printed on every receipt and the logo. Permission resource "receipts"
(view to see, edit to change); every change is audited (receipt_layout's triggers, the logo by its SHA-256).

- page `/billing/receipt-layout`: the texts and a logo upload (multipart), a preview of the logo;
- `GET /api/receipts/layout`: the texts and the logo (its size, SHA-256 and the PNG in base64);
- `PUT /api/receipts/layout` `{header_text, footer_text, notes}` (a text absent or null: unchanged);
- `PUT /api/receipts/layout/logo` `{png_base64}`, `DELETE /api/receipts/layout/logo`;
- `print_layout`: the stored layout as the PDF renderer's `ReceiptLayout` (for the printing and mailing jobs).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.response import Template

from aquabill.base.errors import Invalid
from aquabill.billing_core.receipts import load_layout, save_layout, save_logo
from aquabill.billing_core.receipts.layout_store import MAX_LOGO_BYTES, MAX_TEXT, TEXTS
from aquabill.channels.print import ReceiptLayout
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import attempt

VIEW, EDIT = [requires("receipts", "view")], [requires("receipts", "edit")]
TAGS = ["receipts"]
MAX_BODY = 2 * 1024 * 1024  # the form with a logo (the logo itself: 200 KB, checked by billing_core)
LayoutText = Annotated[str, msgspec.Meta(max_length=4 * MAX_TEXT)] | None


class LayoutIn(msgspec.Struct):
    header_text: LayoutText = None
    footer_text: LayoutText = None
    notes: LayoutText = None


class LogoIn(msgspec.Struct):
    png_base64: Annotated[str, msgspec.Meta(max_length=2 * MAX_LOGO_BYTES)] = ""


def print_layout(layout: dict[str, Any], *, tenant_name: str = "", contact_lines: str = "") -> ReceiptLayout:
    """The stored layout (`load_layout`) as the PDF renderer takes it; the name printed at the top defaults to
    the payee's (the renderer's rule), contacts are the caller's."""
    return ReceiptLayout(tenant_name=tenant_name, logo_png=layout["logo_png"], header_text=layout["header_text"],
                         notes=layout["notes"], footer_text=layout["footer_text"], contact_lines=contact_lines)


def _png_of(raw: str) -> bytes:
    try:
        png = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("Логотип: ожидается картинка PNG в кодировке base64", field="png_base64") from exc
    if not png:
        raise Invalid("Логотип: пустой файл; чтобы убрать логотип, удалите его", field="png_base64")
    return png


def _api(layout: dict[str, Any]) -> dict[str, Any]:
    png = layout["logo_png"]
    return {**{k: layout[k] for k in TEXTS}, "logo": layout["logo"],
            "logo_png_base64": base64.b64encode(png).decode() if png else None,
            "updated_at": layout["updated_at"], "updated_by": layout["updated_by"]}


@get("/api/receipts/layout", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def api_layout(ctx: Ctx) -> dict[str, Any]:
    """The receipt layout: header, footer, notes, the logo (size, SHA-256, the PNG in base64)."""
    return _api(await load_layout(ctx.conn))


@put("/api/receipts/layout", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def api_put_layout(ctx: Ctx, data: LayoutIn) -> dict[str, Any]:
    """Change the texts (each at most 2,000 characters; absent or null: unchanged)."""
    return _api(await save_layout(ctx.conn, msgspec.structs.asdict(data), user_id=ctx.principal.user_id))


@put("/api/receipts/layout/logo", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def api_put_logo(ctx: Ctx, data: LogoIn) -> dict[str, Any]:
    """Replace the logo: a PNG (at most 200 KB, up to 4096 pixels a side) in base64."""
    return _api(await save_logo(ctx.conn, _png_of(data.png_base64), user_id=ctx.principal.user_id))


@delete("/api/receipts/layout/logo", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def api_delete_logo(ctx: Ctx) -> dict[str, Any]:
    """Remove the logo from the receipts."""
    return _api(await save_logo(ctx.conn, None, user_id=ctx.principal.user_id))


async def _page(ctx: TenantScope, *, form: dict[str, str] | None = None, message: str = "",
                error: bool = False) -> Template:
    layout = await load_layout(ctx.conn)
    png = layout["logo_png"]
    return Template("billing/receipt_layout.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "layout": layout, "labels": TEXTS, "max_text": MAX_TEXT,
        "values": form if form is not None else {k: layout[k] for k in TEXTS},
        "logo_src": f"data:image/png;base64,{base64.b64encode(png).decode()}" if png else None,
        "can_edit": ctx.principal.can("receipts", "edit"), "message": message, "error": error})


@get("/billing/receipt-layout", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def layout_page(ctx: Ctx) -> Template:
    return await _page(ctx)


@post("/billing/receipt-layout", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200,
      request_max_body_size=MAX_BODY)
async def layout_submit(ctx: Ctx, request: Request) -> Template:
    """The form (multipart): the texts, a new logo file, or «remove the logo»."""
    raw = await request.form()
    given = {k: v if isinstance(v := raw.get(k), str) else None for k in TEXTS}  # a field not sent: unchanged
    form = {k: v or "" for k, v in given.items()}
    upload = raw.get("logo")
    remove = raw.get("remove_logo") in ("1", "on")
    async with attempt(ctx) as tried:
        await save_layout(ctx.conn, given, user_id=ctx.principal.user_id)
        if isinstance(upload, UploadFile) and upload.filename:
            png = await upload.read()
            if not png:
                raise Invalid(f"Файл логотипа «{upload.filename}» пуст", field="logo")
            await save_logo(ctx.conn, png, user_id=ctx.principal.user_id)
        elif remove:
            await save_logo(ctx.conn, None, user_id=ctx.principal.user_id)
    if tried.refused:
        return await _page(ctx, form=form, message=tried.message, error=True)
    return await _page(ctx, message="Макет квитанции сохранён: он печатается на всех новых квитанциях")


ROUTES = [api_layout, api_put_layout, api_put_logo, api_delete_logo, layout_page, layout_submit]
