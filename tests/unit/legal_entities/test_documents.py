"""The document model: lines computed through the VAT rules, and the refusals of `check_document`."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.base.errors import Invalid
from aquabill.legal_entities.documents import (
    CUBIC_METRE,
    BankAccount,
    Function,
    Person,
    check_document,
    make_advance_line,
    make_line,
)
from aquabill.legal_entities.vat import NO_VAT, VAT_20, VAT_22, VAT_22_122, Amounts
from tests.integration.fns_upd.docs import BUYER, SOLE_TRADER, advance_invoice, two_rates_upd, water_upd


def test_line_from_price_without_vat():
    line = make_line(1, "ХВС", VAT_22, quantity=D("125.5"), price=D("52.37"))
    assert (line.unit, line.price, line.amounts) == (CUBIC_METRE, D("52.37"),
                                                    Amounts(D("6572.44"), D("1445.94"), D("8018.38")))


def test_line_from_price_with_vat_keeps_the_net_price():
    """61.00 with VAT × 7 = 427.00; VAT 427 × 22/122 = 77.0000 → 77.00; net 350.00, net price 50."""
    line = make_line(1, "ХВС", VAT_22, quantity=D("7"), price=D("61.00"), price_includes_vat=True)
    assert (line.price, line.amounts) == (D("50"), Amounts(D("350.00"), D("77.00"), D("427.00")))


def test_net_price_to_eleven_decimals():
    """100.00 with VAT × 3: VAT 18.03, net 81.97, net price 81.97 / 3 = 27.32333333333."""
    line = make_line(1, "ХВС", VAT_22, quantity=D("3"), price=D("33.3333333"), price_includes_vat=True)
    assert (line.amounts, line.price) == (Amounts(D("81.97"), D("18.03"), D("100.00")), D("27.32333333333"))


def test_document_totals():
    assert two_rates_upd().totals == Amounts(D("3500.00"), D("410.00"), D("3910.00"))


def test_valid_documents_pass():
    for doc in (water_upd(), two_rates_upd(), advance_invoice(), water_upd(buyer=SOLE_TRADER)):
        assert check_document(doc) is doc


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda d: replace(d, number=" "), "number", "Не указан номер документа"),
    (lambda d: replace(d, lines=()), "lines", "В документе нет ни одной строки"),
    (lambda d: replace(d, seller=replace(d.seller, kpp="")), "seller.kpp", "Не указан КПП продавца-организации"),
    (lambda d: replace(d, buyer=replace(d.buyer, kpp="77010100")), "buyer.kpp",
     "КПП «77010100» должен состоять из 9 знаков"),
    (lambda d: replace(d, buyer=replace(SOLE_TRADER, person=None)), "buyer.person",
     "Для покупателя с ИНН из 12 цифр (ИП) укажите фамилию и имя"),
    (lambda d: replace(d, buyer=replace(SOLE_TRADER, ogrnip="304500116000158")), "buyer.ogrnip",
     "ОГРНИП «304500116000158»: неверное контрольное число"),
    (lambda d: replace(d, buyer=replace(BUYER, bank=BankAccount("40702810100000054322", "044525352"))),
     "buyer.bank.account", "Счёт «40702810100000054322» не соответствует БИК 044525352: не сходится контрольный ключ "
                           "(9-я цифра счёта)"),
    (lambda d: replace(d, period=None), "period", "Укажите дату отгрузки или период оказания услуг"),
    (lambda d: replace(d, period=(date(2026, 1, 31), date(2026, 1, 1))), "period",
     "Начало периода оказания услуг позже его окончания"),
    (lambda d: replace(d, lines=(make_line(1, "ХВС", VAT_20, quantity=D("1"), price=D("10.00")),)),
     "lines[1].vat_rate", "Ставка НДС 20% на 31.01.2026 не применяется: она действует с 01.01.2019 по 31.12.2025 "
                          "(НК РФ ст. 164 п. 3 в ред. 303-ФЗ от 03.08.2018)"),
    (lambda d: replace(d, lines=d.lines * 2), "lines", "Номера строк документа должны быть различными и начинаться с 1"),
    (lambda d: replace(d, lines=(make_advance_line(1, "Аванс", D("100.00"), VAT_22_122),)), "lines[1].vat_rate",
     "Строка 1: расчётная ставка 22/122 — только для авансов"),
])
def test_bad_documents_are_refused(change, field, message):
    with pytest.raises(Invalid) as exc:
        check_document(change(water_upd()))
    assert (exc.value.field, exc.value.message) == (field, message)


def test_advance_rules():
    with pytest.raises(Invalid) as exc:
        check_document(replace(advance_invoice(), payments=()))
    assert exc.value.message == "В счёте-фактуре на аванс укажите платёжное поручение (строка 5)"
    with pytest.raises(Invalid) as exc:
        check_document(replace(advance_invoice(), function=Function.SCHFDOP))
    assert exc.value.message == "Счёт-фактура на аванс составляется с функцией СЧФ"
    with pytest.raises(Invalid) as exc:
        make_advance_line(1, "Аванс", D("100.00"), VAT_22)
    assert exc.value.message == "В счёте-фактуре на аванс применяется расчётная ставка (например 22/122), а не 22%"


def test_exempt_advance_line():
    line = make_advance_line(1, "Аванс", D("100.00"), NO_VAT)
    assert line.amounts == Amounts(D("100.00"), None, D("100.00"))


def test_person_short_name():
    assert Person("Петрова", "Анна", "Сергеевна").short == "Петрова А.С."
