"""Issuing a month's documents to legal entities from their calculation (`legal_charges` 'charge' rows posted
to the month): per contract one UPD (function СЧФДОП) when VAT is charged, or an act (function ДОП, без НДС)
when the contract is без НДС, and one bill (счёт на оплату, no FNS XML) with the same total, due by the
contract's payment terms. Correction documents for recalculated closed months: `ukd.issue_corrections`, called
at the end.

- Idempotent and serialised: a transaction-level advisory lock makes two issues run one after the other; a
  contract that already has an issued document of a kind for the month gets no second one (and the unique index
  `legal_documents_once` backs this).
- Set-based: the month's charges are read in ONE query (grouped into document lines by SQL), the numbers taken
  in one UPSERT per kind (`numbering.py`), the documents and lines inserted with unnest arrays (`store.py`).
  Only the XML is per document, built and validated by the renderer (`render.py`) in chunks off the event loop,
  pipelined: the next chunk's XML is made (in the renderer's worker processes, started while the charges are
  read) while this chunk is written.
- A contract whose documents cannot be drawn up (a buyer without an address, a negative line …) is left out
  and reported in `errors`; the seller's missing requisites stop the whole issue (nothing could be issued).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import DomainError, Invalid
from aquabill.legal_entities.documents import Document, DocumentRef, Function, Party, check_document
from aquabill.legal_entities.issue import numbering, render
from aquabill.legal_entities.issue.lines import (
    BuiltLine,
    ChargeGroup,
    build_lines,
    check_issue_day,
    due_on,
    month_end,
)
from aquabill.legal_entities.issue.parties import (
    BUYER_BANK_JOIN,
    BUYER_COLUMNS,
    buyer_of,
    load_seller,
)
from aquabill.legal_entities.issue.store import NewDocument, NewLine, insert_documents
from aquabill.legal_entities.issue.ukd import issue_corrections

Progress = Callable[[float, str], Awaitable[None]] | None
LOCK_KEY = "aquabill.legal_documents.issue"
ZONE = ZoneInfo("Europe/Moscow")  # the time of forming written into the file (ВремИнфПр)
CHUNK = 2000  # documents (half of them with XML) built, validated and written per step of the pipeline

_CHARGES = text(f"""
    WITH scope AS (
        SELECT lc.contract_id, lc.service_id, lc.period, lc.price, lc.price_includes_vat,
               lc.vat_mode = 'vat' AS vat_charged, sum(lc.volume) AS volume
        FROM legal_charges lc
        WHERE lc.posted_period = :period AND lc.kind = 'charge'
          AND (CAST(:contract AS int) IS NULL OR lc.contract_id = CAST(:contract AS int))
        GROUP BY 1, 2, 3, 4, 5, 6),
    issued AS (  -- the month's own bill is part 0; the intermediate payments' bills (part > 0) are not it
        SELECT d.contract_id, bool_or(d.kind IN ('upd', 'act')) AS has_shipment, bool_or(d.kind = 'bill' AND d.part = 0) AS has_bill
        FROM legal_documents d
        WHERE d.period = :period AND d.status = 'issued' AND d.kind IN ('upd', 'act', 'bill')
          AND d.contract_id IN (SELECT contract_id FROM scope)
        GROUP BY 1)
    SELECT s.contract_id, s.service_id, sv.name AS service_name, s.period, s.price, s.price_includes_vat,
           s.vat_charged, s.volume, k.number AS contract_number, k.signed_on, k.counterparty_id, v.payment_terms,
           coalesce(i.has_shipment, false) AS has_shipment, coalesce(i.has_bill, false) AS has_bill,
           {BUYER_COLUMNS}
    FROM scope s
    JOIN services sv ON sv.id = s.service_id
    JOIN contracts k ON k.id = s.contract_id
    JOIN counterparties c ON c.id = k.counterparty_id
    {BUYER_BANK_JOIN}
    LEFT JOIN issued i ON i.contract_id = s.contract_id
    LEFT JOIN LATERAL (SELECT cv.payment_terms FROM contract_versions cv
                       WHERE cv.contract_id = k.id AND cv.valid_from <= :last
                       ORDER BY cv.valid_from DESC LIMIT 1) v ON true
    WHERE NOT (coalesce(i.has_shipment, false) AND coalesce(i.has_bill, false))
    ORDER BY s.contract_id, sv.sort, s.service_id, s.period, s.price, s.price_includes_vat, s.vat_charged""")


async def _planned_count(conn: AsyncConnection, period: date) -> int:
    """About how many UPD/act XML files the month will need (contracts with charges; an estimate)."""
    return (await conn.execute(text(
        "SELECT count(DISTINCT contract_id) FROM legal_charges WHERE posted_period = :p AND kind = 'charge'"),
        {"p": period})).scalar_one()


async def lock_issuing(conn: AsyncConnection) -> None:
    """One issue of documents at a time per tenant (until the transaction ends)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": LOCK_KEY})


