"""The seller's title of the universal correction document (УКД) / correction invoice as the FNS XML: КНД
1115127, format 5.01, schema `xsd/ON_KORSCHFDOPPR_1_996_01_05_01_03.xsd` (see `xsd/SOURCES.md`), windows-1251.

`build_ukd(correction, formed_at=…, guid=…)` renders `aquabill.legal_entities.issue.ukd.Correction` in the
schema's element order: the exchange block (СвУчДокОбор: sender and recipient EDO ids), the correction invoice
(СвКСчФ: its number and date, the corrected invoice, the parties), the table (ТаблКСчФ: per line quantity, price,
cost without tax, excise, tax and cost with tax before / after the change and the increase or decrease; totals
ВсегоУвел / ВсегоУм), the basis (СодФХЖ3: the contract) and the signer. The file name is
`ON_KORSCHFDOPPR_<recipient>_<sender>_<ГГГГММДД>_<GUID>` (= @ИдФайл, as for the 5.01 formats);
`ensure_valid_ukd` checks the file against the XSD and the name.
Signer (5.01): ОблПолн 6 — signs the invoice and draws up the fact of economic life (КСЧФДИС), 3 — the fact only
(ДИС); Статус 1 — an employee of the seller; ОснПолн «Должностные обязанности».
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from lxml import etree

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd.naming import check_participant
from aquabill.channels.fns_upd.ukd_parts import line_amounts, totals
from aquabill.channels.fns_upd.validate import shipped_schema
from aquabill.legal_entities.documents import Party, TextAddress
from aquabill.legal_entities.issue.ukd import Correction, CorrLine

SCHEMA_FILE = "ON_KORSCHFDOPPR_1_996_01_05_01_03.xsd"
PREFIX = "ON_KORSCHFDOPPR"
KND = "1115127"
VERSION = "5.01"
ENCODING = "windows-1251"


def schema() -> etree.XMLSchema:
    return shipped_schema(SCHEMA_FILE)


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v not in (None, "")})


def _num(value: Decimal) -> str:
    return format(value, "f")


def _date(value) -> str:
    return f"{value:%d.%m.%Y}"


def file_id(correction: Correction, formed_at: datetime, guid: UUID) -> str:
    recipient = check_participant(correction.buyer.edo_id, field="buyer.edo_id")
    sender = check_participant(correction.seller.edo_id, field="seller.edo_id")
    return f"{PREFIX}_{recipient}_{sender}_{formed_at:%Y%m%d}_{guid}"


def build_ukd(correction: Correction, *, formed_at: datetime, guid: UUID) -> tuple[str, bytes]:
    ident = file_id(correction, formed_at, guid)
    root = etree.Element("Файл", ИдФайл=ident, ВерсФорм=VERSION, ВерсПрог="Aquabill")
    _sub(root, "СвУчДокОбор", ИдОтпр=correction.seller.edo_id, ИдПол=correction.buyer.edo_id)
    d = _sub(root, "Документ", КНД=KND, Функция=correction.function, ДатаИнфПр=_date(formed_at),
             ВремИнфПр=f"{formed_at:%H.%M.%S}",
             НаимЭконСубСост=f"{correction.seller.name}, ИНН {correction.seller.inn}"[:1000])
    inv = _sub(d, "СвКСчФ", НомерКСчФ=correction.number, ДатаКСчФ=_date(correction.date), КодОКВ="643")
    _sub(inv, "СчФ", НомерСчФ=correction.corrected_number, ДатаСчФ=_date(correction.corrected_date))
    _party(inv, "СвПрод", correction.seller)
    _party(inv, "СвПокуп", correction.buyer)
    table = _sub(d, "ТаблКСчФ")
    for line in correction.lines:
        _line(table, line)
    _totals(table, correction.lines)
    content = _sub(d, "СодФХЖ3", СодОпер="Изменение стоимости оказанных услуг по перерасчёту объёма",
                   ПередатДокум=f"{correction.corrected_title} № {correction.corrected_number} от "
                                f"{_date(correction.corrected_date)}"[:255])
    _sub(content, "ОснКор", НаимОсн="Договор", НомОсн=correction.contract_number[:255],
         ДатаОсн=_date(correction.contract_date))
    signer = _sub(d, "Подписант", ОблПолн="6" if correction.function == "КСЧФДИС" else "3", Статус="1",
                  ОснПолн="Должностные обязанности")
    org = _sub(signer, "ЮЛ", ИННЮЛ=correction.seller.inn, Должн=correction.signer.position[:128])
    p = correction.signer.person
    _sub(org, "ФИО", Фамилия=p.last_name[:60], Имя=p.first_name[:60], Отчество=p.middle_name[:60])
    return f"{ident}.xml", etree.tostring(root, xml_declaration=True, encoding=ENCODING, pretty_print=True)


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    p = _sub(parent, tag)
    ids = _sub(p, "ИдСв")
    if party.is_sole_trader and party.person is not None:
        ip = _sub(ids, "СвИП", ИННФЛ=party.inn)
        _sub(ip, "ФИО", Фамилия=party.person.last_name[:60], Имя=party.person.first_name[:60],
             Отчество=party.person.middle_name[:60])
    else:
        _sub(ids, "СвЮЛУч", НаимОрг=party.name[:1000], ИННЮЛ=party.inn, КПП=party.kpp)
    address = party.address
    text = address.text if isinstance(address, TextAddress) else str(address)
    _sub(_sub(p, "Адрес"), "АдрИнф", КодСтр="643", АдрТекст=text[:255])
    if party.bank is not None:
        bank = _sub(p, "БанкРекв", НомерСчета=party.bank.account)
        _sub(bank, "СвБанк", НаимБанк=party.bank.bank_name[:1000], БИК=party.bank.bic,
             КорСчет=party.bank.corr_account)


def _line(table: etree._Element, line: CorrLine) -> None:
    row = _sub(table, "СведТов", НомСтр=str(line.number), НаимТов=line.name[:1000], ОКЕИ_ТовДо=line.unit.code,
               ОКЕИ_ТовПосле=line.unit.code, КолТовДо=_num(line.quantity_before),
               КолТовПосле=_num(line.quantity_after),
               ЦенаТовДо=_num(line.price_before) if line.price_before is not None else "",
               ЦенаТовПосле=_num(line.price_after) if line.price_after is not None else "",
               НалСтДо=line.rate, НалСтПосле=line.rate)
    line_amounts(row, line, equal_as_increase=True)


def _totals(table: etree._Element, lines: tuple[CorrLine, ...]) -> None:
    totals(table, lines, tax_tag="СумНал")


def validate_ukd(content: bytes, file_name: str | None = None) -> list[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        return [f"файл не является корректным XML: {exc.msg}"]
    xsd = schema()
    problems = [] if xsd.validate(root) else [f"{e.path}: {e.message}" for e in xsd.error_log]
    if file_name is not None and file_name.removesuffix(".xml") != root.get("ИдФайл"):
        problems.append(f"имя файла {file_name} не совпадает с ИдФайл {root.get('ИдФайл')}")
    return problems


def ensure_valid_ukd(content: bytes, file_name: str | None = None) -> None:
    problems = validate_ukd(content, file_name)
    if problems:
        raise Invalid("УКД не соответствует формату ФНС 5.01: " + "; ".join(problems[:20]), field="xml")
