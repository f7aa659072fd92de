"""Reading issued documents: the list with filters (month, kind, status, number / counterparty / INN) and
paging, one document with its lines and the documents it corrects or that correct it, its XML as issued."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound

KINDS = {"upd": "УПД", "act": "Акт", "bill": "Счёт на оплату", "advance_invoice": "Счёт-фактура на аванс",
         "ukd": "Корректировочный документ"}
STATUSES = {"issued": "Выставлен", "cancelled": "Аннулирован"}
INTERMEDIATE_BILL = "Счёт на промежуточный платёж"  # a bill with part > 0 (issue/intermediate.py)

_COLUMNS = """d.id, d.kind, d.number, d.issued_on, d.period, d.contract_id, d.counterparty_id, d.status,
    d.corrects_id, d.payment_id, d.function, d.amount_net, d.vat, d.amount, d.due_on, d.file_name,
    d.cancel_reason, d.created_at, d.part, k.number AS contract_number, k.signed_on AS contract_signed_on,
    coalesce(nullif(c.short_name, ''), c.name) AS counterparty, c.inn AS counterparty_inn, c.kpp AS counterparty_kpp"""
_FROM = """FROM legal_documents d JOIN contracts k ON k.id = d.contract_id
    JOIN counterparties c ON c.id = d.counterparty_id"""


def _named(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["kind_name"] = INTERMEDIATE_BILL if out.get("part") else KINDS.get(out["kind"], out["kind"])
    out["status_name"] = STATUSES.get(out["status"], out["status"])
    out["has_xml"] = bool(out.get("file_name"))
    return out


def check_filters(kind: str | None, status: str | None) -> None:
    if kind and kind not in KINDS:
        raise Invalid("Вид документа: " + ", ".join(KINDS), field="kind")
    if status and status not in STATUSES:
        raise Invalid("Состояние документа: " + ", ".join(STATUSES), field="status")


async def list_documents(conn: AsyncConnection, *, period: date | None = None, kind: str | None = None,
                         status: str | None = None, q: str = "", contract_id: int | None = None, limit: int = 50,
                         offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Documents newest first; `q` matches the number (start), the counterparty's name (any part) or INN
    (start)."""
    check_filters(kind, status)
    q = " ".join((q or "").split())
    where = ["(CAST(:period AS date) IS NULL OR d.period = :period OR (d.period IS NULL "
             "AND date_trunc('month', d.issued_on) = :period))",
             "(CAST(:kind AS text) IS NULL OR d.kind = :kind)", "(CAST(:status AS text) IS NULL OR d.status = :status)",
             "(CAST(:contract AS int) IS NULL OR d.contract_id = :contract)"]
    if q:
        where.append("(d.number ILIKE :start OR c.inn LIKE :start OR lower(c.name) LIKE :any "
                     "OR lower(c.short_name) LIKE :any OR k.number ILIKE :start)")
    params = {"period": period, "kind": kind or None, "status": status or None, "contract": contract_id,
              "start": _like(q) + "%", "any": "%" + _like(q.lower()) + "%", "limit": limit, "offset": offset}
    sql = f"{_FROM} WHERE {' AND '.join(where)}"
    total = (await conn.execute(text(f"SELECT count(*) {sql}"), params)).scalar_one()
    rows = (await conn.execute(text(f"SELECT {_COLUMNS} {sql} ORDER BY d.issued_on DESC, d.id DESC "
                                    "LIMIT :limit OFFSET :offset"), params)).mappings().all()
    return [_named(r) for r in rows], total


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def get_document(conn: AsyncConnection, document_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"SELECT {_COLUMNS} {_FROM} WHERE d.id = :id"),
                              {"id": document_id})).mappings().first()
    if row is None:
        raise NotFound(f"Документ {document_id} не найден")
    doc = _named(row)
    doc["lines"] = [dict(r) for r in (await conn.execute(text(
        "SELECT line_no, name, unit_code, unit_name, quantity, price, amount_net, vat_rate, vat, amount, period "
        "FROM legal_document_lines WHERE document_id = :id ORDER BY line_no"), {"id": document_id})).mappings()]
    related = (await conn.execute(text(
        f"SELECT {_COLUMNS} {_FROM} WHERE d.id = :corrects OR d.corrects_id = :id ORDER BY d.id"),
        {"id": document_id, "corrects": row["corrects_id"]})).mappings().all()
    doc["corrects"] = next((_named(r) for r in related if r["id"] == row["corrects_id"]), None)
    doc["corrected_by"] = [_named(r) for r in related if r["corrects_id"] == document_id]
    return doc


async def document_xml(conn: AsyncConnection, document_id: int) -> tuple[str, bytes]:
    row = (await conn.execute(text("SELECT file_name, xml FROM legal_documents WHERE id = :id"),
                              {"id": document_id})).first()
    if row is None:
        raise NotFound(f"Документ {document_id} не найден")
    if row.xml is None:
        raise NotFound("У этого документа нет XML (счёт на оплату составляется только в PDF)")
    return row.file_name, row.xml


async def print_data(conn: AsyncConnection, document_id: int) -> dict[str, Any]:
    """What the printed forms need, as plain data: the document (with lines), the seller (the payee requisites
    and the signer), the buyer (the counterparty), the payment order of an advance invoice, the shipment day."""
    from aquabill.legal_entities.issue.lines import month_end
    from aquabill.legal_entities.issue.parties import SIGNER_KEY, signer_of

    doc = await get_document(conn, document_id)
    row = (await conn.execute(text("""
        SELECT r.name, r.inn, r.kpp, r.address, r.personal_acc, r.bic, r.bank_name, r.corresp_acc,
               (SELECT value FROM billing_settings WHERE key = :key) AS signer,
               c.name AS b_name, c.inn AS b_inn, c.kpp AS b_kpp,
               coalesce(nullif(c.legal_address, ''), c.postal_address) AS b_address,
               p.paid_on, coalesce(nullif(p.operation_id, ''), p.id::text) AS order_number
        FROM legal_documents d JOIN counterparties c ON c.id = d.counterparty_id
        LEFT JOIN payee_requisites r ON r.id = 1 LEFT JOIN payments p ON p.id = d.payment_id
        WHERE d.id = :id"""), {"id": document_id, "key": SIGNER_KEY})).mappings().one()
    try:
        signer = signer_of(row["signer"])
        signed = {"short": signer.person.short, "position": signer.position}
    except Invalid:
        signed = {"short": "", "position": ""}
    corr = row["corresp_acc"] if row["corresp_acc"] and row["corresp_acc"] != "0" else ""
    return {"document": doc,
            "seller": {"name": row["name"] or "", "inn": row["inn"] or "", "kpp": row["kpp"] or "",
                       "address": row["address"] or "", "account": row["personal_acc"] or "", "bic": row["bic"] or "",
                       "bank_name": row["bank_name"] or "", "corr_account": corr},
            "buyer": {"name": row["b_name"], "inn": row["b_inn"], "kpp": row["b_kpp"] or "",
                      "address": row["b_address"] or ""},
            "signer": signed,
            "payment_ref": f"№ {row['order_number']} от {row['paid_on']:%d.%m.%Y}" if row["paid_on"] else None,
            "shipped_on": month_end(doc["period"]) if doc["period"] else None}
