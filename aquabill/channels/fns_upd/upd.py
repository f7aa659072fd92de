"""The seller's title of the UPD / invoice as the FNS XML: КНД 1115131, format 5.03 (FNS order ЕД-7-26/970@ of
19.12.2023 as amended; the edition of the schema `ON_NSCHFDOPPR_1_997_01_05_03_05.xsd` that has the 22 %
rate), windows-1251.

`build_upd(document, formed_at=…)` renders `aquabill.legal_entities.documents.Document` with lxml in the
schema's element order and returns the file name and bytes; `validate.py` checks the result. What the builder
writes, by function:
- СЧФДОП (the UPD) and ДОП: the shipment block (СвПродПер: the operation, the service period, the contract as
  ОснПер, the person who handed over) and `НаимДокОпр`; the UPD also names itself as the shipment document
  (ДокПодтвОтгрНом, line 5a of the invoice), as the real sample does;
- СЧФ: no `НаимДокОпр` (the Schematron forbids it); a shipment invoice refers to the shipment document
  (ДокПодтвОтгрНом = the contract's act, given as `shipment_doc`); an advance invoice is marked with
  СпОбстФСЧФ="2" (the invoice issued on receipt of a prepayment — the value under which the Schematron drops
  the shipment document and the amount without tax), names the payment orders (СвПРД, line 5) and its lines
  carry only the name, the calculated rate, the tax and the amount received (Decree 1137, rules of filling
  in: columns 2–6 are not filled for an advance).
The 5.03 format has no СвУчДокОбор block (5.01/5.02 had one): the EDO participant ids live only in @ИдФайл.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from lxml import etree

from aquabill import __version__
from aquabill.channels.fns_upd.naming import FileId, make_file_id
from aquabill.legal_entities.documents import (
    Address,
    Document,
    DocumentRef,
    Function,
    GarAddress,
    Line,
    Party,
    RussianAddress,
    TextAddress,
    check_document,
)
from aquabill.legal_entities.vat import Amounts

KND = "1115131"
FORMAT_VERSION = "5.03"
PROGRAM = f"Aquabill {__version__}"
ENCODING = "windows-1251"
SHIPMENT_TITLE = ("Документ об отгрузке товаров (выполнении работ), передаче имущественных прав "
                  "(документ об оказании услуг)")
UPD_TITLE = ("Счет-фактура и документ об отгрузке товаров (выполнении работ), передаче имущественных прав "
             "(документ об оказании услуг)")
ADVANCE_CIRCUMSTANCE = "2"  # СпОбстФСЧФ: invoice on a prepayment received (see the module docstring)


@dataclass(frozen=True, slots=True)
class UpdFile:
    file_id: FileId
    content: bytes  # windows-1251 XML with its declaration

    @property
    def name(self) -> str:
        return self.file_id.file_name


def build_upd(doc: Document, *, formed_at: datetime, guid: UUID | None = None,
              shipment_doc: DocumentRef | None = None, program: str = PROGRAM) -> UpdFile:
    """The exchange file for `doc` (checked first), formed at `formed_at` (its date goes into the name and
    ДатаИнфПр, its time into ВремИнфПр). `guid` fixes the file's GUID (see `naming.document_guid`)."""
    file_id, root = upd_tree(doc, formed_at=formed_at, guid=guid, shipment_doc=shipment_doc, program=program)
    return UpdFile(file_id=file_id, content=serialize(root))


def serialize(root: etree._Element) -> bytes:
    """The file's bytes: windows-1251 with the XML declaration."""
    return etree.tostring(root, xml_declaration=True, encoding=ENCODING, pretty_print=True)


def upd_tree(doc: Document, *, formed_at: datetime, guid: UUID | None = None,
             shipment_doc: DocumentRef | None = None, program: str = PROGRAM,
             checked: bool = False) -> tuple[FileId, etree._Element]:
    """`build_upd` before serialising: the file id and the element tree (validated as it is by the issuing
    renderer, which so saves parsing the bytes back). `checked`: the caller has run `check_document` on `doc`
    already (the issuing does, before numbering) — not repeated."""
    if not checked:
        check_document(doc)
    file_id = make_file_id(doc.buyer.edo_id, doc.seller.edo_id, formed_at.date(), guid)
    root = etree.Element("Файл", ИдФайл=str(file_id), ВерсФорм=FORMAT_VERSION, ВерсПрог=program[:40])
    d = _sub(root, "Документ", КНД=KND, Функция=doc.function.value)
    if doc.function is Function.SCHFDOP:
        d.set("ПоФактХЖ", SHIPMENT_TITLE)
        d.set("НаимДокОпр", UPD_TITLE)
    elif doc.function is Function.DOP:
        d.set("ПоФактХЖ", SHIPMENT_TITLE)
        d.set("НаимДокОпр", SHIPMENT_TITLE)
    d.set("ДатаИнфПр", _date(formed_at))
    d.set("ВремИнфПр", f"{formed_at:%H.%M.%S}")
    d.set("НаимЭконСубСост", f"{doc.seller.name}, ИНН {doc.seller.inn}"[:1000])
    _invoice_info(d, doc, shipment_doc)
    _table(d, doc)
    if doc.function in (Function.SCHFDOP, Function.DOP):
        _transfer(d, doc)
    signer = _sub(d, "Подписант", Должн=doc.signer.position[:255], СпосПодтПолном="1")
    _fio(signer, doc.signer.person)
    return file_id, root


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v not in (None, "")})