async def formed_at(conn: AsyncConnection) -> datetime:
    return (await conn.execute(text("SELECT now()"))).scalar_one().astimezone(ZONE)


def contract_ref(number: str, signed_on: date) -> DocumentRef:
    return DocumentRef("Договор", number, signed_on)


def new_lines(built: list[BuiltLine]) -> list[NewLine]:
    return [NewLine(line_no=b.line.number, name=b.line.name, amount_net=b.line.amounts.net,
                    vat_rate=b.line.rate.label, vat=b.line.amounts.vat_or_zero, amount=b.line.amounts.gross,
                    service_id=b.service_id, quantity=b.line.quantity, price=b.line.price, period=b.period)
            for b in built]


async def render_documents(docs: list[NewDocument], jobs: list[render.XmlJob], progress: Progress = None,
                           *, start: float = 0.0, end: float = 100.0) -> None:
    """Fill `docs[i].file_name/xml` from `jobs[i]` (chunked, off the event loop)."""
    fn = render.renderer()
    for at in range(0, len(jobs), CHUNK):
        files = await asyncio.to_thread(fn, jobs[at:at + CHUNK])
        for doc, f in zip(docs[at:at + CHUNK], files, strict=True):
            doc.file_name, doc.xml = f.file_name, f.content
        if progress is not None:
            done = min(at + CHUNK, len(jobs))
            await progress(start + (end - start) * done / len(jobs), f"Сформировано XML: {done} из {len(jobs)}")


def _render_chunk(docs: list[NewDocument], jobs: list[render.XmlJob | None], at: int) -> asyncio.Task[None]:
    """Start building the XML of the chunk of `docs` at `at` (bills have none)."""
    with_xml = [(d, j) for d, j in zip(docs[at:at + CHUNK], jobs[at:at + CHUNK], strict=True) if j is not None]
    return asyncio.ensure_future(render_documents([d for d, _ in with_xml], [j for _, j in with_xml]))


def _guid_key(seller: Party, kind: str, issued_on: date, number: str) -> str:
    return f"{seller.inn}/{kind}/{issued_on.year}/{number}"


