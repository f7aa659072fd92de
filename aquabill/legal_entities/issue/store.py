"""Writing issued documents (set-based: all of a batch's documents in one INSERT … SELECT FROM unnest, their
lines in another) and cancelling one.

Cancelling (status 'cancelled' with a reason; the audit trigger of `legal_documents` records who and when): a
document sent through EDO (an `edo_messages` row that is not failed) is refused — it is the buyer's now and is
annulled by the EDO's own procedure; so is a document of a closed month (`periods`, Tax Code: a closed
month's figures are immutable — correct it with a UKD in an open month). A cancelled month's UPD/act/bill may be
issued again (the unique index `legal_documents_once` covers only issued ones).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound


@dataclass(slots=True)
class NewLine:
    line_no: int
    name: str
    amount_net: Decimal
    vat_rate: str
    vat: Decimal
    amount: Decimal
    service_id: int | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    period: date | None = None
    unit_code: str = "113"
    unit_name: str = "м3"


@dataclass(slots=True)
class NewDocument:
    kind: str
    number: str
    issued_on: date
    contract_id: int
    counterparty_id: int
    amount_net: Decimal
    vat: Decimal
    amount: Decimal
    lines: list[NewLine]
    period: date | None = None
    function: str = ""
    due_on: date | None = None
    corrects_id: int | None = None
    payment_id: int | None = None
    guid: UUID | None = None
    file_name: str = ""
    xml: bytes | None = None
    details: dict[str, Any] = field(default_factory=dict)
    part: int = 0  # a bill of the contract's n-th intermediate payment of `period` (t0035); 0: the month's own


_INSERT_DOCS = text("""
    INSERT INTO legal_documents(kind, number, issued_on, period, contract_id, counterparty_id, function,
                                amount_net, vat, amount, due_on, corrects_id, payment_id, guid, file_name, xml,
                                xml_sha256, created_by, part)
    SELECT * FROM unnest(CAST(:kind AS text[]), CAST(:number AS text[]), CAST(:issued_on AS date[]),
                         CAST(:period AS date[]), CAST(:contract_id AS int[]), CAST(:counterparty_id AS int[]),
                         CAST(:function AS text[]), CAST(:amount_net AS numeric[]), CAST(:vat AS numeric[]),
                         CAST(:amount AS numeric[]), CAST(:due_on AS date[]), CAST(:corrects_id AS int[]),
                         CAST(:payment_id AS bigint[]), CAST(:guid AS uuid[]), CAST(:file_name AS text[]),
                         CAST(:xml AS bytea[]), CAST(:sha AS text[]), CAST(:created_by AS int[]),
                         CAST(:part AS smallint[]))
    RETURNING id""")
_INSERT_LINES = text("""
    INSERT INTO legal_document_lines(document_id, line_no, service_id, name, unit_code, unit_name, quantity, price,
                                     amount_net, vat_rate, vat, amount, period)
    SELECT * FROM unnest(CAST(:document_id AS int[]), CAST(:line_no AS int[]), CAST(:service_id AS int[]),
                         CAST(:name AS text[]), CAST(:unit_code AS text[]), CAST(:unit_name AS text[]),
                         CAST(:quantity AS numeric[]), CAST(:price AS numeric[]), CAST(:amount_net AS numeric[]),
                         CAST(:vat_rate AS text[]), CAST(:vat AS numeric[]), CAST(:amount AS numeric[]),
                         CAST(:period AS date[]))""")


async def insert_documents(conn: AsyncConnection, docs: list[NewDocument], user_id: int | None) -> list[int]:
    """Insert `docs` and their lines in two statements; their ids in the same order."""
    if not docs:
        return []
    cols: dict[str, list[Any]] = {k: [] for k in (
        "kind", "number", "issued_on", "period", "contract_id", "counterparty_id", "function", "amount_net", "vat",
        "amount", "due_on", "corrects_id", "payment_id", "guid", "file_name", "xml", "sha", "created_by", "part")}
    for d in docs:
        for k in cols:
            if k == "sha":
                cols[k].append(hashlib.sha256(d.xml).hexdigest() if d.xml is not None else "")
            elif k == "created_by":
                cols[k].append(user_id)
            else:
                cols[k].append(getattr(d, k))
    # INSERT … SELECT FROM unnest keeps the arrays' order for the identity values; RETURNING order is that of
    # the rows inserted, which for a plain INSERT … SELECT is the SELECT's order
    ids = [row[0] for row in await conn.execute(_INSERT_DOCS, cols)]
    if len(ids) != len(docs):  # pragma: no cover - a plain INSERT inserts every row or fails
        raise RuntimeError("legal_documents: not every document was inserted")
    ids.sort()  # identities are taken in insertion order
    lines: dict[str, list[Any]] = {k: [] for k in (
        "document_id", "line_no", "service_id", "name", "unit_code", "unit_name", "quantity", "price",
        "amount_net", "vat_rate", "vat", "amount", "period")}
    for doc_id, d in zip(ids, docs, strict=True):
        for ln in d.lines:
            lines["document_id"].append(doc_id)
            for k in list(lines)[1:]:
                lines[k].append(getattr(ln, k))
    if lines["document_id"]:
        await conn.execute(_INSERT_LINES, lines)
    return ids


async def cancel_document(conn: AsyncConnection, document_id: int, reason: str) -> dict[str, Any]:
    reason = " ".join((reason or "").split())
    row = (await conn.execute(text("""
        SELECT d.id, d.kind, d.number, d.status, d.period, d.issued_on,
               EXISTS (SELECT 1 FROM edo_messages m WHERE m.document_id = d.id AND m.status <> 'failed') AS sent,
               EXISTS (SELECT 1 FROM periods p WHERE p.status = 'closed'
                       AND p.period = coalesce(d.period, date_trunc('month', d.issued_on)::date)) AS closed,
               EXISTS (SELECT 1 FROM legal_documents u WHERE u.corrects_id = d.id AND u.status = 'issued') AS corrected
        FROM legal_documents d WHERE d.id = :id FOR UPDATE OF d"""), {"id": document_id})).mappings().first()
    if row is None:  # first: another tenant's (or no) document is not found whatever the body says
        raise NotFound(f"Документ {document_id} не найден")
    if not reason:
        raise Invalid("Укажите причину аннулирования документа", field="reason")
    if len(reason) > 1000:
        raise Invalid("Причина аннулирования длиннее 1000 символов", field="reason")
    if row["status"] == "cancelled":
        raise Conflict(f"Документ № {row['number']} уже аннулирован")
    if row["sent"]:
        raise Conflict(f"Документ № {row['number']} отправлен по ЭДО: аннулируйте его через оператора ЭДО")
    if row["closed"]:
        raise Conflict(f"Документ № {row['number']} относится к закрытому месяцу: исправьте его корректировочным "
                       "документом в открытом месяце")
    if row["corrected"]:
        raise Conflict(f"К документу № {row['number']} выставлен корректировочный документ: сначала аннулируйте его")
    await conn.execute(text("UPDATE legal_documents SET status = 'cancelled', cancel_reason = :r WHERE id = :id"),
                       {"id": document_id, "r": reason})
    return {"id": document_id, "status": "cancelled", "cancel_reason": reason}
