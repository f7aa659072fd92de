"""The tenant's acquirer settings as staff edit them (page /acquiring, API /api/acquiring/settings).

The secret key arrives here already sealed (the platform seals it with the app's secret key) and never
leaves: `settings_view` says only whether one is set and when it last changed.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.cash.cloud_settings import BOTH_RECEIPTS_YOOKASSA, cloud_enabled
from aquabill.subscribers import online_store as store
from aquabill.subscribers.online_payments import PROVIDERS
from aquabill.subscribers.payment_receipt import DEFAULT_VAT, VAT_RATES

SHOP_ID = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


async def settings_view(conn: AsyncConnection) -> dict[str, Any]:
    row = await store.load_settings(conn) or {}
    return {"provider": row.get("provider", "yookassa"), "shop_id": row.get("shop_id", ""),
            "secret_set": bool(row.get("secret")), "secret_changed_at": row.get("secret_changed_at"),
            "send_receipt": row.get("send_receipt", True), "vat": row.get("vat", DEFAULT_VAT),
            "vat_by_service": dict(row.get("vat_by_service") or {}), "tax_system": row.get("tax_system"),
            "enabled": row.get("enabled", False), "updated_at": row.get("updated_at")}


async def save_acquiring(conn: AsyncConnection, *, shop_id: str, sealed_secret: str | None, vat: str,
                         enabled: bool, send_receipt: bool = True, vat_by_service: dict[str, str] | None = None,
                         tax_system: int | None = None, provider: str = "yookassa") -> dict[str, Any]:
    """Check and store the settings; `sealed_secret` None keeps the stored secret."""
    shop_id = shop_id.strip()
    if provider not in PROVIDERS:
        raise Invalid("Поддерживается только ЮKassa", field="provider")
    if shop_id and not SHOP_ID.match(shop_id):
        raise Invalid("Идентификатор магазина (shopId): цифры, например 123456", field="shop_id")
    if vat not in VAT_RATES:
        raise Invalid("Неизвестная ставка НДС", field="vat")
    by_service = dict(vat_by_service or {})
    bad = [v for v in by_service.values() if v not in VAT_RATES]
    if bad:
        raise Invalid(f"Неизвестная ставка НДС: {bad[0]}", field="vat_by_service")
    known = set((await conn.execute(text("SELECT code FROM services WHERE code = ANY(:c)"),
                                    {"c": list(by_service)})).scalars())
    unknown = sorted(set(by_service) - known)
    if unknown:
        raise Invalid(f"Нет такой услуги: {unknown[0]}", field="vat_by_service")
    if tax_system is not None and not 1 <= tax_system <= 6:
        raise Invalid("Система налогообложения: код от 1 до 6", field="tax_system")
    current = await store.load_settings(conn)
    has_secret = bool(sealed_secret) or bool(current and current["secret"])
    if enabled and (not shop_id or not has_secret):
        raise Invalid("Чтобы включить онлайн-оплату, укажите shopId и секретный ключ магазина", field="enabled")
    if send_receipt and await cloud_enabled(conn):
        raise Invalid(BOTH_RECEIPTS_YOOKASSA, field="send_receipt")
    values: dict[str, Any] = {"provider": provider, "shop_id": shop_id, "send_receipt": send_receipt, "vat": vat,
                              "vat_by_service": by_service, "tax_system": tax_system, "enabled": enabled}
    if sealed_secret:
        values["secret"] = sealed_secret
    await store.save_settings(conn, values)
    return await settings_view(conn)
