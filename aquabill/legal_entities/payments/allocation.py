"""Allocation of organisations' payments: how a contract's identified payments cover its documents.

`reallocate(conn, contract_ids)` rebuilds `contract_allocations` of those contracts (every contract when None)
with a few set-based statements — running sums (window functions), no Python loop issuing a query per row:

1. a payment whose purpose names one of the contract's documents by kind and number (`matching.documents_in`:
   «счёт № 5» is the bill № 5, not the UPD № 5 — each kind has its own numbering; the UPD, the act, a positive
   UKD; a named bill — счёт на оплату — stands for the UPD/act of the same month) covers that document first
   (the payer's stated purpose, Civil Code art. 319.1 p. 1: the debtor may say which obligation it pays);
2. what is left of every payment, in (paid_on, id) order, covers what is left of the principal — the issued
   'upd' / 'act' documents and the increasing 'ukd' — in (due_on, issued_on, id) order (art. 319.1 p. 2: among
   homogeneous obligations the one due earliest is paid first); a decreasing UKD (negative amount) reduces the
   document it corrects. Technique: the running sums of the payments and of the debts both start at zero; their
   ends cut that line into pieces, and each piece lies in exactly one payment and one debt (the next ends above
   it, found with a running minimum) — equi-joins and window functions only, linear in the rows;
3. then the penalties (`contract_penalties`, Federal Law 416-FZ, written by the penalties module): after all
   principal — art. 319 of the Civil Code orders costs → interest → principal, and the Supreme Court Plenum
   resolution No. 54 of 22.11.2016, p. 37, explains that the interest of art. 395 and a penalty (неустойка) are
   not part of that order and are paid after the principal. (Verified 2026-12-07 from a secondary source only —
   a commentary to art. 319 quoting pp. 37–38 of the resolution: «проценты по статье 395 ГК РФ … погашаются
   после суммы основного долга»; the continuation naming the penalty was cut off there and the official text
   was not available: to be checked against the resolution itself.)
4. the rest of a payment is an advance (kind 'advance', document_id NULL). A later document consumes it at the
   next reallocation — the allocation is always rebuilt from the whole history of the contract.

After that, every payment with an advance part and no issued advance invoice gets one from the documents'
module (`aquabill.legal_entities.issue.advance.issue_advance_invoice`, Tax Code art. 168 p. 3), when that module
is part of the build. A refusal there (e.g. the seller's requisites are not filled in) does not undo the
allocation: it is reported in the result's `advance_errors`.

Amounts are NUMERIC(14,2) throughout: sums and differences of kopecks, nothing is rounded here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import DomainError
from aquabill.legal_entities.matching import documents_in

# a quick SQL filter before the purpose is parsed: it can name a document only if one of these words is there
_DOCUMENT_WORDS = r"(сч[её]т|сч\.|с/ф|сф|упд|укд|акт|универсальн|корректировочн)"

_ALLOCATE_SQL = """
WITH pay AS (
    SELECT p.id, p.contract_id, p.paid_on, p.amount FROM payments p
    WHERE p.contract_id = ANY(CAST(:ids AS int[])) AND p.status = 'identified'),
decrease AS (  -- the decreasing UKDs, by the document they correct
    SELECT corrects_id, sum(amount) AS amount FROM legal_documents
    WHERE contract_id = ANY(CAST(:ids AS int[])) AND kind = 'ukd' AND status = 'issued' AND amount < 0
    GROUP BY corrects_id),
doc AS (  -- the principal: upd/act reduced by the decreasing UKDs correcting them, and the increasing UKDs
    SELECT d.id, d.contract_id, d.kind, d.period, d.due_on, d.issued_on,
           greatest(d.amount + coalesce(u.amount, 0), 0) AS amount
    FROM legal_documents d LEFT JOIN decrease u ON u.corrects_id = d.id
    WHERE d.contract_id = ANY(CAST(:ids AS int[])) AND d.status = 'issued'
      AND (d.kind IN ('upd', 'act') OR (d.kind = 'ukd' AND d.amount > 0))),
named_raw AS (
    SELECT * FROM unnest(CAST(:named_payment AS bigint[]), CAST(:named_number AS text[]),
                         CAST(:named_kind AS text[])) AS n(payment_id, number, kind)),
named_x AS (  -- the contract's documents the purposes name by kind and number
    SELECT n.payment_id, x.id, x.kind, x.contract_id, x.period
    FROM named_raw n
    JOIN pay p ON p.id = n.payment_id
    JOIN legal_documents x ON x.contract_id = p.contract_id AND x.status = 'issued'
         AND upper(replace(x.number, ' ', '')) = n.number AND x.kind = n.kind),
named_doc AS (  -- a named bill stands for the upd/act of its month
    SELECT payment_id, id AS document_id FROM named_x WHERE kind <> 'bill'
    UNION ALL
    SELECT nx.payment_id, d.id FROM named_x nx
    JOIN legal_documents d ON d.contract_id = nx.contract_id AND d.period = nx.period AND d.kind IN ('upd', 'act')
         AND d.status = 'issued'
    WHERE nx.kind = 'bill'),
