"""The files of a printing, streamed from disk: a bundle's PDF (`/receipts/print/{id}/bundles/{no}.pdf`) and
the export for print houses (`…/export.csv`, `…/export.xml`). The printing is looked up in the caller's
tenant (another tenant's id: 404) and the file by its recorded name under that tenant's folder."""

from __future__ import annotations

import re
from uuid import UUID

from litestar import get
from litestar.response import File

from aquabill.base.errors import Conflict, NotFound
from aquabill.platform.printing import batches
from aquabill.platform.printing.files import batch_dir, stored_file
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.printing.common import TAGS, VIEW

_BUNDLE = re.compile(r"^(\d{1,6})\.pdf$")
MEDIA = {"csv": "text/csv; charset=utf-8", "xml": "application/xml"}


def _folder(ctx: TenantScope, batch_id: UUID):
    return batch_dir(ctx.core.settings.var_dir, ctx.tenant.slug, batch_id)


@get("/receipts/print/{batch_id:uuid}/bundles/{name:str}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def bundle_file(ctx: Ctx, batch_id: UUID, name: str) -> File:
    """A printed bundle's PDF (`NNN.pdf` or `N.pdf`: the bundle's number)."""
    m = _BUNDLE.match(name)
    if m is None:
        raise NotFound("Пачка не найдена: ожидается адрес вида …/bundles/12.pdf")
    await batches.get_batch(ctx.conn, batch_id)
    b = await batches.bundle(ctx.conn, batch_id, int(m.group(1)))
    if b["done_at"] is None:
        raise Conflict(f"Пачка № {b['no']} ещё не напечатана")
    path = stored_file(_folder(ctx, batch_id), b["file_name"])
    return File(path=path, filename=b["file_name"], media_type="application/pdf", content_disposition_type="attachment")


async def _export(ctx: TenantScope, batch_id: UUID, kind: str) -> File:
    batch = await batches.get_batch(ctx.conn, batch_id)
    name = batch[f"{kind}_file"]
    if not name:
        raise Conflict("Выгрузка для типографии появится, когда печать завершится")
    return File(path=stored_file(_folder(ctx, batch_id), name), filename=name, media_type=MEDIA[kind],
                content_disposition_type="attachment")


@get("/receipts/print/{batch_id:uuid}/export.csv", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def export_csv(ctx: Ctx, batch_id: UUID) -> File:
    """The printing's receipts for a print house: CSV (UTF-8 with BOM, `;`)."""
    return await _export(ctx, batch_id, "csv")


@get("/receipts/print/{batch_id:uuid}/export.xml", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def export_xml(ctx: Ctx, batch_id: UUID) -> File:
    """The printing's receipts for a print house: XML (schema receipts_export.xsd)."""
    return await _export(ctx, batch_id, "xml")


ROUTES = [bundle_file, export_csv, export_xml]