def _date(value: date | datetime) -> str:
    return f"{value:%d.%m.%Y}"


def _num(value: Decimal) -> str:
    """A decimal as the format writes it: fixed point, never an exponent (Decimal("1E+2") → "100")."""
    return format(value, "f")


def _invoice_info(d: etree._Element, doc: Document, shipment_doc: DocumentRef | None) -> None:
    inv = _sub(d, "СвСчФакт", НомерДок=doc.number, ДатаДок=_date(doc.date))
    if doc.correction is not None:
        _sub(inv, "ИспрДок", НомИспр=str(doc.correction[0]), ДатаИспр=_date(doc.correction[1]))
    _party(inv, "СвПрод", doc.seller)
    for i, ref in enumerate(doc.payments):
        amount = doc.payment_amounts[i] if i < len(doc.payment_amounts) else None
        _sub(inv, "СвПРД", НомерПРД=ref.number[:30], ДатаПРД=_date(ref.date),
             СуммаПРД=_num(amount) if amount is not None else "")
    if doc.function is Function.SCHFDOP:
        _sub(inv, "ДокПодтвОтгрНом", РеквНаимДок=UPD_TITLE, РеквНомерДок=doc.number, РеквДатаДок=_date(doc.date))
    elif doc.function is Function.SCHF and not doc.advance:
        ref = shipment_doc or DocumentRef("Акт", doc.number, doc.date)
        _sub(inv, "ДокПодтвОтгрНом", РеквНаимДок=ref.name, РеквНомерДок=ref.number, РеквДатаДок=_date(ref.date))
    _party(inv, "СвПокуп", doc.buyer)
    _sub(inv, "ДенИзм", КодОКВ=doc.currency_code, НаимОКВ=doc.currency_name)
    if doc.advance:
        _sub(inv, "ДопСвФХЖ1", СпОбстФСЧФ=ADVANCE_CIRCUMSTANCE)
    if doc.notes:
        info = _sub(inv, "ИнфПолФХЖ1")
        for ident, value in doc.notes:
            _sub(info, "ТекстИнф", Идентиф=ident[:50], Значен=value[:2000])


# the seller's block is the same in every document of a month: built once per process and copied (lxml's
# deepcopy is C code, several times cheaper than building the dozen elements again)
_PARTY_TREES: dict[tuple[str, Party], etree._Element] = {}
_PARTY_TREES_MAX = 64


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    if tag != "СвПрод":  # a buyer differs from one document to the next
        _build_party(parent, tag, party)
        return
    try:
        cached = _PARTY_TREES.get((tag, party))
    except TypeError:  # an unhashable field: built every time
        _build_party(parent, tag, party)
        return
    if cached is None:
        cached = _build_party(etree.Element("_"), tag, party)
        if len(_PARTY_TREES) >= _PARTY_TREES_MAX:
            _PARTY_TREES.clear()
        _PARTY_TREES[(tag, party)] = cached
    parent.append(deepcopy(cached))


def _build_party(parent: etree._Element, tag: str, party: Party) -> etree._Element:
    p = _sub(parent, tag)
    ids = _sub(p, "ИдСв")
    if party.is_sole_trader:
        ip = _sub(ids, "СвИП", ИННФЛ=party.inn, ОГРНИП=party.ogrnip)
        assert party.person is not None  # check_document demands it
        _fio(ip, party.person)
    else:
        _sub(ids, "СвЮЛУч", НаимОрг=party.name[:1000], ИННЮЛ=party.inn, КПП=party.kpp)
    _address(_sub(p, "Адрес"), party.address)
    if party.bank is not None:
        bank = _sub(p, "БанкРекв", НомерСчета=party.bank.account)
        _sub(bank, "СвБанк", НаимБанк=party.bank.bank_name[:1000], БИК=party.bank.bic,
             КорСчет=party.bank.corr_account)
    if party.phone or party.email:
        contact = _sub(p, "Контакт")
        if party.phone:
            _sub(contact, "Тлф").text = party.phone[:255]
        if party.email:
            _sub(contact, "ЭлПочта").text = party.email[:255]
    return p


