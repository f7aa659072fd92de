"""The UPD 5.03 (seller's title) built from the model and validated against the shipped FNS XSD plus our checks;
the real EDOLite sample (tests/data/fns-upd, see SOURCES.md) validates the same way; broken files fail with
the element's path and a Russian reason."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path
from uuid import UUID

import pytest
from lxml import etree

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd import build_upd, document_guid, ensure_valid, parse_file_id, validate
from aquabill.channels.fns_upd.checks import Problem
from aquabill.legal_entities.documents import Function

from .docs import FORMED_AT, advance_invoice, exempt_upd, two_rates_upd, water_upd

SAMPLE = next((Path(__file__).resolve().parents[2] / "data" / "fns-upd").glob("ON_NSCHFDOPPR_*.xml"))
GUID = UUID("0b6c1b2e-9a57-4c1e-8f61-3d1c2a9e7f10")


def test_reference_sample_is_valid():
    assert validate(SAMPLE.read_bytes(), SAMPLE.name) == []


def shipment_invoice():
    return replace(water_upd(), function=Function.SCHF)


def shipment_document():
    return replace(water_upd(), function=Function.DOP)


@pytest.mark.parametrize("make", [water_upd, exempt_upd, two_rates_upd, advance_invoice, shipment_invoice,
                                  shipment_document])
def test_generated_documents_are_valid(make):
    upd = build_upd(make(), formed_at=FORMED_AT)
    assert validate(upd.content, upd.name) == []


def test_file_name_follows_the_rule():
    upd = build_upd(water_upd(), formed_at=FORMED_AT, guid=GUID)
    assert upd.name == ("ON_NSCHFDOPPR_2LT-5003001114_2BM-7701123451-770101001000_20260203_"
                        "0b6c1b2e-9a57-4c1e-8f61-3d1c2a9e7f10_0_0_0_0_0_00.xml")
    root = etree.fromstring(upd.content)
    assert root.get("ИдФайл") == upd.name.removesuffix(".xml")
    assert parse_file_id(upd.name).guid == GUID


def test_same_key_same_file():
    guid = document_guid("demo/upd/42/v1")
    first = build_upd(water_upd(), formed_at=FORMED_AT, guid=guid)
    again = build_upd(water_upd(), formed_at=FORMED_AT, guid=guid)
    assert (first.name, first.content) == (again.name, again.content)


def test_encoding_and_header():
    upd = build_upd(water_upd(), formed_at=FORMED_AT, guid=GUID)
    assert upd.content.startswith(b"<?xml version='1.0' encoding='windows-1251'?>")
    assert "Холодное водоснабжение".encode("cp1251") in upd.content
    root = etree.fromstring(upd.content)
    doc = root.find("Документ")
    assert (root.get("ВерсФорм"), doc.get("КНД"), doc.get("Функция"), doc.get("ДатаИнфПр"), doc.get("ВремИнфПр")) == \
        ("5.03", "1115131", "СЧФДОП", "03.02.2026", "09.15.07")


def _totals(content: bytes) -> tuple[D, D, D]:
    root = etree.fromstring(content)
    total = root.find("Документ/ТаблСчФакт/ВсегоОпл")
    vat = total.findtext("СумНалВсего/СумНал")
    return D(total.get("СтТовБезНДСВсего", "0")), D(vat) if vat else None, D(total.get("СтТовУчНалВсего"))


@pytest.mark.parametrize(("make", "expected"), [
    (water_upd, (D("6572.44"), D("1445.94"), D("8018.38"))),
    (exempt_upd, (D("1404.00"), None, D("1404.00"))),
    (two_rates_upd, (D("3500.00"), D("410.00"), D("3910.00"))),
    (advance_invoice, (D("0"), D("9016.39"), D("50000.00"))),
])
def test_round_trip_totals(make, expected):
    doc = make()
    upd = build_upd(doc, formed_at=FORMED_AT)
    assert _totals(upd.content) == expected
    assert (doc.totals.gross, doc.totals.vat) == (expected[2], expected[1])


def test_exempt_line_is_written_as_such():
    root = etree.fromstring(build_upd(exempt_upd(), formed_at=FORMED_AT).content)
    row = root.find("Документ/ТаблСчФакт/СведТов")
    assert (row.get("НалСт"), row.findtext("СумНал/БезНДС"), root.findtext("Документ/ТаблСчФакт/ВсегоОпл/СумНалВсего/БезНДС")) == \
        ("без НДС", "без НДС", "без НДС")
    assert root.find("Документ/СвСчФакт/СвПрод/ИдСв/СвЮЛУч").get("ИННЮЛ") == "7701123451"
    assert root.find("Документ/СвСчФакт/СвПокуп/ИдСв/СвИП").get("ИННФЛ") == "500300111210"


def test_advance_invoice_shape():
    root = etree.fromstring(build_upd(advance_invoice(), formed_at=FORMED_AT).content)
    doc = root.find("Документ")
    row = doc.find("ТаблСчФакт/СведТов")
    assert doc.get("Функция") == "СЧФ" and doc.get("НаимДокОпр") is None and doc.find("СвПродПер") is None
    assert doc.find("СвСчФакт/ДопСвФХЖ1").get("СпОбстФСЧФ") == "2"
    assert doc.find("СвСчФакт/СвПРД").attrib == {"НомерПРД": "812", "ДатаПРД": "05.02.2026", "СуммаПРД": "50000.00"}
    assert (row.get("НалСт"), row.get("СтТовБезНДС"), row.get("КолТов"), row.findtext("СумНал/СумНал")) == \
        ("22/122", None, None, "9016.39")


def test_transfer_block_names_the_contract_and_period():
    root = etree.fromstring(build_upd(water_upd(), formed_at=FORMED_AT).content)
    transfer = root.find("Документ/СвПродПер/СвПер")
    assert (transfer.get("ДатаНачПер"), transfer.get("ДатаОконПер"), transfer.get("ДатаПер")) == \
        ("01.01.2026", "31.01.2026", "31.01.2026")
    assert transfer.find("ОснПер").attrib == {"РеквНаимДок": "Договор холодного водоснабжения",
                                              "РеквНомерДок": "ВС-17/2025", "РеквДатаДок": "20.11.2025"}


def _broken(mutate) -> tuple[bytes, str]:
    upd = build_upd(water_upd(), formed_at=FORMED_AT, guid=GUID)
    root = etree.fromstring(upd.content)
    mutate(root)
    return etree.tostring(root, xml_declaration=True, encoding="windows-1251"), upd.name


def test_wrong_inn_fails_with_path():
    content, name = _broken(lambda r: r.find("Документ/СвСчФакт/СвПокуп/ИдСв/СвЮЛУч").set("ИННЮЛ", "5003001115"))
    assert validate(content, name) == [Problem("/Файл/Документ/СвСчФакт/СвПокуп/ИдСв/СвЮЛУч/@ИННЮЛ",
                                               "ИНН «5003001115»: неверное контрольное число")]


def test_totals_mismatch_fails():
    content, name = _broken(lambda r: r.find("Документ/ТаблСчФакт/ВсегоОпл").set("СтТовУчНалВсего", "8018.39"))
    assert validate(content, name) == [Problem("/Файл/Документ/ТаблСчФакт/ВсегоОпл/@СтТовУчНалВсего",
                                               "итог 8018.39 не равен сумме строк 8018.38")]


def test_line_arithmetic_fails():
    def mutate(root):
        row = root.find("Документ/ТаблСчФакт/СведТов")
        row.find("СумНал/СумНал").text = "1445.96"
    content, name = _broken(mutate)
    assert [str(p) for p in validate(content, name)] == [
        "/Файл/Документ/ТаблСчФакт/СведТов/@СтТовУчНал: стоимость без налога 6572.44 + налог 1445.96 ≠ "
        "стоимость с налогом 8018.38",
        "/Файл/Документ/ТаблСчФакт/СведТов/СумНал: сумма налога 1445.96 не соответствует ставке 22% от 6572.44 "
        "(ожидается 1445.94)",
        "/Файл/Документ/ТаблСчФакт/ВсегоОпл/СумНалВсего: итог налога 1445.94 не равен сумме налога по строкам 1445.96",
    ]


def test_missing_element_fails():
    content, name = _broken(lambda r: r.find("Документ/СвСчФакт").remove(r.find("Документ/СвСчФакт/ДенИзм")))
    # СвПокуп may repeat, so libxml2 expects «СвПокуп или ДенИзм» after the last buyer
    assert validate(content, name) == [Problem("/Файл/Документ/СвСчФакт",
                                               "в элементе СвСчФакт не хватает обязательного элемента: СвПокуп или ДенИзм")]


def test_missing_attribute_and_bad_rate_fail():
    def mutate(root):
        del root.find("Документ").attrib["ВремИнфПр"]
        root.find("Документ/ТаблСчФакт/СведТов").set("НалСт", "18 %")
    content, name = _broken(mutate)
    assert validate(content, name) == [
        Problem("/Файл/Документ/@ВремИнфПр", "не указан обязательный атрибут ВремИнфПр элемента Документ"),
        Problem("/Файл/Документ/ТаблСчФакт/СведТов/@НалСт", "значение «18 %» не входит в список допустимых значений"),
    ]


def test_schematron_presence_by_function():
    def mutate(root):
        doc = root.find("Документ")
        doc.set("Функция", "СЧФ")  # an invoice may not carry НаимДокОпр
    content, name = _broken(mutate)
    assert validate(content, name) == [Problem("/Файл/Документ/@НаимДокОпр",
                                               "при Функция «СЧФ» атрибут НаимДокОпр не указывается")]


def test_file_name_must_equal_file_id():
    upd = build_upd(water_upd(), formed_at=FORMED_AT, guid=GUID)
    other = "ON_NSCHFDOPPR_2LT-5003001114_2BM-7701123451-770101001000_20260203_" \
            "00000000-0000-0000-0000-000000000000_0_0_0_0_0_00.xml"
    assert [p.message for p in validate(upd.content, other)] == [
        f"имя файла обмена «{other[:-4]}» не совпадает со значением ИдФайл «{upd.name[:-4]}»"]


def test_not_xml_fails_clearly():
    [problem] = validate(b"<\xd0\xa4>")
    assert problem.path == "строка 1"
    assert problem.message.startswith("файл не является корректным XML: Premature end of data in tag Ф")


def test_ensure_valid_raises_invalid_with_fields():
    content, name = _broken(lambda r: r.find("Документ/ТаблСчФакт/ВсегоОпл").set("СтТовУчНалВсего", "1.00"))
    with pytest.raises(Invalid) as exc:
        ensure_valid(content, name)
    assert exc.value.message == ("Документ не соответствует формату ФНС 5.03: /Файл/Документ/ТаблСчФакт/ВсегоОпл/"
                                 "@СтТовУчНалВсего: итог 1.00 не равен сумме строк 8018.38")
    assert exc.value.fields == [{"field": "/Файл/Документ/ТаблСчФакт/ВсегоОпл/@СтТовУчНалВсего",
                                 "message": "итог 1.00 не равен сумме строк 8018.38"}]


def test_builder_refuses_a_bad_document():
    doc = replace(water_upd(), buyer=replace(water_upd().buyer, inn="5003001115"))
    with pytest.raises(Invalid) as exc:
        build_upd(doc, formed_at=FORMED_AT)
    assert (exc.value.field, exc.value.message) == ("buyer.inn", "ИНН «5003001115»: неверное контрольное число")


def test_validation_in_parallel_threads():
    """Each thread validates with its own compiled schema: answers never mix."""
    good = build_upd(water_upd(), formed_at=FORMED_AT, guid=GUID)
    bad, name = _broken(lambda r: r.find("Документ/ТаблСчФакт/ВсегоОпл").set("СтТовУчНалВсего", "8018.39"))
    jobs = [(good.content, good.name), (bad, name)] * 50
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = [len(problems) for problems in pool.map(lambda job: validate(*job), jobs)]
    assert counts == [0, 1] * 50


def _set(path, attr, value):
    def mutate(root):
        root.find(path).set(attr, value)
    return mutate


def _drop(path):
    def mutate(root):
        el = root.find(path)
        el.getparent().remove(el)
    return mutate


def _unset(path, *attrs):
    def mutate(root):
        for attr in attrs:
            del root.find(path).attrib[attr]
    return mutate


ROW = "Документ/ТаблСчФакт/СведТов"


@pytest.mark.parametrize(("mutate", "expected"), [
    (_set(ROW, "НалСт", "без НДС"),
     ["/Файл/Документ/ТаблСчФакт/СведТов/@НалСт: ставка «без НДС» не согласуется с суммой налога (указана сумма)"]),
    (_set(ROW, "КолТов", "125.6"),
     ["/Файл/Документ/ТаблСчФакт/СведТов/@СтТовБезНДС: количество 125.6 × цена 52.37 = 6577.67, а стоимость без "
      "налога 6572.44"]),
    (_drop("Документ/СвПродПер"), ["/Файл/Документ: при Функция «СЧФДОП» обязателен элемент СвПродПер (сведения о передаче)"]),
    (_drop("Документ/СвСчФакт/СвПокуп/Адрес"), ["/Файл/Документ/СвСчФакт/СвПокуп: при Функция «СЧФДОП» обязателен Адрес"]),
    (_set("Документ/Подписант", "СпосПодтПолном", "3"),
     ["/Файл/Документ/Подписант: при СпосПодтПолном «3» элемент СвДоверЭл обязателен"]),
    (_set("Документ/СвСчФакт/СвПрод/БанкРекв", "НомерСчета", "40702810038000012345"),
     ["/Файл/Документ/СвСчФакт/СвПрод/БанкРекв/@НомерСчета: Счёт «40702810038000012345» не соответствует БИК "
      "044525225: не сходится контрольный ключ (9-я цифра счёта)"]),
    (_unset("Документ/СвПродПер/СвПер", "ДатаПер", "ДатаОконПер"),
     ["/Файл/Документ/СвПродПер/СвПер: укажите дату отгрузки (ДатаПер) или период: ДатаНачПер и ДатаОконПер"]),
])
def test_checks_beyond_the_xsd(mutate, expected):
    content, name = _broken(mutate)
    assert [str(p) for p in validate(content, name)] == expected


def test_shipment_invoice_needs_the_shipment_document():
    upd = build_upd(shipment_invoice(), formed_at=FORMED_AT, guid=GUID)
    root = etree.fromstring(upd.content)
    info = root.find("Документ/СвСчФакт")
    info.remove(info.find("ДокПодтвОтгрНом"))
    content = etree.tostring(root, xml_declaration=True, encoding="windows-1251")
    assert [str(p) for p in validate(content, upd.name)] == [
        "/Файл/Документ/СвСчФакт: в счёте-фактуре (СЧФ) не на аванс обязателен ДокПодтвОтгрНом (строка 5а)"]


def test_gar_address_needs_the_municipal_district():
    upd = build_upd(exempt_upd(), formed_at=FORMED_AT, guid=GUID)
    root = etree.fromstring(upd.content)
    gar = root.find("Документ/СвСчФакт/СвПокуп/Адрес/АдрГАР")
    gar.remove(gar.find("МуниципРайон"))
    content = etree.tostring(root, xml_declaration=True, encoding="windows-1251")
    assert [str(p) for p in validate(content, upd.name)] == [
        "/Файл/Документ/СвСчФакт/СвПокуп/Адрес/АдрГАР: в адресе ГАР обязателен МуниципРайон (кроме региона 99)"]
