"""What an organisation's portal user sees of a linked organisation: its contracts with the balance, its
documents (with the EDO status and the XML as issued), its contracts' commercial meters with their last readings,
and a reading submitted from the portal. Every function takes the counterparty id the caller has already checked
with `portal.require_linked`; a document or a meter of another organisation is `NotFound`, like a missing one.

The balance of a contract (documents − payments), stated here once:
    debit  = Σ amount of its issued shipment documents: 'upd', 'act' and their corrections 'ukd' (a 'bill' — счёт на
             оплату — only asks for money and an 'advance_invoice' records a prepayment: neither is a debt);
    credit = Σ amount of the payments identified to the contract (status 'identified'; storno, rolled back and
             unidentified payments never count, as for individuals: billing_core/payments/allocation.py);
    balance = debit − credit (positive: the organisation owes; negative: an advance). Exact Decimals, no rounding.

A reading goes through exactly the validation of every source (`billing_core.metering.reading_entry.add_reading`,
the path `point_meters.add_point_reading` takes for staff), with the source 'portal', and only inside the tenant's
reading window — the individuals' portal rule (`subscribers.readings.window_refusal`, setting `portal_reading_days`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound, PeriodClosed
from aquabill.billing_core.metering.reading_entry import add_reading
from aquabill.legal_entities.catalogue import CONTRACT_KINDS, CONTRACT_STATUSES
from aquabill.legal_entities.point_meters import meters_of
from aquabill.subscribers.readings import answer, reading_days, reading_value, window_refusal

DOCUMENT_KINDS = {"bill": "Счёт на оплату", "upd": "УПД", "act": "Акт", "advance_invoice": "Счёт-фактура на аванс",
                  "ukd": "Корректировочный документ (УКД)"}
DOCUMENT_STATUSES = {"issued": "Выставлен", "cancelled": "Аннулирован"}
EDO_STATUSES = {"queued": "В очереди на отправку", "sending": "Отправляется", "sent": "Отправлен",
                "delivered": "Доставлен", "signed": "Подписан", "rejected": "Отклонён", "failed": "Не отправлен",
                "unknown": "Уточняется"}
DEBT_KINDS = ("upd", "act", "ukd")
DOCUMENT_NOT_FOUND = "Документ не найден"
METER_NOT_FOUND = "Счётчик не найден"


async def contracts_with_balance(conn: AsyncConnection, counterparty_id: int) -> list[dict[str, Any]]:
    """The organisation's contracts (drafts left out), newest first, with debit, credit and balance."""
    rows = await conn.execute(text("""
        SELECT k.id, k.number, k.signed_on, k.kind, k.status, k.valid_from, k.valid_to,
               coalesce(d.debit, 0) AS debit, coalesce(p.credit, 0) AS credit
        FROM contracts k
        LEFT JOIN (SELECT contract_id, sum(amount) AS debit FROM legal_documents
                   WHERE status = 'issued' AND kind = ANY(:kinds) GROUP BY contract_id) d ON d.contract_id = k.id
        LEFT JOIN (SELECT contract_id, sum(amount) AS credit FROM payments
                   WHERE status = 'identified' AND contract_id IS NOT NULL GROUP BY contract_id) p
               ON p.contract_id = k.id
        WHERE k.counterparty_id = :c AND k.status <> 'draft'
        ORDER BY k.signed_on DESC, k.id DESC"""), {"c": counterparty_id, "kinds": list(DEBT_KINDS)})
    return [{**dict(r._mapping), "kind_name": CONTRACT_KINDS.get(r.kind, r.kind),
             "status_name": CONTRACT_STATUSES.get(r.status, r.status), "balance": r.debit - r.credit} for r in rows]


def totals(contracts: list[dict[str, Any]]) -> dict[str, Decimal]:
    debit = sum((c["debit"] for c in contracts), Decimal("0.00"))
    credit = sum((c["credit"] for c in contracts), Decimal("0.00"))
    return {"debit": debit, "credit": credit, "balance": debit - credit}


async def require_contract(conn: AsyncConnection, counterparty_id: int, contract_id: int) -> dict[str, Any]:
    """The organisation's contract (not a draft), or NotFound."""
    row = (await conn.execute(text(
        "SELECT id, number, signed_on, kind FROM contracts WHERE id = :k AND counterparty_id = :c "
        "AND status <> 'draft'"), {"k": contract_id, "c": counterparty_id})).first()
    if row is None:
        raise NotFound("Договор не найден")
    return dict(row._mapping)


_DOCUMENTS = """
    SELECT d.id, d.kind, d.number, d.issued_on, d.period, d.contract_id, k.number AS contract_number, d.status,
           d.function, d.amount_net, d.vat, d.amount, d.due_on, d.file_name, d.xml IS NOT NULL AS has_xml,
           e.status AS edo_status, e.reason AS edo_reason
    FROM legal_documents d JOIN contracts k ON k.id = d.contract_id
    LEFT JOIN LATERAL (SELECT m.status, m.reason FROM edo_messages m WHERE m.document_id = d.id
                       ORDER BY m.id DESC LIMIT 1) e ON true
    WHERE d.counterparty_id = :c
"""


def _document(r) -> dict[str, Any]:
    d = dict(r._mapping)
    d["kind_name"] = DOCUMENT_KINDS.get(d["kind"], d["kind"])
    d["status_name"] = DOCUMENT_STATUSES.get(d["status"], d["status"])
    d["edo_status_name"] = EDO_STATUSES.get(d["edo_status"], d["edo_status"]) if d["edo_status"] else ""
    return d


