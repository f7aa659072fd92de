"""Matching an incoming bank payment of an organisation to its contract and document.

The input is any payment with `amount`, `purpose` and `payer.inn` / `payer.kpp` — the `BankDocument` that
`aquabill.channels.bank_files.parse_statement` reads from a 1CClientBankExchange statement fits as it is (this
package may not import the channel, so the shape is a Protocol). The candidates are the tenant's contracts and
open documents, loaded by the caller.

The rules, strongest first (`Candidate.score`):
- 100: the payer's INN is the contract's counterparty AND the purpose names one of its documents by kind and
  number — the payment goes to that document. Each kind has its own numbering (`legal_number_seq`: bill № 5
  and UPD № 5 of the same month are two documents), so a number is compared only with the documents of the
  kind the purpose's word names: «счёт» / «счёт на оплату» / «сч.» → bill; «УПД» / «универсальный
  передаточный документ» → upd; «акт» → act; «счёт-фактура» / «с/ф» → upd or advance_invoice;
  «корректировочный …» / «УКД» → ukd. Only the payer's own documents count (numbers repeat every year and
  across kinds, a number alone says nothing about someone else's document). Several documents that fit, all
  of ONE contract (e.g. an advance invoice and a UPD both № 5, named «с/ф № 5») → that contract (100, no
  document); of several contracts → each a rival, a person chooses;
- 80: the payer's INN is the counterparty AND the purpose names the contract's number;
- 60: the payer's INN is the counterparty and it has exactly one contract (the purpose names none);
- 40: the purpose names a contract, but the payer is someone else (a third party paying for the
  organisation, art. 313 of the Civil Code) — never automatic, a person confirms;
- 20: the payer's INN is the counterparty of several contracts and the purpose names none of them.
`match` returns every candidate, best first; `Match.automatic` is the one candidate to book without a person
(score ≥ 80 and no rival with the same score). No candidate at all → the unidentified payments queue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

AUTOMATIC_SCORE = 80


class PayerLike(Protocol):
    @property
    def inn(self) -> str: ...

    @property
    def kpp(self) -> str: ...


class PaymentLike(Protocol):
    @property
    def amount(self) -> Decimal: ...

    @property
    def purpose(self) -> str: ...

    @property
    def payer(self) -> PayerLike: ...


@dataclass(frozen=True, slots=True)
class ContractKey:
    contract_id: int
    number: str
    signed_on: date | None
    counterparty_inn: str
    counterparty_kpp: str = ""


@dataclass(frozen=True, slots=True)
class OpenDocument:
    document_id: int
    contract_id: int
    number: str
    issued_on: date
    amount_due: Decimal
    kind: str = ""  # legal_documents.kind; "" — unknown, any kind word of the purpose fits


KIND_WORDS = {"bill": "счёт", "upd": "УПД", "act": "акт", "advance_invoice": "счёт-фактура на аванс",
              "ukd": "корректировочный счёт-фактура"}


@dataclass(frozen=True, slots=True)
class Candidate:
    contract_id: int
    document_id: int | None
    score: int
    reason: str  # Russian, shown to the person who confirms


@dataclass(frozen=True, slots=True)
class Match:
    candidates: tuple[Candidate, ...]

    @property
    def automatic(self) -> Candidate | None:
        if not self.candidates or self.candidates[0].score < AUTOMATIC_SCORE:
            return None
        best = self.candidates[0]
        rivals = [c for c in self.candidates[1:] if c.score == best.score]
        return None if rivals else best


# «Договор № 0320 от 21.06.2021», «по договору N Н 394/536-10-16 от 05.05.2010», «дог. №12-В», «контракт №…»:
# a number is one token, or — when «от <date>» follows — a short letter prefix and a token («Н 394/536-10-16»).
_CONTRACT_WORD = r"\b(?:договор\w*|дог\.|контракт\w*)\s*(?:№|N\b|No\.?)?\s*"
_CONTRACT_DATED = re.compile(_CONTRACT_WORD + r"(?P<number>(?!No?\.?\s)[^\W\d_]{1,3}\s[^\s,;]+)\s+от\s+\d", re.IGNORECASE)
_CONTRACT = re.compile(_CONTRACT_WORD + r"(?P<number>[^\s,;]+)", re.IGNORECASE)
# «счёт № 15», «счёт на оплату № 15», «сч. 15», «с/ф 15», «счет-фактура № 15», «УПД № ВК-0042», «акт 7»,
# «корректировочный счёт-фактура № 3», «УКД 3». The group that matched is the kind word (alternatives are tried in
# order: «корректировочный счёт-фактура» before «счёт-фактура» before «счёт»).
_DOCUMENT = re.compile(
    r"(?<![а-яё])(?:"
    r"(?P<ukd>корректировочн\w*(?:\s+(?:сч[её]т\w*[-\s]+фактур\w*|универсальн\w*\s+передаточн\w*"
    r"(?:\s+документ\w*)?|упд|сф|с/ф))?|укд)"
    r"|(?P<invoice>сч[её]т\w*[-\s]+фактур\w*|с/ф|сф)"
    r"|(?P<upd>упд|универсальн\w*\s+передаточн\w*(?:\s+документ\w*)?)"
    r"|(?P<act>акт\w*)"
    r"|(?P<bill>сч[её]т(?:ами|ам|ах|ом|а|у|е)?(?:\s+на\s+оплату)?|сч\.)"
    r")\s*(?:№|N\b|No\.?)?\s*(?P<number>[^\s,;]+)", re.IGNORECASE)
_KINDS_OF = {"ukd": frozenset({"ukd"}), "invoice": frozenset({"upd", "advance_invoice"}), "upd": frozenset({"upd"}),
             "act": frozenset({"act"}), "bill": frozenset({"bill"})}
_EDGE = ".,;:()«»\"'"


def _norm(number: str) -> str:
    """A number as compared: upper case, no spaces, no edge punctuation, no leading «№»."""
    return number.strip().strip(_EDGE).upper().replace(" ", "").lstrip("№#")


def numbers_in(purpose: str) -> tuple[set[str], set[str]]:
    """(contract numbers, document numbers) named in a payment purpose, normalised."""
    text = purpose or ""
    contracts = {_norm(m["number"]) for m in _CONTRACT_DATED.finditer(text)} or {
        _norm(m["number"]) for m in _CONTRACT.finditer(text)}
    return {c for c in contracts if c and c not in ("Б/Н", "БН")}, set(documents_in(text))


def documents_in(purpose: str) -> dict[str, frozenset[str]]:
    """Document numbers named in a payment purpose (normalised) → the kinds (`legal_documents.kind`) the word
    before each number allows; a number without a digit is no number («счёт на оплату» alone)."""
    found: dict[str, frozenset[str]] = {}
    for m in _DOCUMENT.finditer(purpose or ""):
        number = _norm(m["number"])
        if any(ch.isdigit() for ch in number):
            kinds = next(kinds for group, kinds in _KINDS_OF.items() if m[group] is not None)
            found[number] = found.get(number, frozenset()) | kinds
    return found


def _named(doc: OpenDocument, named: dict[str, frozenset[str]]) -> bool:
    kinds = named.get(_norm(doc.number))
    return kinds is not None and (not doc.kind or doc.kind in kinds)


def _document_candidates(own: list[ContractKey], by_contract: dict[int, list[OpenDocument]],
                         named: dict[str, frozenset[str]]) -> list[Candidate]:
    """The payer's own documents the purpose names by kind and number; several of one contract → the contract."""
    fits = [doc for contract in own for doc in by_contract.get(contract.contract_id, ()) if _named(doc, named)]
    per_contract: dict[int, list[OpenDocument]] = {}
    for doc in fits:
        per_contract.setdefault(doc.contract_id, []).append(doc)
    out = []
    for contract_id, docs in per_contract.items():
        if len(docs) == 1:
            doc = docs[0]
            out.append(Candidate(contract_id, doc.document_id, 100,
                                 f"в назначении указан {KIND_WORDS.get(doc.kind, 'документ')} № {doc.number} "
                                 f"от {doc.issued_on:%d.%m.%Y}"))
        else:
            listed = ", ".join(f"{KIND_WORDS.get(d.kind, 'документ')} № {d.number} от {d.issued_on:%d.%m.%Y}"
                               for d in sorted(docs, key=lambda d: (d.issued_on, d.document_id)))
            out.append(Candidate(contract_id, None, 100,
                                 f"в назначении указан номер документов одного договора: {listed}"))
    return out


