"""Our side of a document to a counterparty beyond the payee requisites: the organisation's OGRN and the person
who signs (the FNS reconciliation act needs both: СвЮЛУч/@ОГРН and Подписант/ФИО are required), and our EDO
participant id (the exchange file's name).

Where they live: the payee requisites (`payee_requisites`: name, INN, KPP, phone, e-mail), the tenant's
setting `billing_settings['legal_signer']` = {"ogrn", "last_name", "first_name", "middle_name", "position"}
(no migration: a jsonb setting) and `edo_settings.participant_id` of the operator in use. A missing one is a
clear Russian error naming it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.receipts.requisites import load_requisites

SIGNER_KEY = "legal_signer"


async def our_party(conn: AsyncConnection) -> dict[str, Any]:
    req = await load_requisites(conn)
    if req is None or not req.inn:
        raise Invalid("Не заполнены реквизиты организации (наименование и ИНН): «Реквизиты получателя платежей»",
                      field="requisites")
    if len(req.inn) == 10 and not req.kpp:
        raise Invalid("В реквизитах организации не указан КПП", field="requisites.kpp")
    signer = (await conn.execute(text("SELECT value FROM billing_settings WHERE key = :k"),
                                 {"k": SIGNER_KEY})).scalar_one_or_none() or {}
    if not isinstance(signer, dict):
        signer = {}
    missing = [label for key, label in (("ogrn", "ОГРН организации"), ("last_name", "фамилия подписанта"),
                                        ("first_name", "имя подписанта")) if not str(signer.get(key) or "").strip()]
    if missing:
        raise Invalid(f"Для акта сверки в формате ФНС не заполнено: {', '.join(missing)} (настройка "
                      f"«{SIGNER_KEY}»)", field=SIGNER_KEY)
    edo_id = (await conn.execute(text(
        "SELECT participant_id FROM edo_settings WHERE participant_id <> '' ORDER BY enabled DESC, id LIMIT 1")
    )).scalar_one_or_none()
    return {"name": req.name, "inn": req.inn, "kpp": req.kpp, "phone": req.phone, "email": req.email,
            "ogrn": str(signer["ogrn"]).strip(), "edo_id": edo_id or "",
            "signer": {"last_name": str(signer["last_name"]).strip(), "first_name": str(signer["first_name"]).strip(),
                       "middle_name": str(signer.get("middle_name") or "").strip(),
                       "position": str(signer.get("position") or "").strip()}}
