"""Correction documents (УКД) for a recalculated closed month: the calculation's 'recalc' rows (new − old)
posted to the month being issued that change an earlier month's issued UPD / act.

- Tax Code art. 168 p. 3 and art. 169 p. 5.2: when the price or the quantity of services shipped changes, the
  seller issues a correction invoice within 5 calendar days of the buyer's consent (here: the recalculation
  under the contract); it shows per line the values before the change (line A), after it (line Б) and the
  difference, increase (В) or decrease (Г). The UKD is the correction invoice joined with the document on the
  change of cost: function КСЧФДИС when the corrected document was a UPD (СЧФДОП), ДИС for an act без НДС.
- Before = the month's charges plus every recalculation posted before this month; after = the same plus this
  month's recalculation; both grouped and computed as the month's document lines (`lines.build_lines`, the rate
  of the ORIGINAL shipment day — the correction does not change when the tax base arose, art. 167 p. 10 /
  art. 172 p. 13 on corrections; verified: the rate follows the shipment, the article numbers are quoted from
  memory). A line present only on one side shows zero on the other.
- One UKD per corrected document and issuing month (the issue's lock serialises; a second issue finds it).
- The FNS format: 5.01 (`ON_KORSCHFDOPPR_1_996_01_05_01_03.xsd`, КНД 1115127) when every line's rate is in its
  lists (they end at 20 %), else 5.02 (`ON_NKORSCHFDOPPR_1_996_03_05_02_01.xsd`, КНД 1115133: НалСт is free text, so
  22 % and 22/122 pass) — `Correction.format_version` carries the choice to the renderer, the file name shows it
  (see `aquabill/channels/fns_upd/xsd/SOURCES.md`). 5.02 requires a sole trader's ОГРНИП date, which the
  requisites lack: such a correction is refused with a message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import DomainError, Invalid
from aquabill.legal_entities.documents import Party, Signer, Unit
from aquabill.legal_entities.issue import numbering, render
from aquabill.legal_entities.issue.lines import (
    BuiltLine,
    ChargeGroup,
    build_lines,
    due_on,
    month_end,
    month_name,
)
from aquabill.legal_entities.issue.parties import BUYER_BANK_JOIN, BUYER_COLUMNS, buyer_of
from aquabill.legal_entities.issue.store import NewDocument, NewLine, insert_documents
from aquabill.legal_entities.vat import Amounts

ZERO = Decimal("0.00")
RATES_OF_THE_SCHEMA = {"0%", "10%", "20%", "10/110", "20/120", "без НДС"}  # НалСтДо/НалСтПосле of 5.01
FORMAT_501, FORMAT_502 = "5.01", "5.02"  # ВерсФорм of the UKD formats (КНД 1115127, 1115133)

_RECALCS = text(f"""
    WITH touched AS (
        SELECT DISTINCT lc.contract_id, lc.period FROM legal_charges lc
        WHERE lc.posted_period = :period AND lc.kind = 'recalc' AND lc.period < :period
          AND (CAST(:contract AS int) IS NULL OR lc.contract_id = CAST(:contract AS int))),
    target AS (
        SELECT t.contract_id, t.period, d.id AS doc_id, d.kind AS doc_kind, d.number AS doc_number,
               d.issued_on AS doc_issued_on, d.due_on AS doc_due_on
        FROM touched t
        JOIN legal_documents d ON d.contract_id = t.contract_id AND d.period = t.period
             AND d.kind IN ('upd', 'act') AND d.status = 'issued'
        WHERE NOT EXISTS (SELECT 1 FROM legal_documents u WHERE u.kind = 'ukd' AND u.corrects_id = d.id
                          AND u.period = :period AND u.status = 'issued'))
    SELECT t.*, lc.posted_period = :period AS is_new, lc.service_id, sv.name AS service_name, sv.sort,
           lc.price, lc.price_includes_vat, lc.vat_mode = 'vat' AS vat_charged, sum(lc.volume) AS volume,
           k.number AS contract_number, k.signed_on, k.counterparty_id, v.payment_terms, {BUYER_COLUMNS}
    FROM target t
    JOIN legal_charges lc ON lc.contract_id = t.contract_id AND lc.period = t.period
         AND (lc.kind = 'charge' OR lc.posted_period <= :period)
    JOIN services sv ON sv.id = lc.service_id
    JOIN contracts k ON k.id = t.contract_id
    JOIN counterparties c ON c.id = k.counterparty_id
    {BUYER_BANK_JOIN}
    LEFT JOIN LATERAL (SELECT cv.payment_terms FROM contract_versions cv
                       WHERE cv.contract_id = k.id AND cv.valid_from <= (t.period + interval '1 month - 1 day')::date
                       ORDER BY cv.valid_from DESC LIMIT 1) v ON true
    GROUP BY t.contract_id, t.period, t.doc_id, t.doc_kind, t.doc_number, t.doc_issued_on, t.doc_due_on, is_new,
             lc.service_id, sv.name, sv.sort, lc.price, lc.price_includes_vat, vat_charged, k.number, k.signed_on,
             k.counterparty_id, v.payment_terms, c.id, b.account, b.bic, b.bank_name, b.corr_account
    ORDER BY t.doc_id, sv.sort, lc.service_id, lc.price, lc.price_includes_vat, vat_charged""")


@dataclass(frozen=True, slots=True)
class CorrLine:
    number: int
    name: str
    rate: str
    unit: Unit
    quantity_before: Decimal
    quantity_after: Decimal
    price_before: Decimal | None
    price_after: Decimal | None
    before: Amounts
    after: Amounts


@dataclass(frozen=True, slots=True)
class Correction:
    """A UKD as the FNS format needs it (rendered by `aquabill.channels.fns_upd.ukd`)."""

    function: str  # КСЧФДИС or ДИС
    number: str
    date: date
    seller: Party
    buyer: Party
    signer: Signer
    corrected_number: str
    corrected_date: date
    corrected_title: str
    contract_number: str
    contract_date: date
    lines: tuple[CorrLine, ...]
    format_version: str = FORMAT_501  # FORMAT_502 when a rate is not in RATES_OF_THE_SCHEMA (`format_for`)


def format_for(lines: list[CorrLine]) -> str:
    """5.01 while its rate lists express every line, else 5.02."""
    return FORMAT_501 if all(ln.rate in RATES_OF_THE_SCHEMA for ln in lines) else FORMAT_502


def _zero(exempt: bool) -> Amounts:
    return Amounts(ZERO, None if exempt else ZERO, ZERO)


def correction_lines(before: list[BuiltLine], after: list[BuiltLine]) -> list[CorrLine]:
    """Pair the lines by (service, net price, rate) and keep those that changed."""
    def key(b: BuiltLine) -> tuple:
        return (b.service_id, b.line.name, b.line.price, b.line.rate.label)

    old = {key(b): b for b in before}
    new = {key(b): b for b in after}
    out: list[CorrLine] = []
    for k in list(old) + [k for k in new if k not in old]:
        a, b = old.get(k), new.get(k)
        ref = (b or a).line
        if a is not None and b is not None and a.line.amounts == b.line.amounts and a.line.quantity == b.line.quantity:
            continue
        exempt = ref.rate.exempt
        out.append(CorrLine(
            number=len(out) + 1, name=ref.name, rate=ref.rate.label, unit=ref.unit,
            quantity_before=a.line.quantity if a else Decimal(0), quantity_after=b.line.quantity if b else Decimal(0),
            price_before=a.line.price if a else ref.price, price_after=b.line.price if b else ref.price,
            before=a.line.amounts if a else _zero(exempt), after=b.line.amounts if b else _zero(exempt)))
    return out


def _groups(rows: list[Any], *, include_new: bool) -> list[ChargeGroup]:
    merged: dict[tuple, Decimal] = {}
    names: dict[tuple, str] = {}
    for r in rows:
        if r["is_new"] and not include_new:
            continue
        k = (r["service_id"], r["price"], r["price_includes_vat"], r["vat_charged"])
        merged[k] = merged.get(k, Decimal(0)) + r["volume"]
        names[k] = r["service_name"]
    period = rows[0]["period"]
    return [ChargeGroup(k[0], names[k], period, k[1], k[2], k[3], v) for k, v in merged.items()]


async def issue_corrections(conn: AsyncConnection, period: date, *, issued_on: date, contract_id: int | None,
                            user_id: int | None, seller: Any, now: datetime) -> dict[str, Any]:
    """UKDs for this month's recalculations of earlier months (the caller holds the issue lock)."""
    rows = (await conn.execute(_RECALCS, {"period": period, "contract": contract_id})).mappings().all()
    per_doc: dict[int, list[Any]] = {}
    for r in rows:
        per_doc.setdefault(r["doc_id"], []).append(r)
    planned: list[tuple[Any, Correction, list[CorrLine]]] = []
    errors: list[dict[str, Any]] = []
    for group in per_doc.values():
        head = group[0]
        try:
            shipped = month_end(head["period"])
            lines = correction_lines(build_lines(_groups(group, include_new=False), shipped),
                                     build_lines(_groups(group, include_new=True), shipped))
            if not lines:
                continue
            version = format_for(lines)
            buyer = buyer_of(head)
            if version == FORMAT_502 and (buyer.is_sole_trader or seller.party.is_sole_trader):
                rate = next(ln.rate for ln in lines if ln.rate not in RATES_OF_THE_SCHEMA)
                raise Invalid(f"Корректировка {month_name(head['period'])} по ставке {rate} пишется в формате УКД "
                              "5.02, а он требует дату присвоения ОГРНИП индивидуального предпринимателя — её нет "
                              "в реквизитах", field="ogrnip")
            upd = head["doc_kind"] == "upd"
            planned.append((head, Correction(
                function="КСЧФДИС" if upd else "ДИС", number="0", date=issued_on, seller=seller.party,
                buyer=buyer, signer=seller.signer, corrected_number=head["doc_number"],
                corrected_date=head["doc_issued_on"],
                corrected_title="Универсальный передаточный документ" if upd else "Акт",
                contract_number=head["contract_number"], contract_date=head["signed_on"], lines=tuple(lines),
                format_version=version), lines))
        except DomainError as exc:
            errors.append({"contract_id": head["contract_id"], "contract": head["contract_number"],
                           "message": exc.message})
    numbers = iter(await numbering.take_numbers(conn, "ukd", issued_on.year, len(planned)))
    docs: list[NewDocument] = []
    jobs: list[render.XmlJob] = []
    for head, corr, lines in planned:
        number = next(numbers)
        corr = replace(corr, number=number)
        guid = render.document_guid(f"{seller.party.inn}/ukd/{issued_on.year}/{number}")
        diff_net = sum((ln.after.net - ln.before.net for ln in lines), ZERO)
        diff_vat = sum((ln.after.vat_or_zero - ln.before.vat_or_zero for ln in lines), ZERO)
        # the stored lines are the differences (after − before), so that sums over documents stay the turnover
        new_lines = [NewLine(line_no=ln.number, name=ln.name, amount_net=ln.after.net - ln.before.net,
                             vat_rate=ln.rate, vat=ln.after.vat_or_zero - ln.before.vat_or_zero,
                             amount=ln.after.gross - ln.before.gross, quantity=ln.quantity_after - ln.quantity_before,
                             price=ln.price_after, period=head["period"]) for ln in lines]
        # the term: a lowering UKD lowers the corrected document's debt, so it keeps that document's term (a
        # document issued before due_on was stored on UPDs/acts gets the term computed as for it). A raising UKD
        # bills an amount the buyer was never presented before: it is due by the contract's terms counted from
        # the month it is issued in, as a bill of that month would be (Decree 644 of 29.07.2013 p. 16: payment by
        # the terms on the invoices the utility issues; Civil Code art. 314 p. 1, art. 330 p. 1: a penalty is for
        # failing a term, and none ran while the amount was unknown) — never earlier than the corrected one's.
        due = head["doc_due_on"] or due_on(head["period"], head["payment_terms"])
        if diff_net + diff_vat > 0:
            due = max(due, due_on(period, head["payment_terms"]))
        docs.append(NewDocument(kind="ukd", number=number, issued_on=issued_on, period=period,
                                contract_id=head["contract_id"], counterparty_id=head["counterparty_id"],
                                amount_net=diff_net, vat=diff_vat, amount=diff_net + diff_vat, lines=new_lines,
                                function=corr.function, corrects_id=head["doc_id"], guid=guid, due_on=due))
        jobs.append(render.XmlJob(corr, now, guid))
    from aquabill.legal_entities.issue.month import render_documents  # month imports this module

    await render_documents(docs, jobs)
    await insert_documents(conn, docs, user_id)
    return {"documents": len(docs), "errors": errors}