def match(payment: PaymentLike, contracts: Iterable[ContractKey],
          documents: Iterable[OpenDocument] = ()) -> Match:
    """Every candidate contract / document for `payment`, best first (ties: lower contract id first)."""
    contracts = list(contracts)
    by_contract: dict[int, list[OpenDocument]] = {}
    for doc in documents:
        by_contract.setdefault(doc.contract_id, []).append(doc)
    named_contracts, _ = numbers_in(payment.purpose)
    named_documents = documents_in(payment.purpose)
    payer_inn = (payment.payer.inn or "").strip()
    payer_kpp = (payment.payer.kpp or "").strip()
    own = [c for c in contracts if payer_inn and c.counterparty_inn == payer_inn]
    if payer_kpp and any(c.counterparty_kpp == payer_kpp for c in own):  # a branch pays for its own contracts
        own = [c for c in own if not c.counterparty_kpp or c.counterparty_kpp == payer_kpp]
    found: dict[tuple[int, int | None], Candidate] = {}

    def add(candidate: Candidate) -> None:
        key = (candidate.contract_id, candidate.document_id)
        if key not in found or found[key].score < candidate.score:
            found[key] = candidate

    documents_found = _document_candidates(own, by_contract, named_documents)
    if len(documents_found) > 1:  # documents of several contracts: the contract the purpose names decides
        named_own = {c.contract_id for c in own if _norm(c.number) in named_contracts}
        documents_found = [c for c in documents_found if c.contract_id in named_own] or documents_found
    for candidate in documents_found:
        add(candidate)
    for contract in contracts:
        is_own = contract in own
        if _norm(contract.number) in named_contracts:
            add(Candidate(contract.contract_id, None, 80 if is_own else 40,
                          f"в назначении указан договор № {contract.number}"
                          + ("" if is_own else ", но плательщик — другое лицо")))
    if own and not any(c.contract_id in {o.contract_id for o in own} for c in found.values()):
        if len(own) == 1:
            add(Candidate(own[0].contract_id, None, 60,
                          f"ИНН плательщика {payer_inn} — единственный договор № {own[0].number}"))
        else:
            for contract in own:
                add(Candidate(contract.contract_id, None, 20,
                              f"ИНН плательщика {payer_inn}, договоров несколько; назначение их не называет"))
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.contract_id, c.document_id or 0))
    return Match(tuple(ranked))
