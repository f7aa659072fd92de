"""Documents with a real UPD XML for the EDO tests, and the clock helpers."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from datetime import date

from sqlalchemy import text

from aquabill.channels.fns_upd.upd import build_upd
from aquabill.devserver.fakes.diadoc import FakeDiadoc
from tests.integration.billing_core.api_helpers import Api
from tests.integration.fns_upd.docs import BUYER, FORMED_AT, SELLER, water_upd
from tests.integration.legal_entities.helpers import make_contract, org_requisites

OURS = SELLER.edo_id  # the seller's EDO participant id in the UPD's file name
_numbers = itertools.count(1)


async def make_document(api: Api, tx, diadoc: FakeDiadoc | None, *, edo_id: bool = True, reject_reason: str | None = None,
                        kind: str = "upd", period: date = date(2026, 1, 1), seller_edo: str = OURS) -> dict:
    """An issued document of a new counterparty (with a box at the fake unless `edo_id` is False) whose XML is a
    real UPD from us to it; {id, participant, box, xml}."""
    requisites = org_requisites()
    participant = f"2BM-{requisites['inn']}" if edo_id else ""
    counterparty = await api.ok("post", "/api/legal/counterparties",
                                {"kind": "org", "name": "ООО «Получатель»", **requisites, "edo_id": participant})
    contract = await make_contract(api, counterparty["id"])
    box = diadoc.add_box(participant, owner=f"buyer-{participant}", reject_reason=reject_reason) \
        if edo_id and diadoc is not None else None
    number = f"ЭДО-{next(_numbers):05d}"
    upd = build_upd(replace(water_upd(buyer=replace(BUYER, edo_id=participant or "2BM-NONE"), number=number),
                            seller=replace(SELLER, edo_id=seller_edo)), formed_at=FORMED_AT)
    async with tx() as conn:
        doc_id = (await conn.execute(text(
            "INSERT INTO legal_documents(kind, number, issued_on, period, contract_id, counterparty_id, function, "
            "amount_net, vat, amount, file_name, xml, xml_sha256) VALUES (:kind, :number, DATE '2026-01-31', :period, "
            ":contract, :cp, :function, 6572.44, 1445.94, 8018.38, :file, :xml, :sha) RETURNING id"),
            {"kind": kind, "number": number, "period": period, "contract": contract["id"], "cp": counterparty["id"],
             "function": "" if kind == "bill" else "СЧФДОП", "file": upd.name, "xml": upd.content,
             "sha": hashlib.sha256(upd.content).hexdigest()})).scalar_one()
    return {"id": doc_id, "participant": participant, "box": box, "xml": upd.content, "number": number}


async def time_passes(tx) -> None:
    """The back-offs and poll intervals are over (instead of waiting minutes)."""
    async with tx() as conn:
        await conn.execute(text("UPDATE edo_messages SET next_at = now() WHERE status IN ('queued', 'sent', "
                                "'delivered', 'unknown')"))


async def message(tx, document_id: int) -> dict:
    async with tx() as conn:
        row = (await conn.execute(text("SELECT * FROM edo_messages WHERE document_id = :d ORDER BY id DESC LIMIT 1"),
                                  {"d": document_id})).mappings().one()
    return dict(row)