def _address(a: etree._Element, address: Address) -> None:
    if isinstance(address, RussianAddress):
        _sub(a, "АдрРФ", Индекс=address.postal_code, КодРегион=address.region_code,
             НаимРегион=address.region_name[:51], Район=address.district, Город=address.city,
             НаселПункт=address.settlement, Улица=address.street, Дом=address.house, Корпус=address.building,
             Кварт=address.flat)
    elif isinstance(address, GarAddress):
        g = _sub(a, "АдрГАР", ИдНом=address.gar_id, Индекс=address.postal_code)
        _sub(g, "Регион").text = address.region_code
        _sub(g, "НаимРегион").text = address.region_name[:51]
        if address.municipal_name:
            _sub(g, "МуниципРайон", ВидКод=address.municipal_kind or "2", Наим=address.municipal_name)
        if address.settlement_name:
            _sub(g, "НаселенПункт", Вид=address.settlement_kind or "г.", Наим=address.settlement_name)
        if address.street_name:
            _sub(g, "ЭлУлДорСети", Тип=address.street_kind or "ул.", Наим=address.street_name)
        if address.building_number:
            _sub(g, "Здание", Тип=address.building_kind or "д.", Номер=address.building_number)
        if address.room_number:
            _sub(g, "ПомещЗдания", Тип=address.room_kind or "пом.", Номер=address.room_number)
    elif isinstance(address, TextAddress):
        _sub(a, "АдрИнф", КодСтр=address.country_code, НаимСтран=address.country_name,
             АдрТекст=address.text[:1000])
    else:  # pragma: no cover - the type union is closed
        raise TypeError(address)


def _tax(parent: etree._Element, tag: str, amounts: Amounts) -> None:
    holder = _sub(parent, tag)
    if amounts.vat is None:
        _sub(holder, "БезНДС").text = "без НДС"
    else:
        _sub(holder, "СумНал").text = _num(amounts.vat)


def _table(d: etree._Element, doc: Document) -> None:
    table = _sub(d, "ТаблСчФакт")
    for line in doc.lines:
        _line(table, line, advance=doc.advance)
    totals = doc.totals
    all_total = _sub(table, "ВсегоОпл")
    if not doc.advance:
        all_total.set("СтТовБезНДСВсего", _num(totals.net))
    all_total.set("СтТовУчНалВсего", _num(totals.gross))
    _tax(all_total, "СумНалВсего", totals)


def _line(table: etree._Element, line: Line, *, advance: bool) -> None:
    row = _sub(table, "СведТов", НомСтр=str(line.number), НаимТов=line.name[:2000])
    if not advance:
        assert line.unit is not None and line.quantity is not None and line.price is not None
        row.set("ОКЕИ_Тов", line.unit.code)
        row.set("НаимЕдИзм", line.unit.name)
        row.set("КолТов", _num(line.quantity))
        row.set("ЦенаТов", _num(line.price))
        row.set("СтТовБезНДС", _num(line.amounts.net))
    row.set("НалСт", line.rate.label)
    row.set("СтТовУчНал", _num(line.amounts.gross))
    excise = _sub(row, "Акциз")
    _sub(excise, "БезАкциз").text = "без акциза"
    _tax(row, "СумНал", line.amounts)


def _transfer(d: etree._Element, doc: Document) -> None:
    block = _sub(d, "СвПродПер")
    shipped = doc.shipped_on or (doc.period[1] if doc.period else doc.date)
    transfer = _sub(block, "СвПер", СодОпер=doc.operation[:255], ДатаПер=_date(shipped))
    if doc.period:
        transfer.set("ДатаНачПер", _date(doc.period[0]))
        transfer.set("ДатаОконПер", _date(doc.period[1]))
    if doc.contract is not None:
        _sub(transfer, "ОснПер", РеквНаимДок=doc.contract.name[:255], РеквНомерДок=doc.contract.number[:255],
             РеквДатаДок=_date(doc.contract.date))
    else:
        _sub(transfer, "БезДокОснПер").text = "1"
    person = _sub(_sub(transfer, "СвЛицПер"), "РабОргПрод", Должность=doc.signer.position[:255])
    _fio(person, doc.signer.person)


def _fio(parent: etree._Element, person) -> None:
    _sub(parent, "ФИО", Фамилия=person.last_name[:60], Имя=person.first_name[:60],
         Отчество=person.middle_name[:60])