named AS (  -- the one document a payment names; the earliest due first
    SELECT DISTINCT ON (nd.payment_id) nd.payment_id, d.id AS document_id
    FROM named_doc nd JOIN doc d ON d.id = nd.document_id
    ORDER BY nd.payment_id, d.due_on NULLS LAST, d.issued_on, d.id),
n1 AS (
    SELECT nm.payment_id, nm.document_id, p.contract_id, p.amount AS pamount, d.amount AS damount,
           coalesce(sum(p.amount) OVER (PARTITION BY nm.document_id ORDER BY p.paid_on, p.id
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM named nm JOIN pay p ON p.id = nm.payment_id JOIN doc d ON d.id = nm.document_id),
a1 AS (
    SELECT payment_id, contract_id, document_id, least(pamount, greatest(damount - before, 0)) AS amount FROM n1),
a1_doc AS (SELECT document_id, sum(amount) AS amount FROM a1 GROUP BY document_id),
prest AS (
    SELECT p.id, p.contract_id, p.paid_on, p.amount - coalesce(a1.amount, 0) AS rest
    FROM pay p LEFT JOIN a1 ON a1.payment_id = p.id),
items AS (  -- what is owed, in the order it is paid: principal by due date, then penalties
    SELECT d.contract_id, d.id AS document_id, 'charge' AS kind, 0 AS grp, coalesce(d.due_on, d.issued_on) AS due,
           d.issued_on AS issued, d.id AS ord_id,
           d.amount - coalesce(n.amount, 0) AS rest
    FROM doc d LEFT JOIN a1_doc n ON n.document_id = d.id
    UNION ALL
    SELECT cp.contract_id, cp.document_id, 'penalty', 1, cp.posted_period, cp.calculated_on, cp.id, cp.amount
    FROM contract_penalties cp WHERE cp.contract_id = ANY(CAST(:ids AS int[]))),
pr AS (
    SELECT prest.*, sum(rest) OVER (PARTITION BY contract_id ORDER BY paid_on, id) - rest AS p0
    FROM prest WHERE rest > 0),
it AS (
    SELECT items.*, sum(rest) OVER (PARTITION BY contract_id ORDER BY grp, due, issued, ord_id) - rest AS d0
    FROM items WHERE rest > 0),
pe AS (SELECT contract_id, id AS payment_id, p0 + rest AS e FROM pr),  -- where each payment's money ends
de AS (SELECT contract_id, document_id, kind, d0 + rest AS e FROM it),  -- where each debt ends
marks AS (  -- every end, once per contract (ends are strictly increasing: rests are > 0)
    SELECT coalesce(pe.contract_id, de.contract_id) AS contract_id, coalesce(pe.e, de.e) AS e, pe.e AS pe_e,
           de.e AS de_e
    FROM pe FULL JOIN de ON de.contract_id = pe.contract_id AND de.e = pe.e),
seg AS (  -- the pieces between consecutive ends: each lies in one payment and one debt (the next ends above it)
    SELECT contract_id, e, e - coalesce(lag(e) OVER (PARTITION BY contract_id ORDER BY e), 0) AS len,
           min(pe_e) OVER up AS pay_end, min(de_e) OVER up AS debt_end
    FROM marks
    WINDOW up AS (PARTITION BY contract_id ORDER BY e DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
a2 AS (  -- the pieces covered by a payment and owed: allocations (equi-joins only, no range join)
    SELECT pe.payment_id, seg.contract_id, de.document_id, de.kind, seg.len AS amount
    FROM seg JOIN pe ON pe.contract_id = seg.contract_id AND pe.e = seg.pay_end
    JOIN de ON de.contract_id = seg.contract_id AND de.e = seg.debt_end),
a2_pay AS (SELECT payment_id, sum(amount) AS amount FROM a2 GROUP BY payment_id),
adv AS (
    SELECT pr.id AS payment_id, pr.contract_id, pr.rest - coalesce(x.amount, 0) AS amount
    FROM pr LEFT JOIN a2_pay x ON x.payment_id = pr.id),
ins AS (
    INSERT INTO contract_allocations(payment_id, contract_id, document_id, kind, amount)
    SELECT payment_id, contract_id, document_id, 'charge', amount FROM a1 WHERE amount > 0
    UNION ALL
    SELECT payment_id, contract_id, document_id, kind, amount FROM a2 WHERE amount > 0
    UNION ALL
    SELECT payment_id, contract_id, NULL, 'advance', amount FROM adv WHERE amount > 0
    RETURNING kind, amount)
SELECT kind, count(*) AS n, sum(amount) AS amount FROM ins GROUP BY kind
"""
_IN_LIST = "= ANY(CAST(:ids AS int[]))"
# a few contracts: their rows by index; every contract: no filter at all — a list of 50,000 ids would make the
# planner guess a handful of rows and choose nested loops over the whole tenant
_ALLOCATE = {True: text(_ALLOCATE_SQL), False: text(_ALLOCATE_SQL.replace(_IN_LIST, "IS NOT NULL"))}


async def _scope(conn: AsyncConnection, contract_ids: list[int] | None) -> list[int]:
    """The contracts to reallocate, locked in id order (two reallocations of one contract run one after the
    other; FOR NO KEY UPDATE does not block rows referencing the contract)."""
    if contract_ids is None:
        sql, params = "SELECT id FROM contracts ORDER BY id FOR NO KEY UPDATE", {}
    else:
        sql = "SELECT id FROM contracts WHERE id = ANY(CAST(:ids AS int[])) ORDER BY id FOR NO KEY UPDATE"
        params = {"ids": sorted({int(c) for c in contract_ids if c is not None})}
        if not params["ids"]:
            return []
    return [r[0] for r in await conn.execute(text(sql), params)]


async def _named_documents(conn: AsyncConnection, ids: list[int], listed: bool
                           ) -> tuple[list[int], list[str], list[str]]:
    """(payment ids, document numbers normalised, kinds) the purposes of the contracts' payments name: a row per
    kind the word before the number allows (a «счёт-фактура» is a UPD or an advance invoice)."""
    rows = await conn.execute(text(_scoped(
        "SELECT id, purpose FROM payments WHERE contract_id = ANY(CAST(:ids AS int[])) AND status = 'identified' "
        "AND purpose ~* :words", listed)), {"ids": ids, "words": _DOCUMENT_WORDS})
    payment_ids: list[int] = []
    numbers: list[str] = []
    kinds: list[str] = []
    for payment_id, purpose in rows:
        for number, allowed in sorted(documents_in(purpose).items()):
            for kind in sorted(allowed):
                payment_ids.append(payment_id)
                numbers.append(number)
                kinds.append(kind)
    return payment_ids, numbers, kinds


async def reallocate(conn: AsyncConnection, contract_ids: list[int] | None = None, *,
                     user_id: int | None = None) -> dict[str, Any]:
    """Rebuild the allocations of `contract_ids` (every contract when None), then issue the advance invoices
    still missing. Returns {contracts, charge, penalty, advance (amounts), advance_invoices, advance_errors}."""
    ids = await _scope(conn, contract_ids)
    result: dict[str, Any] = {"contracts": len(ids), "charge": Decimal("0.00"), "penalty": Decimal("0.00"),
                              "advance": Decimal("0.00"), "advance_invoices": 0, "advance_errors": []}
    if not ids:
        return result
    listed = contract_ids is not None
    named_payment, named_number, named_kind = await _named_documents(conn, ids, listed)
    await conn.execute(text(_scoped("DELETE FROM contract_allocations WHERE contract_id = ANY(CAST(:ids AS int[]))",
                                    listed)), {"ids": ids})
    # the CTEs' row counts are guessed (small); nested loops over them are quadratic for a whole tenant: hash and
    # merge joins only, for this statement (the setting is put back after it)
    # (a failed statement needs nothing put back: the rollback, to a savepoint too, undoes SET LOCAL)
    before = (await conn.execute(text("SELECT current_setting('enable_nestloop')"))).scalar_one()
    await conn.execute(text("SELECT set_config('enable_nestloop', 'off', true)"))
    for kind, _n, amount in await conn.execute(_ALLOCATE[listed], {
            "ids": ids, "named_payment": named_payment, "named_number": named_number, "named_kind": named_kind}):
        result[kind] = amount
    await conn.execute(text("SELECT set_config('enable_nestloop', :v, true)"), {"v": before})
    await _advance_invoices(conn, ids, result, user_id, listed)
    return result


def _scoped(sql: str, listed: bool) -> str:
    return sql if listed else sql.replace(_IN_LIST, "IS NOT NULL")


async def _advance_invoices(conn: AsyncConnection, ids: list[int], result: dict[str, Any],
                            user_id: int | None, listed: bool) -> None:
    """An advance invoice for each payment with an advance part and none issued yet (once per payment: the
    documents' module and its unique index `legal_documents_advance_once` guarantee it)."""
    try:
        from aquabill.legal_entities.issue.advance import issue_advance_invoice
    except ImportError:  # the documents' module is not part of this build: nothing to issue
        return
    due = (await conn.execute(text(_scoped(
        "SELECT a.payment_id, a.amount FROM contract_allocations a WHERE a.kind = 'advance' "
        "AND a.contract_id = ANY(CAST(:ids AS int[])) AND NOT EXISTS (SELECT 1 FROM legal_documents d "
        "WHERE d.kind = 'advance_invoice' AND d.payment_id = a.payment_id AND d.status = 'issued') "
        "ORDER BY a.payment_id", listed)), {"ids": ids})).all()
    for payment_id, amount in due:
        try:
            async with conn.begin_nested():
                await issue_advance_invoice(conn, payment_id, amount=amount, user_id=user_id)
        except DomainError as exc:
            result["advance_errors"].append({"payment_id": payment_id, "error": exc.message})
        else:
            result["advance_invoices"] += 1
