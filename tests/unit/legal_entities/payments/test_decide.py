"""The legal-entity import's decision for one statement line of a known payer (pure): the contract named, the
payer's only active contract, a document named; otherwise the queue with the Russian reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.base.errors import Invalid
from aquabill.legal_entities.matching import ContractKey, OpenDocument
from aquabill.legal_entities.payments.bank_import import PayerContract, decide, statement_line
from aquabill.legal_entities.payments.turnover import _months, check_range

INN = "7707083893"


def contract(cid: int, number: str, active: bool = True, counterparty_id: int = 5) -> PayerContract:
    return PayerContract(ContractKey(cid, number, date(2025, 1, 15), INN, "770701001"), counterparty_id, active)


def line(purpose: str) -> object:
    return statement_line(7, D("100.00"), purpose, INN, "770701001")


def test_only_active_contract_is_booked():
    assert decide(line("Оплата за воду"), [contract(1, "ВК-1"), contract(2, "ВК-2", active=False)], []) == (
        1, 5, "Автоматически: ИНН плательщика 7707083893 — единственный договор № ВК-1")


def test_contract_number_even_of_a_terminated_contract():
    got = decide(line("Оплата по договору № ВК-2 за май"), [contract(1, "ВК-1"), contract(2, "ВК-2", active=False)],
                 [])
    assert got[:2] == (2, 5)


def test_document_number_names_its_contract():
    docs = [OpenDocument(10, 3, "УПД-0042", date(2026, 10, 31), D("100.00"))]
    got = decide(line("Оплата по УПД № УПД-0042 от 31.10.2026"), [contract(1, "ВК-1"), contract(3, "ВК-3")], docs)
    assert got[:2] == (3, 5)


def test_several_contracts_none_named_stays_in_the_queue():
    assert decide(line("Оплата за воду"), [contract(c, f"ВК-{c}") for c in (1, 2, 3)], []) == (
        None, None, f"Плательщик ИНН {INN} найден, но в назначении нет номера договора, а договоров у него 3")


def test_a_contract_number_the_payer_does_not_have():
    assert decide(line("Оплата по договору № ЧУЖОЙ-9"), [contract(1, "ВК-1"), contract(2, "ВК-2")], [])[2] == (
        f"Плательщик ИНН {INN} найден, но договора № ЧУЖОЙ-9 у него нет, а действующих договоров у него 2")


def test_no_contract_in_force():
    assert decide(line("Оплата"), [contract(1, "ВК-1", active=False)], [])[2] == (
        f"Плательщик ИНН {INN} найден, но действующих договоров у него нет")


def test_months_and_range():
    assert _months(date(2026, 11, 15), date(2027, 2, 1)) == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1),
                                                             date(2027, 2, 1)]
    assert _months(date(9999, 11, 5), date(9999, 12, 31)) == [date(9999, 11, 1), date(9999, 12, 1)]
    assert check_range(date(2026, 1, 1), date(2026, 1, 1)) == (date(2026, 1, 1), date(2026, 1, 1))
    with pytest.raises(Invalid, match="раньше"):
        check_range(date(2026, 2, 1), date(2026, 1, 1))


def test_bill_number_equal_to_the_upd_number_books_the_bill():
    """The demo's purpose: «счёт № N … по договору № ВК-…» while the UPD of the month is № N too."""
    docs = [OpenDocument(20, 1, "5", date(2026, 1, 31), D("100.00"), "upd"),
            OpenDocument(21, 1, "5", date(2026, 1, 31), D("100.00"), "bill")]
    assert decide(line("Оплата по счёту № 5 от 31.01.2026 по договору № ВК-1 за водоснабжение за январь 2026 г."),
                  [contract(1, "ВК-1"), contract(2, "ВК-2")], docs) == (
        1, 5, "Автоматически: в назначении указан счёт № 5 от 31.01.2026")


def test_bill_of_a_terminated_contract_named_by_number():
    docs = [OpenDocument(21, 2, "5", date(2025, 11, 30), D("100.00"), "bill")]
    assert decide(line("Оплата по счёту № 5"), [contract(1, "ВК-1"), contract(2, "ВК-2", active=False)], docs)[:2] == (
        2, 5)


def test_documents_of_different_contracts_say_so():
    docs = [OpenDocument(20, 1, "5", date(2025, 1, 31), D("100.00"), "bill"),
            OpenDocument(21, 2, "5", date(2026, 1, 31), D("100.00"), "bill")]
    assert decide(line("Оплата по счёту № 5"), [contract(1, "ВК-1"), contract(2, "ВК-2")], docs) == (
        None, None, f"Плательщик ИНН {INN} найден, но документы, названные в назначении, относятся к разным "
                    "договорам (№ ВК-1, № ВК-2)")


def test_a_document_the_payer_does_not_have_is_named_as_such():
    """A UPD № 5 exists, the purpose names the bill № 5 that does not: the reason names the bill, not the contract
    (which the payer has)."""
    docs = [OpenDocument(20, 1, "5", date(2026, 1, 31), D("100.00"), "upd")]
    assert decide(line("Оплата по счёту № 5 за январь"), [contract(1, "ВК-1"), contract(2, "ВК-2")], docs) == (
        None, None, f"Плательщик ИНН {INN} найден, но документа из назначения (счёт № 5) среди его документов нет, "
                    "а действующих договоров у него 2")


def test_a_missing_contract_and_a_missing_document():
    assert decide(line("Оплата по с/ф № 9 по договору № ЧУЖОЙ-9"), [contract(1, "ВК-1"), contract(2, "ВК-2")],
                  [])[2] == (f"Плательщик ИНН {INN} найден, но документа из назначения (счёт-фактура № 9) среди его "
                             "документов нет и договора № ЧУЖОЙ-9 у него нет, а действующих договоров у него 2")
