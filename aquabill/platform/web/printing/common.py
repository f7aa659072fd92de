"""What the printing pages and API share: permissions, parsing a start request, the texts of states."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from aquabill.platform.auth.permissions import requires
from aquabill.platform.printing.plan import DEFAULT_SIZE

VIEW, EDIT = [requires("receipts", "view")], [requires("receipts", "edit")]
TAGS = ["receipts"]
STATUS = {"planned": "В очереди", "printing": "Печатается", "done": "Готово", "failed": "Ошибка"}
JOB_STATUS = {"queued": "В очереди", "running": "Выполняется", "done": "Готово", "failed": "Ошибка"}
DELIVERY_NAMES = {"paper": "Бумажная квитанция", "email": "По электронной почте", "portal": "В личном кабинете"}
Short = Annotated[str, msgspec.Meta(max_length=32)]


class PrintForm(msgspec.Struct):
    """The page's form (URL-encoded): `scope` tenant | house | street | delivery, the chosen one's value,
    `bundle_by` house | count, `bundle_size`."""

    period: Short = ""
    scope: Short = "tenant"
    house_id: Short = ""
    street_id: Short = ""
    delivery: Short = ""
    bundle_by: Short = "count"
    bundle_size: Short = str(DEFAULT_SIZE)


def form_params(form: PrintForm) -> dict[str, Any]:
    """The form as the job's parameters (checked by `request.parse_request`)."""
    flt: dict[str, Any] = {}
    if form.scope in ("house", "street", "delivery"):
        key = {"house": "house_id", "street": "street_id", "delivery": "delivery"}[form.scope]
        flt[key] = getattr(form, key).strip() or "?"  # chosen but not given: refused, never the whole tenant
    return {"period": form.period, "filter": flt,
            "bundle": "house" if form.bundle_by == "house" else form.bundle_size}
