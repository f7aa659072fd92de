"""The correction document (УКД) in format 5.02 (КНД 1115133): built from a `Correction`, valid against the shipped
5.02 XSD and its Schematron rules, with the 22 % rate 5.01 cannot write; 5.01 stays for the rates it has."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from lxml import etree

from aquabill.base.errors import Invalid
from aquabill.channels.edo.diadoc import DiadocError
from aquabill.channels.edo.runner import document_type
from aquabill.channels.fns_upd.ukd import build_ukd, validate_ukd
from aquabill.channels.fns_upd.ukd502 import build_ukd502, ensure_valid_ukd502, schema, validate_ukd502
from aquabill.legal_entities.documents import BankAccount, Party, Person, Signer, TextAddress, Unit
from aquabill.legal_entities.issue.ukd import Correction, CorrLine, format_for
from aquabill.legal_entities.vat import Amounts

D = Decimal
M3 = Unit("113", "м3")
FORMED = datetime(2026, 11, 30, 10, 15, 0)
GUID = UUID("0b6c1b2e-9a57-4c1e-8f61-3d1c2a9e7f10")
SELLER = Party(name="МУП «Водоканал»", inn="7707083893", kpp="770701001", address=TextAddress("603000, г. Тестовск"),
               bank=BankAccount("40702810938000000001", "044525225", "ПАО Сбербанк", "30101810400000000225"),
               edo_id="2BM-7707083893-770701001")
BUYER = Party(name="ООО «Ромашка»", inn="7736050003", kpp="773601001", address=TextAddress("г. Тестовск, ул. Заводская, 5"),
              edo_id="2BM-7736050003-773601001")


def line(number: int, rate: str, qty: tuple[str, str], price: str, before: tuple, after: tuple) -> CorrLine:
    def amounts(net: str, vat: str | None, gross: str) -> Amounts:
        return Amounts(D(net), D(vat) if vat is not None else None, D(gross))
    return CorrLine(number=number, name=f"Услуга {number}", rate=rate, unit=M3, quantity_before=D(qty[0]),
                    quantity_after=D(qty[1]), price_before=D(price), price_after=D(price), before=amounts(*before),
                    after=amounts(*after))


def correction(lines: list[CorrLine], function: str = "КСЧФДИС") -> Correction:
    return Correction(function=function, number="12", date=date(2026, 11, 30), seller=SELLER, buyer=BUYER,
                      signer=Signer(Person("Иванова", "Мария", "Петровна"), "Главный бухгалтер"),
                      corrected_number="ВК-0041", corrected_date=date(2026, 1, 31),
                      corrected_title="Универсальный передаточный документ", contract_number="ВК-7",
                      contract_date=date(2025, 1, 15), lines=tuple(lines), format_version=format_for(lines))


# 22 %, priced without VAT: 10 → 11 m³ × 50.00: 500.00 + 110.00 = 610.00 → 550.00 + 121.00 = 671.00 (+61.00);
# 4 → 3 m³ × 30.00: 120.00 + 26.40 = 146.40 → 90.00 + 19.80 = 109.80 (−36.60)
UP_22 = line(1, "22%", ("10.000", "11.000"), "50.00", ("500.00", "110.00", "610.00"), ("550.00", "121.00", "671.00"))
DOWN_22 = line(2, "22%", ("4.000", "3.000"), "30.00", ("120.00", "26.40", "146.40"), ("90.00", "19.80", "109.80"))
# 22/122, priced with VAT: 3 → 4 m³ at 61.00 gross: 183.00 = 150.00 + 33.00 → 244.00 = 200.00 + 44.00
CALC_22 = line(1, "22/122", ("3.000", "4.000"), "50.00", ("150.00", "33.00", "183.00"), ("200.00", "44.00", "244.00"))
# без НДС, an act corrected down: 10 → 7 m³ × 50.00
EXEMPT = line(1, "без НДС", ("10.000", "7.000"), "50.00", ("500.00", None, "500.00"), ("350.00", None, "350.00"))


def built(corr: Correction) -> tuple[str, bytes, etree._Element]:
    name, content = build_ukd502(corr, formed_at=FORMED, guid=GUID)
    return name, content, etree.fromstring(content)


def test_a_22_percent_correction_with_an_increase_and_a_decrease():
    corr = correction([UP_22, DOWN_22])
    assert corr.format_version == "5.02"
    name, content, root = built(corr)
    assert validate_ukd502(content, name) == []
    assert schema().validate(root)
    assert content.startswith(b"<?xml version='1.0' encoding='windows-1251'?>")
    assert name == ("ON_NKORSCHFDOPPR_2BM-7736050003-773601001_2BM-7707083893-770701001_20261130_"
                    "0b6c1b2e-9a57-4c1e-8f61-3d1c2a9e7f10_0_0_0_0_0_00.xml") == root.get("ИдФайл") + ".xml"
    doc = root.find("Документ")
    assert (root.get("ВерсФорм"), doc.get("КНД"), doc.get("Функция")) == ("5.02", "1115133", "КСЧФДИС")
    assert doc.find("СвКСчФ/СчФ").attrib == {"НомерСчФ": "ВК-0041", "ДатаСчФ": "31.01.2026"}
    assert doc.find("СодФХЖ3/ПередатДокум").get("РеквНомерДок") == "ВК-0041"
    up, down = doc.findall("ТаблКСчФ/СведТов")
    assert [r.get("НалСт") for r in (up, down)] == ["22%", "22%"]
    assert up.find("СтТовБезНДС").attrib == {"СтоимДоИзм": "500.00", "СтоимПослеИзм": "550.00", "СтоимУвел": "50.00"}
    assert (up.findtext("СумНалДо/СумНДС"), up.findtext("СумНалПосле/СумНДС"),
            up.findtext("СумНалРазн/СумУвел")) == ("110.00", "121.00", "11.00")
    assert up.find("СтТовУчНал").get("СтоимУвел") == "61.00" and down.find("СтТовУчНал").get("СтоимУм") == "36.60"
    assert down.findtext("СумНалРазн/СумУм") == "6.60"
    inc, dec = doc.find("ТаблКСчФ/ВсегоУвел"), doc.find("ТаблКСчФ/ВсегоУм")
    assert (inc.get("СтТовБезНДСВсего"), inc.findtext("СумНалВсего/СумНДС"), inc.get("СтТовУчНалВсего")) == (
        "50.00", "11.00", "61.00")
    assert (dec.get("СтТовБезНДСВсего"), dec.findtext("СумНалВсего/СумНДС"), dec.get("СтТовУчНалВсего")) == (
        "30.00", "6.60", "36.60")


def test_the_calculated_rate_22_122():
    name, content, root = built(correction([CALC_22]))
    assert validate_ukd502(content, name) == []
    assert root.find("Документ/ТаблКСчФ/СведТов").get("НалСт") == "22/122"


def test_a_decrease_of_an_act_without_vat_is_a_dis():
    # without VAT the issue keeps 5.01 (format_for); the 5.02 builder writes such a correction as well
    name, content, root = built(replace(correction([EXEMPT], function="ДИС"), format_version="5.02"))
    assert validate_ukd502(content, name) == []
    doc = root.find("Документ")
    assert doc.get("Функция") == "ДИС" and doc.get("НаимДокОпр").startswith("Документ об изменении стоимости")
    row = doc.find("ТаблКСчФ/СведТов")
    assert (row.findtext("СумНалДо/БезНДС"), row.findtext("СумНалРазн/СумУвел")) == ("без НДС", "0")
    assert row.find("СтТовУчНал").get("СтоимУм") == "150.00"
    assert doc.find("ТаблКСчФ/ВсегоУвел") is None
    total = doc.find("ТаблКСчФ/ВсегоУм")
    assert (total.get("СтТовУчНалВсего"), total.findtext("СумНалВсего/БезНДС")) == ("150.00", "без НДС")


@pytest.mark.parametrize(("tamper", "message"), [
    (lambda r: r.find("Документ/ТаблКСчФ/ВсегоУвел").set("СтТовБезНДСВсего", "50.01"),
     "итог 50.01 не равен сумме строк 50.00"),
    (lambda r: r.find("Документ/ТаблКСчФ/СведТов/СумНалРазн/СумУвел").__setattr__("text", "11.01"),
     "изменение налога 11.01, а после − до = 11.00"),
    (lambda r: r.find("Документ/ТаблКСчФ/СведТов/СтТовБезНДС").set("СтоимПослеИзм", "551.00"),
     "после 551.00 − до 500.00 = 51.00, а указано изменение 50.00"),
    (lambda r: r.find("Документ").attrib.pop("ПоФактХЖ"), "при Функции «КСЧФДИС» ПоФактХЖ должен быть"),
    (lambda r: r.find("Документ/ТаблКСчФ/СведТов").set("ЦенаТовПосле", "0"), "должна быть > 0"),
    (lambda r: r.find("Документ/ТаблКСчФ").remove(r.find("Документ/ТаблКСчФ/ВсегоУвел")),
     "нужна хотя бы одна из строк"),
])
def test_the_checks_the_xsd_cannot_do(tamper, message):
    name, _content, root = built(correction([UP_22]))
    tamper(root)
    problems = validate_ukd502(etree.tostring(root, xml_declaration=True, encoding="windows-1251"), name)
    assert any(message in p.message for p in problems), problems


def test_the_file_name_must_be_the_file_id():
    name, content, _root = built(correction([UP_22]))
    with pytest.raises(Invalid) as exc:
        ensure_valid_ukd502(content, name.replace("_0_0_0_0_0_00", ""))
    assert exc.value.message.startswith("УКД не соответствует формату ФНС 5.02: ")
    assert "не совпадает со значением ИдФайл" in exc.value.message


@pytest.mark.parametrize(("rates", "version"), [
    (["20%"], "5.01"), (["без НДС"], "5.01"), (["20/120", "10%"], "5.01"),
    (["22%"], "5.02"), (["22/122"], "5.02"), (["20%", "22%"], "5.02"), (["5%"], "5.02"),
])
def test_the_format_follows_the_rates(rates, version):
    assert format_for([line(i + 1, r, ("1", "2"), "1.00", ("1.00", "0.20", "1.20"), ("2.00", "0.40", "2.40"))
                       for i, r in enumerate(rates)]) == version


def test_a_20_percent_correction_stays_in_5_01():
    twenty = line(1, "20%", ("10.000", "12.000"), "50.00", ("500.00", "100.00", "600.00"), ("600.00", "120.00", "720.00"))
    corr = correction([twenty])
    assert corr.format_version == "5.01"
    name, content = build_ukd(corr, formed_at=FORMED, guid=GUID)
    assert name.startswith("ON_KORSCHFDOPPR_") and validate_ukd(content, name) == []


def test_the_edo_sender_does_not_post_a_5_02_ukd_as_5_01():
    assert document_type({"kind": "ukd", "function": "КСЧФДИС", "file_name": "ON_KORSCHFDOPPR_a_b.xml"})[2] == (
        "ucd736_05_01_02")
    with pytest.raises(DiadocError, match="формате 5.02"):
        document_type({"kind": "ukd", "function": "КСЧФДИС", "file_name": "ON_NKORSCHFDOPPR_a_b.xml"})
