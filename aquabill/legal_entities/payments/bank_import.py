"""The legal-entity branch of the 1CClientBankExchange import: statement lines whose payer INN
(ПлательщикИНН) is one of our counterparties are matched to a contract.

The importer stores every line first as it always did (`billing_core.payments.store.insert_staged`: lines naming
a personal account are identified to it; the others go to the unidentified queue; an operation id the agent
already has adds nothing — which keeps the import idempotent, the same file twice or the same line in two files).
Then `identify_statement` looks at the lines just inserted into the queue (`pg_temp.payment_loaded`) whose payer
INN is a counterparty's, and runs the matcher (`aquabill.legal_entities.matching`) over that payer's contracts
and documents:
- the contract number in НазначениеПлатежа, else the payer's only active contract, or a document of the payer
  named in the purpose by its kind word and number (`matching.documents_in`: «счёт № 5» is bill № 5, not the
  UPD № 5 of the same month — every kind has its own numbering) → that document's contract: the payment
  becomes 'identified' with contract_id and counterparty_id;
- ambiguous (several contracts, none named; documents of different contracts) or a payer without contracts, or
  a contract / document named that the payer does not have: the payment stays in the queue with a Russian reason
  saying what failed.
Lines of payers who are not counterparties (individuals) are left exactly as the importer stored them.
Three statements whatever the number of lines (contracts, documents, one UPDATE from arrays); the matching
itself is pure Python over the rows loaded. The contracts touched are then reallocated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.legal_entities.matching import (
    AUTOMATIC_SCORE,
    KIND_WORDS,
    ContractKey,
    Match,
    OpenDocument,
    documents_in,
    match,
    numbers_in,
)
from aquabill.legal_entities.payments.allocation import reallocate

ONLY_CONTRACT_SCORE = 60  # matching's score for «the payer's only contract, the purpose names none»


@dataclass(frozen=True, slots=True)
class Payer:
    inn: str
    kpp: str = ""


@dataclass(frozen=True, slots=True)
class StatementLine:
    """What the matcher needs of a statement line (`matching.PaymentLike`)."""

    line_no: int
    amount: Decimal
    purpose: str
    payer: Payer


@dataclass
class LegalOutcome:
    identified: int = 0
    queued: int = 0  # payer found among counterparties, but the contract is not clear: left in the queue
    contracts: list[int] = field(default_factory=list)
    allocation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PayerContract:
    key: ContractKey
    counterparty_id: int
    active: bool


def _plural_contracts(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} договор"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} договора"
    return f"{n} договоров"


def decide(line: StatementLine, contracts: Sequence[PayerContract], documents: Sequence[OpenDocument]
           ) -> tuple[int | None, int | None, str]:
    """(contract id, counterparty id, reason) for one line of a known payer; contract None → the queue."""
    own = [c for c in contracts if c.key.counterparty_inn == line.payer.inn]
    named_contracts, _ = numbers_in(line.purpose)
    named_documents = documents_in(line.purpose)
    of_named_documents = {d.contract_id for d in documents if d.number.upper().replace(" ", "") in named_documents}
    # the payer's active contracts, and any other of its contracts the purpose names, itself or by a document of it
    # (an old debt)
    usable = [c for c in own if c.active or c.key.number.upper().replace(" ", "") in named_contracts
              or c.key.contract_id in of_named_documents]
    result = match(line, [c.key for c in usable], documents)
    # the matcher books ≥ 80 by itself; the payer's only contract (60) is booked too: the rule, the payer
    # is the counterparty and has one contract in force, so there is nothing for a person to choose
    found = result.automatic or (result.candidates[0] if len(result.candidates) == 1
                                 and result.candidates[0].score == ONLY_CONTRACT_SCORE else None)
    inn = line.payer.inn
    if found is not None:
        chosen = next(c for c in usable if c.key.contract_id == found.contract_id)
        return chosen.key.contract_id, chosen.counterparty_id, f"Автоматически: {found.reason}"
    return None, None, f"Плательщик ИНН {inn} найден, но {_why_not(line, own, result)}"


def _kind_word(kinds: frozenset[str]) -> str:
    if kinds == frozenset({"upd", "advance_invoice"}):
        return "счёт-фактура"
    return " / ".join(KIND_WORDS[k] for k in sorted(kinds))


def _why_not(line: StatementLine, own: Sequence[PayerContract], result: Match) -> str:
    """What really stopped the automatic booking, in Russian (after «Плательщик ИНН … найден, но»)."""
    numbers = {c.key.contract_id: c.key.number for c in own}
    active = [c for c in own if c.active]
    top = result.candidates[0].score if result.candidates else 0
    rivals = sorted({c.contract_id for c in result.candidates if c.score == top})
    if top >= AUTOMATIC_SCORE and len(rivals) > 1:
        listed = ", ".join(f"№ {numbers[k]}" for k in rivals)
        if top > AUTOMATIC_SCORE:
            return f"документы, названные в назначении, относятся к разным договорам ({listed})"
        return f"договоров с номером из назначения у него несколько ({listed})"
    named_contracts, _ = numbers_in(line.purpose)
    named_documents = documents_in(line.purpose)
    parts = []
    if named_documents and top < 100:  # no document of the payer fits kind and number
        listed = ", ".join(f"{_kind_word(kinds)} № {number}" for number, kinds in sorted(named_documents.items()))
        parts.append(f"документа из назначения ({listed}) среди его документов нет")
    missing = named_contracts - {c.key.number.upper().replace(" ", "") for c in own}
    if missing:
        parts.append(f"договора № {', '.join(sorted(missing))} у него нет")
    if parts:
        return " и ".join(parts) + f", а действующих договоров у него {len(active)}"
    if not active:
        return "действующих договоров у него нет"
    return f"в назначении нет номера договора, а договоров у него {len(active)}"


async def _contracts(conn: AsyncConnection, inns: list[str]) -> list[PayerContract]:
    rows = await conn.execute(text(
        "SELECT k.id, k.number, k.signed_on, k.status, c.id AS counterparty_id, c.inn, c.kpp "
        "FROM counterparties c JOIN contracts k ON k.counterparty_id = c.id "
        "WHERE c.inn = ANY(CAST(:inns AS text[])) AND k.status IN ('active', 'terminated') ORDER BY k.id"),
        {"inns": inns})
    return [PayerContract(ContractKey(r.id, r.number, r.signed_on, r.inn, r.kpp), r.counterparty_id,
                      r.status == "active") for r in rows]


async def _documents(conn: AsyncConnection, contract_ids: list[int]) -> list[OpenDocument]:
    rows = await conn.execute(text(
        "SELECT id, contract_id, number, issued_on, amount, kind FROM legal_documents "
        "WHERE contract_id = ANY(CAST(:ids AS int[])) AND status = 'issued' ORDER BY id"), {"ids": contract_ids})
    return [OpenDocument(r.id, r.contract_id, r.number, r.issued_on, r.amount, r.kind) for r in rows]


async def known_inns(conn: AsyncConnection, inns: Sequence[str]) -> set[str]:
    """The INNs among `inns` that are our counterparties'."""
    wanted = sorted({i.strip() for i in inns if i and i.strip()})
    if not wanted:
        return set()
    return {r[0] for r in await conn.execute(text(
        "SELECT DISTINCT inn FROM counterparties WHERE inn = ANY(CAST(:i AS text[]))"), {"i": wanted})}