async def issue_month(conn: AsyncConnection, period: date, *, issued_on: date | None = None,
                      contract_id: int | None = None, user_id: int | None = None,
                      progress: Progress = None) -> dict[str, Any]:
    """Issue the month's UPD/act and bill of every contract with charges posted to `period` (or of one
    contract) that lacks them. Returns counts, the amount issued and the contracts left out with the reason."""
    if period.day != 1:
        raise Invalid("Период — первое число месяца", field="period")
    issued_on = check_issue_day(period, issued_on)
    shipped_on = month_end(period)
    await lock_issuing(conn)
    seller = await load_seller(conn)
    if contract_id is None:  # a whole month: the XML workers start while the charges are read
        render.warm_up(await _planned_count(conn, period))
    rows = (await conn.execute(_CHARGES, {"period": period, "last": shipped_on,
                                          "contract": contract_id})).mappings().all()
    if progress is not None:
        await progress(5, f"Прочитано строк начислений: {len(rows)}")
    per_contract: dict[int, list[Any]] = {}
    for row in rows:
        per_contract.setdefault(row["contract_id"], []).append(row)

    errors: list[dict[str, Any]] = []
    planned: list[tuple[Any, list[BuiltLine], bool, bool, Document | None]] = []
    for cid, group in per_contract.items():
        head = group[0]
        try:
            built = build_lines([ChargeGroup(r["service_id"], r["service_name"], r["period"], r["price"],
                                             r["price_includes_vat"], r["vat_charged"], r["volume"])
                                 for r in group], shipped_on)
            if not built:
                continue
            buyer = buyer_of(head)
            doc = None
            if not head["has_shipment"]:
                vat_charged = any(not b.line.rate.exempt for b in built)
                doc = check_document(Document(
                    function=Function.SCHFDOP if vat_charged else Function.DOP, number="0", date=issued_on,
                    seller=seller.party, buyer=buyer, lines=tuple(b.line for b in built), signer=seller.signer,
                    contract=contract_ref(head["contract_number"], head["signed_on"]),
                    period=(period, shipped_on), shipped_on=shipped_on))
                _check_edo_ids(doc)
            planned.append((head, built, not head["has_shipment"], not head["has_bill"], doc))
        except DomainError as exc:
            errors.append({"contract_id": cid, "contract": head["contract_number"], "message": exc.message})

    upd_count = sum(1 for p in planned if p[4] is not None and p[4].function is Function.SCHFDOP)
    act_count = sum(1 for p in planned if p[4] is not None and p[4].function is Function.DOP)
    numbers = {kind: iter(await numbering.take_numbers(conn, kind, issued_on.year, count))
               for kind, count in (("upd", upd_count), ("act", act_count),
                                   ("bill", sum(1 for p in planned if p[3])))}
    now = await formed_at(conn)
    docs: list[NewDocument] = []
    jobs: list[render.XmlJob | None] = []  # aligned with docs: the XML to build, None for a bill
    for head, built, want_shipment, want_bill, doc in planned:
        total_net = sum((b.line.amounts.net for b in built), Decimal("0.00"))
        total_vat = sum((b.line.amounts.vat_or_zero for b in built), Decimal("0.00"))
        # due_on on the UPD/act as on the bill: the debt for the month's services falls due by the contract's
        # payment terms (the due day of the next month; Decree 644 of 29.07.2013 p. 16 by default) — penalties
        # (416-FZ) and the allocation order of payments read it from the UPD/act, the bill is only a request
        common = {"issued_on": issued_on, "period": period, "contract_id": head["contract_id"],
                  "counterparty_id": head["counterparty_id"], "amount_net": total_net, "vat": total_vat,
                  "amount": total_net + total_vat, "due_on": due_on(period, head["payment_terms"])}
        lines = new_lines(built)  # the same lines on the UPD/act and the bill (only read when written)
        if want_shipment and doc is not None:
            kind = "upd" if doc.function is Function.SCHFDOP else "act"
            number = next(numbers[kind])
            doc = replace(doc, number=number)
            guid = render.document_guid(_guid_key(seller.party, kind, issued_on, number))
            new = NewDocument(kind=kind, number=number, function=doc.function.value, guid=guid, lines=lines,
                              **common)
            docs.append(new)
            jobs.append(render.XmlJob(doc, now, guid))
        if want_bill:
            docs.append(NewDocument(kind="bill", number=next(numbers["bill"]), lines=lines, **common))
            jobs.append(None)
    if progress is not None:
        await progress(10, f"Документов к выставлению: {len(docs)}")
    written = 0
    starts = list(range(0, len(docs), CHUNK))
    # a pipeline of chunks (bounded memory: two chunks at a time): the next chunk's XML is built and validated
    # (by the renderer's worker processes) while this one is written to the database
    rendering = _render_chunk(docs, jobs, starts[0]) if starts else None
    try:
        for i, at in enumerate(starts):
            assert rendering is not None
            await rendering
            rendering = _render_chunk(docs, jobs, starts[i + 1]) if i + 1 < len(starts) else None
            part = docs[at:at + CHUNK]
            written += len(await insert_documents(conn, part, user_id))
            for d in part:
                d.xml = None
            if progress is not None:
                await progress(10 + 85 * written / len(docs), f"Выставлено документов: {written} из {len(docs)}")
    finally:
        if rendering is not None and not rendering.done():
            rendering.cancel()
            await asyncio.gather(rendering, return_exceptions=True)
    result = {"period": period.isoformat(), "issued_on": issued_on.isoformat(),
              "contracts": len({d.contract_id for d in docs}), "documents": len(docs),
              "upd": upd_count, "act": act_count, "bill": sum(1 for d in docs if d.kind == "bill"),
              "amount": str(sum((d.amount for d in docs if d.kind != "bill"), Decimal("0.00"))),
              "errors": errors}
    corrections = await issue_corrections(conn, period, issued_on=issued_on, contract_id=contract_id,
                                          user_id=user_id, seller=seller, now=now)
    result["ukd"] = corrections["documents"]
    result["errors"] += corrections["errors"]
    if progress is not None:
        await progress(100, "Готово")
    return result


def _check_edo_ids(doc: Document) -> None:
    for role, party in (("buyer", doc.buyer), ("seller", doc.seller)):
        if not render.EDO_ID.match(party.edo_id):
            raise Invalid(f"Идентификатор участника ЭДО «{party.edo_id}» должен содержать от 4 до 46 латинских "
                          "букв, цифр или дефисов", field=f"{role}.edo_id")