async def documents(conn: AsyncConnection, counterparty_id: int, *, limit: int = 30,
                    offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The organisation's documents, newest first."""
    rows = await conn.execute(text(_DOCUMENTS + " ORDER BY d.issued_on DESC, d.id DESC LIMIT :l OFFSET :o"),
                              {"c": counterparty_id, "l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(*) FROM legal_documents WHERE counterparty_id = :c"),
                                {"c": counterparty_id})).scalar_one()
    return [_document(r) for r in rows], total


async def document(conn: AsyncConnection, counterparty_id: int, document_id: int) -> dict[str, Any]:
    """One of the organisation's documents (NotFound for another's)."""
    row = (await conn.execute(text(_DOCUMENTS + " AND d.id = :d"), {"c": counterparty_id, "d": document_id})).first()
    if row is None:
        raise NotFound(DOCUMENT_NOT_FOUND)
    return _document(row)


async def document_xml(conn: AsyncConnection, counterparty_id: int, document_id: int) -> tuple[str, bytes]:
    """(file name, the XML exactly as issued) of the organisation's document; NotFound when it has none."""
    row = (await conn.execute(text(
        "SELECT id, file_name, xml FROM legal_documents WHERE id = :d AND counterparty_id = :c"),
        {"d": document_id, "c": counterparty_id})).first()
    if row is None or row.xml is None:
        raise NotFound(DOCUMENT_NOT_FOUND if row is None else "У этого документа нет XML-файла")
    return (row.file_name or f"document-{row.id}.xml"), bytes(row.xml)


# ---- meters and readings ---------------------------------------------------------------------------------------

_POINTS = """
    SELECT p.id, p.name AS point_name, p.kind, o.name AS object_name, o.address, k.id AS contract_id,
           k.number AS contract_number
    FROM contract_points p JOIN contract_objects o ON o.id = p.object_id JOIN contracts k ON k.id = o.contract_id
    WHERE k.counterparty_id = :c AND k.status = 'active'
"""


async def meters(conn: AsyncConnection, counterparty_id: int, today: date) -> list[dict[str, Any]]:
    """The commercial meters in service on `today` of the points of the organisation's active contracts, each
    with its point, object, contract and last accepted reading."""
    points = {r.id: dict(r._mapping) for r in await conn.execute(
        text(_POINTS + " ORDER BY k.number, o.name, p.name, p.id"), {"c": counterparty_id})}
    found = await meters_of(conn, list(points), today=today) if points else {}
    result = []
    for point_id, point in points.items():
        for m in found.get(point_id, []):
            if m["installed_on"] <= today and (m["removed_on"] is None or m["removed_on"] > today) and (
                    m["failed_on"] is None or m["failed_on"] > today):
                # the point's columns beside the meter's, the meter's own id kept (the point's is `point_id`)
                result.append({**m, **{k: v for k, v in point.items() if k != "id"}, "point_id": point_id})
    return result


async def _meter(conn: AsyncConnection, counterparty_id: int, meter_id: int, today: date) -> dict[str, Any]:
    """The organisation's meter in service, locked: two submissions for one meter go one after the other."""
    row = (await conn.execute(text(
        "SELECT m.id FROM meters m JOIN contract_points p ON p.id = m.contract_point_id "
        "JOIN contract_objects o ON o.id = p.object_id JOIN contracts k ON k.id = o.contract_id "
        "WHERE m.id = :m AND m.kind = 'commercial' AND k.counterparty_id = :c AND k.status = 'active' "
        "FOR UPDATE OF m"), {"m": meter_id, "c": counterparty_id})).first()
    found = [m for m in await meters(conn, counterparty_id, today) if m["id"] == meter_id] if row else []
    if not found:
        raise NotFound(METER_NOT_FOUND, field="meter_id")
    meter = found[0]
    last = meter["last_reading"] or {}
    return {**meter, "last_read_on": last.get("read_on"), "last_value": last.get("value")}


async def submit_reading(conn: AsyncConnection, counterparty_id: int, meter_id: int, value: Any, *,
                         today: date) -> dict[str, Any]:
    """A reading of `today` of the organisation's meter from the portal: `status` (accepted, flagged, rejected,
    duplicate), `message` in plain Russian and the reading. Outside the window, a bad number, a closed month:
    `Invalid` before anything is stored."""
    meter = await _meter(conn, counterparty_id, meter_id, today)
    refusal = window_refusal(today, await reading_days(conn))
    if refusal:
        raise Invalid(refusal, field="value")
    number = reading_value(value if isinstance(value, str | Decimal) else "")
    try:
        async with conn.begin_nested():
            reading = await add_reading(conn, meter_id, read_on=today, value=number, source="portal")
    except PeriodClosed as exc:
        raise Invalid("Расчётный период этого месяца уже закрыт, показания за него не принимаются. "
                      "Передайте показания в следующем месяце.", field="value") from exc
    except IntegrityError as exc:  # a reading of the same day accepted at the same moment by another door
        raise Conflict("Показание по этому счётчику только что передано. Обновите страницу.", field="value") from exc
    status = "duplicate" if reading["duplicate"] else reading["status"]
    return {"status": status, "message": answer(status, reading, meter), "reading_id": reading["id"],
            "meter_id": meter_id, "value": reading["value"], "read_on": reading["read_on"],
            "consumption": reading["consumption"], "reason": reading["reason"]}