async def _unknown_organisations(conn: AsyncConnection, lines: Sequence[StatementLine]) -> None:
    """A queued line of an organisation (a 10-digit INN) that names no personal account and is no counterparty
    of ours: the reason says so, for the operator who looks for its contract."""
    orgs = [line for line in lines if len(line.payer.inn) == 10 and line.payer.inn.isdigit()]
    if not orgs:
        return
    await conn.execute(text(
        "UPDATE payments p SET reason = p.reason || '; плательщик ИНН ' || v.inn || ' не найден среди контрагентов' "
        "FROM pg_temp.payment_loaded l, unnest(CAST(:line AS int[]), CAST(:inn AS text[])) AS v(line_no, inn) "
        "WHERE l.line_no = v.line_no AND p.id = l.id AND l.status = 'unidentified' AND p.account_text = ''"),
        {"line": [line.line_no for line in orgs], "inn": [line.payer.inn for line in orgs]})


async def identify_statement(conn: AsyncConnection, lines: Sequence[StatementLine], *,
                             user_id: int | None = None) -> LegalOutcome:
    """Match the queued lines of the file just loaded (`pg_temp.payment_loaded`) whose payer is a
    counterparty; identify them to contracts or give the queue a reason; reallocate the contracts."""
    outcome = LegalOutcome()
    inns = await known_inns(conn, [line.payer.inn for line in lines])
    await _unknown_organisations(conn, [line for line in lines if line.payer.inn not in inns])
    if not inns:
        return outcome
    candidates = {line.line_no: line for line in lines if line.payer.inn in inns}
    queued = [r[0] for r in await conn.execute(text(
        "SELECT line_no FROM pg_temp.payment_loaded WHERE status = 'unidentified' "
        "AND line_no = ANY(CAST(:l AS int[]))"), {"l": sorted(candidates)})]
    if not queued:
        return outcome
    contracts = await _contracts(conn, sorted(inns))
    documents = await _documents(conn, [c.key.contract_id for c in contracts])
    by_inn: dict[str, list[PayerContract]] = {}
    for c in contracts:
        by_inn.setdefault(c.key.counterparty_inn, []).append(c)
    decided = []
    for line_no in queued:
        line = candidates[line_no]
        own = by_inn.get(line.payer.inn, [])
        own_ids = {c.key.contract_id for c in own}
        contract_id, counterparty_id, reason = decide(
            line, own, [d for d in documents if d.contract_id in own_ids])
        decided.append((line_no, contract_id, counterparty_id, reason))
    await conn.execute(text(
        "UPDATE payments p SET contract_id = v.contract_id, counterparty_id = v.counterparty_id, "
        "status = CASE WHEN v.contract_id IS NULL THEN p.status ELSE 'identified' END, reason = v.reason "
        "FROM pg_temp.payment_loaded l, unnest(CAST(:line AS int[]), CAST(:contract AS int[]), "
        "CAST(:counterparty AS int[]), CAST(:reason AS text[])) AS v(line_no, contract_id, counterparty_id, reason) "
        "WHERE l.line_no = v.line_no AND p.id = l.id"),
        {"line": [d[0] for d in decided], "contract": [d[1] for d in decided],
         "counterparty": [d[2] for d in decided], "reason": [d[3] for d in decided]})
    await conn.execute(text(
        "UPDATE pg_temp.payment_loaded l SET status = 'identified' FROM unnest(CAST(:line AS int[])) AS v(line_no) "
        "WHERE l.line_no = v.line_no"), {"line": [d[0] for d in decided if d[1] is not None]})
    outcome.identified = sum(1 for d in decided if d[1] is not None)
    outcome.queued = len(decided) - outcome.identified
    outcome.contracts = sorted({d[1] for d in decided if d[1] is not None})
    if outcome.contracts:
        outcome.allocation = await reallocate(conn, outcome.contracts, user_id=user_id)
    return outcome


def statement_line(line_no: int, amount: Decimal, purpose: str, inn: str, kpp: str) -> StatementLine:
    return StatementLine(line_no, amount, purpose or "", Payer((inn or "").strip(), (kpp or "").strip()))

