"""Matching bank payments of organisations to contracts and documents, over the real 1CClientBankExchange samples
(tests/data/bank-1c-clientbank, read by the existing `aquabill.channels.bank_files` parser, see SOURCES.md)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from aquabill.channels.bank_files import BankDocument, parse_statement
from aquabill.legal_entities.matching import (
    Candidate,
    ContractKey,
    OpenDocument,
    documents_in,
    match,
    numbers_in,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "bank-1c-clientbank"
ROSTELECOM = "7707049388"  # the payer of samples 2–5


def payment(file: str, number: str) -> BankDocument:
    statement = parse_statement((DATA / file).read_bytes())
    return next(d for d in statement.documents if d.number == number)


@pytest.mark.parametrize(("purpose", "contracts", "documents"), [
    ("Расчет по договору N 0320 от 21.06.2021 за проведение экспертизы. Не облагается НДС", {"0320"}, set()),
    ("Расчет по договору N Н 394/536-10-16 от 05.05.2010 за услуги связи.", {"Н394/536-10-16"}, set()),
    ("За Татарстан. Расчет по договору N б/н от 01.09.2008 за аренду.", set(), set()),
    ("Оплата по договору. Сумма 12354-00 без налога (НДС)", set(), set()),
    ("Оплата по сч. № ВК-0042 от 31.01.2026 по дог. №12-В за январь, НДС 22%", {"12-В"}, {"ВК-0042"}),
    ("оплата с/ф 15 и акт 16; контракт 77", {"77"}, {"15", "16"}),
    ("по договору № 12 за январь 2026 г. по счету 15 от 31.01.2026", {"12"}, {"15"}),
])
def test_numbers_in_purpose(purpose, contracts, documents):
    assert numbers_in(purpose) == (contracts, documents)


def test_contract_number_and_payer_inn_book_automatically():
    paid = payment("xini1_sample3.txt", "288")
    contracts = [ContractKey(1, "0320", date(2021, 6, 21), ROSTELECOM), ContractKey(2, "0321", None, ROSTELECOM)]
    result = match(paid, contracts)
    assert result.candidates == (Candidate(1, None, 80, "в назначении указан договор № 0320"),)
    assert result.automatic == result.candidates[0]


def test_contract_number_with_spaces():
    paid = payment("xini1_sample5.txt", "2930")
    contracts = [ContractKey(5, "Н 394/536-10-16", date(2010, 5, 5), ROSTELECOM, "770545001")]
    assert match(paid, contracts).automatic == Candidate(5, None, 80, "в назначении указан договор № Н 394/536-10-16")


def test_document_number_is_strongest():
    paid = replace(payment("xini1_sample3.txt", "288"),
                   purpose="Оплата по сч. № ВК-0042 от 31.01.2026 по договору № 0320 за январь, НДС 22%")
    contracts = [ContractKey(1, "0320", None, ROSTELECOM)]
    documents = [OpenDocument(10, 1, "ВК-0042", date(2026, 1, 31), D("8018.38")),
                 OpenDocument(11, 1, "ВК-0043", date(2026, 1, 31), D("1404.00"))]
    result = match(paid, contracts, documents)
    assert result.candidates == (
        Candidate(1, 10, 100, "в назначении указан документ № ВК-0042 от 31.01.2026"),
        Candidate(1, None, 80, "в назначении указан договор № 0320"),
    )
    assert result.automatic == result.candidates[0]


def test_only_the_payer_inn_with_one_contract_is_a_suggestion():
    paid = payment("xini1_1CClientBankExchange.txt", "105")
    result = match(paid, [ContractKey(3, "ХВС-1", None, "7719617469")])
    assert result.candidates == (Candidate(3, None, 60, "ИНН плательщика 7719617469 — единственный договор № ХВС-1"),)
    assert result.automatic is None


def test_several_contracts_and_no_number():
    paid = payment("xini1_sample4.txt", "23720")  # «по договору N б/н»
    result = match(paid, [ContractKey(7, "А-1", None, ROSTELECOM), ContractKey(8, "А-2", None, ROSTELECOM)])
    reason = f"ИНН плательщика {ROSTELECOM}, договоров несколько; назначение их не называет"
    assert result.candidates == (Candidate(7, None, 20, reason), Candidate(8, None, 20, reason))
    assert result.automatic is None


def test_branch_kpp_narrows_the_contracts():
    paid = payment("xini1_sample5.txt", "2335")  # КПП 263445004, «НДФЛ Август 2021»
    contracts = [ContractKey(20, "СТ-1", None, ROSTELECOM, "263445004"), ContractKey(21, "МСК-1", None, ROSTELECOM, "770545001")]
    assert match(paid, contracts).candidates == (
        Candidate(20, None, 60, f"ИНН плательщика {ROSTELECOM} — единственный договор № СТ-1"),)


def test_third_party_payer_needs_a_person():
    paid = payment("xini1_sample3.txt", "288")
    result = match(paid, [ContractKey(1, "0320", None, "5003001114")])
    assert result.candidates == (Candidate(1, None, 40, "в назначении указан договор № 0320, но плательщик — другое лицо"),)
    assert result.automatic is None


def test_two_equal_candidates_are_not_automatic():
    paid = payment("xini1_sample3.txt", "288")
    contracts = [ContractKey(1, "0320", None, ROSTELECOM), ContractKey(2, "0320", None, ROSTELECOM)]
    assert [c.score for c in match(paid, contracts).candidates] == [80, 80]
    assert match(paid, contracts).automatic is None


def test_unknown_payer_goes_to_the_unidentified_queue():
    paid = payment("xini1_sample1.txt", "1")
    result = match(paid, [ContractKey(1, "0320", None, ROSTELECOM)])
    assert (result.candidates, result.automatic) == ((), None)


@pytest.mark.parametrize(("purpose", "named"), [
    ("Оплата по счёту № 5 от 01.02.2026 по договору № ВК-0042", {"5": {"bill"}}),
    ("Оплата по счету на оплату №12 за январь", {"12": {"bill"}}),
    ("по счетам № 7", {"7": {"bill"}}),
    ("Оплата по УПД № 5 и универсальному передаточному документу № 6", {"5": {"upd"}, "6": {"upd"}}),
    ("по счету-фактуре 15, акт 16", {"15": {"upd", "advance_invoice"}, "16": {"act"}}),
    ("корректировочный счёт-фактура № 3 и УКД 4", {"3": {"ukd"}, "4": {"ukd"}}),
    ("Оплата по счёту на оплату за январь", {}),
])
def test_document_kinds_in_purpose(purpose, named):
    assert {n: set(k) for n, k in documents_in(purpose).items()} == named


INN = "7707083893"


def _paid(purpose: str, inn: str = INN) -> BankDocument:
    return replace(payment("xini1_sample3.txt", "288"), purpose=purpose,
                   payer=replace(payment("xini1_sample3.txt", "288").payer, inn=inn, kpp=""))


def test_bill_number_is_not_the_upd_of_the_same_number():
    """Each kind has its own numbering: bill № 5 and UPD № 5 of January are two documents; «счёт № 5» is the
    bill."""
    contracts = [ContractKey(1, "ВК-0042", None, INN)]
    documents = [OpenDocument(10, 1, "5", date(2026, 1, 31), D("8018.38"), "upd"),
                 OpenDocument(11, 1, "5", date(2026, 1, 31), D("8018.38"), "bill")]
    result = match(_paid("Оплата по счёту № 5 от 31.01.2026 по договору № ВК-0042 за январь 2026 г."),
                   contracts, documents)
    assert result.automatic == Candidate(1, 11, 100, "в назначении указан счёт № 5 от 31.01.2026")
    upd = match(_paid("Оплата по УПД № 5 от 31.01.2026"), contracts, documents)
    assert upd.automatic == Candidate(1, 10, 100, "в назначении указан УПД № 5 от 31.01.2026")


def test_invoice_word_fitting_two_documents_of_one_contract_is_that_contract():
    contracts = [ContractKey(1, "ВК-0042", None, INN), ContractKey(2, "ВК-0043", None, INN)]
    documents = [OpenDocument(10, 1, "5", date(2026, 1, 31), D("100.00"), "upd"),
                 OpenDocument(12, 1, "5", date(2026, 1, 12), D("50.00"), "advance_invoice"),
                 OpenDocument(13, 2, "5", date(2026, 1, 31), D("70.00"), "bill")]
    result = match(_paid("Оплата по с/ф № 5"), contracts, documents)
    assert result.automatic == Candidate(1, None, 100, (
        "в назначении указан номер документов одного договора: счёт-фактура на аванс № 5 от 12.01.2026, "
        "УПД № 5 от 31.01.2026"))


def test_documents_of_two_contracts_are_rivals_unless_the_contract_is_named():
    contracts = [ContractKey(1, "ВК-0042", None, INN), ContractKey(2, "ВК-0043", None, INN)]
    documents = [OpenDocument(10, 1, "5", date(2025, 1, 31), D("100.00"), "bill"),
                 OpenDocument(13, 2, "5", date(2026, 1, 31), D("70.00"), "bill")]
    assert [(c.contract_id, c.score) for c in match(_paid("Оплата по счёту № 5"), contracts, documents).candidates
            ] == [(1, 100), (2, 100)]
    named = match(_paid("Оплата по счёту № 5 по договору № ВК-0043"), contracts, documents)
    assert named.automatic == Candidate(2, 13, 100, "в назначении указан счёт № 5 от 31.01.2026")


def test_only_the_payers_own_documents_count():
    """Another organisation's bill № 5 is no candidate: numbers repeat across organisations."""
    contracts = [ContractKey(1, "ВК-0042", None, INN), ContractKey(2, "ВК-0099", None, "5003001114")]
    documents = [OpenDocument(13, 2, "5", date(2026, 1, 31), D("70.00"), "bill")]
    assert match(_paid("Оплата по счёту № 5"), contracts, documents).candidates == (
        Candidate(1, None, 60, f"ИНН плательщика {INN} — единственный договор № ВК-0042"),)
