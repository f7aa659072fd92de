"""The seller's title of the universal correction document (УКД) / correction invoice in the FNS format 5.02: КНД
1115133, schema `xsd/ON_NKORSCHFDOPPR_1_996_03_05_02_01.xsd` (a transcribed copy, see `xsd/SOURCES.md`),
windows-1251.

It writes the corrections that 5.01 (`ukd.py`) cannot: the 5.01 rate lists end at 20 %, while 5.02 has one НалСт per
line as free text ("22%", "22/122", "без НДС" …). `build_ukd502(correction, formed_at=…, guid=…)` renders
`aquabill.legal_entities.issue.ukd.Correction` in the schema's element order:
- Документ: КНД, Функция (КСЧФДИС for a corrected UPD, ДИС for an act), ПоФактХЖ with the one text the Schematron
  allows for КСЧФДИС / ДИС, НаимДокОпр (demanded for both), the forming date and time. No НаимЭконСубОформ: with it
  the Schematron demands ОснДоверОргОформ (a third party forming the file on the seller's behalf);
- СвКСчФ: the correction's number and date, the corrected invoice (СчФ), seller and buyer (УчастникТип — the UPD
  5.03's type but for a sole trader's ОГРНИП / ДатаОГРНИП, required here: `upd`'s party block is reused and the
  issue refuses a sole trader before rendering, the requisites having no ОГРНИП date), the currency (ДенИзм);
- ТаблКСчФ: per line the number (ПорНомТовВСЧФ: the correction's own line number — `CorrLine` does not carry the
  corrected document's), the unit, quantity and price before / after, НалСт, then the cost without tax, excise
  (none), tax and cost with tax before / after with the increase or decrease; the totals ВсегоУвел / ВсегоУм
  (at least one, Schematron rule 10) sum the increasing and the decreasing lines;
- СодФХЖ3: СодОпер «1» (the value of the sample and of public 5.02 generators; the XSD does not say what 1 and 2
  mean), the corrected document (ПередатДокум) and the contract as the basis of the correction (ДокумОснКор);
- Подписант: position, СпосПодтПолном «1», ФИО — as the UPD 5.03.
5.02 has no СвУчДокОбор block: the EDO ids live only in the file name. The file name (= @ИдФайл, Schematron
0400400007) is `ON_NKORSCHFDOPPR_<recipient>_<sender>_<ГГГГММДД>_<GUID>_0_0_0_0_0_00`: the shape of the sample
`ukd_502пример.xml` (six flag fields, `_1_1_1_1_1_00` in that maximal sample) and of the UPD 5.03; the XSD does not
define the flags, so they are written as for the UPD without marked or traceable goods (an inference).
`ensure_valid_ukd502` checks the XSD, then `checks502` (what XSD 1.0 cannot: the Schematron rules, the arithmetic).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from lxml import etree

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd.checks import Problem
from aquabill.channels.fns_upd.checks502 import PREFIX, run_checks502
from aquabill.channels.fns_upd.naming import NO_FLAGS, check_participant
from aquabill.channels.fns_upd.ukd_parts import line_amounts, totals
from aquabill.channels.fns_upd.upd import PROGRAM, _date, _fio, _num, _party, _sub, serialize
from aquabill.channels.fns_upd.validate import parse_checked, shipped_schema
from aquabill.legal_entities.issue.ukd import Correction, CorrLine

SCHEMA_FILE = "ON_NKORSCHFDOPPR_1_996_03_05_02_01.xsd"
KND = "1115133"
VERSION = "5.02"
EVENT = ("Документ, подтверждающий согласие (факт уведомления) покупателя на изменение стоимости отгруженных "
         "товаров (выполненных работ, оказанных услуг), переданных имущественных прав")  # ПоФактХЖ (Schematron)
TITLES = {  # НаимДокОпр
    "КСЧФДИС": ("Корректировочный счет-фактура и документ об изменении стоимости отгруженных товаров "
                "(выполненных работ, оказанных услуг), переданных имущественных прав"),
    "ДИС": ("Документ об изменении стоимости отгруженных товаров (выполненных работ, оказанных услуг), "
            "переданных имущественных прав"),
}
OPERATION = "1"  # СодОпер
OPERATION_TEXT = "Изменение стоимости оказанных услуг по перерасчёту объёма"  # УточСодОпер
_MAX_SHOWN = 20


def schema() -> etree.XMLSchema:
    return shipped_schema(SCHEMA_FILE)


def file_id(correction: Correction, formed_at: datetime, guid: UUID) -> str:
    recipient = check_participant(correction.buyer.edo_id, field="buyer.edo_id")
    sender = check_participant(correction.seller.edo_id, field="seller.edo_id")
    flags = "".join(f"_{f}" for f in NO_FLAGS)
    return f"{PREFIX}_{recipient}_{sender}_{formed_at:%Y%m%d}_{guid}{flags}"


def build_ukd502(correction: Correction, *, formed_at: datetime, guid: UUID) -> tuple[str, bytes]:
    """(file name, windows-1251 bytes) of the correction in format 5.02."""
    ident, root = ukd502_tree(correction, formed_at=formed_at, guid=guid)
    return f"{ident}.xml", serialize(root)


def ukd502_tree(correction: Correction, *, formed_at: datetime, guid: UUID) -> tuple[str, etree._Element]:
    """`build_ukd502` before serialising: @ИдФайл and the element tree."""
    if correction.function not in TITLES:
        raise Invalid(f"Функция УКД «{correction.function}» не поддерживается: КСЧФДИС или ДИС", field="function")
    ident = file_id(correction, formed_at, guid)
    root = etree.Element("Файл", ИдФайл=ident, ВерсФорм=VERSION, ВерсПрог=PROGRAM[:40])
    d = _sub(root, "Документ", КНД=KND, Функция=correction.function, ПоФактХЖ=EVENT,
             НаимДокОпр=TITLES[correction.function], ДатаИнфПр=_date(formed_at), ВремИнфПр=f"{formed_at:%H.%M.%S}")
    inv = _sub(d, "СвКСчФ", НомерДок=correction.number[:1000], ДатаДок=_date(correction.date))
    _sub(inv, "СчФ", НомерСчФ=correction.corrected_number[:1000], ДатаСчФ=_date(correction.corrected_date))
    _party(inv, "СвПрод", correction.seller)
    _party(inv, "СвПокуп", correction.buyer)
    _sub(inv, "ДенИзм", КодОКВ="643", НаимОКВ="Российский рубль")
    table = _sub(d, "ТаблКСчФ")
    for line in correction.lines:
        _line(table, line)
    totals(table, correction.lines, tax_tag="СумНалВсего")
    content = _sub(d, "СодФХЖ3", СодОпер=OPERATION, УточСодОпер=OPERATION_TEXT)
    _sub(content, "ПередатДокум", РеквНаимДок=correction.corrected_title[:255],
         РеквНомерДок=correction.corrected_number[:255], РеквДатаДок=_date(correction.corrected_date))
    _sub(content, "ДокумОснКор", РеквНаимДок="Договор", РеквНомерДок=correction.contract_number[:255],
         РеквДатаДок=_date(correction.contract_date))
    signer = _sub(d, "Подписант", Должн=correction.signer.position[:255], СпосПодтПолном="1")
    _fio(signer, correction.signer.person)
    return ident, root


def _line(table: etree._Element, line: CorrLine) -> None:
    row = _sub(table, "СведТов", НомСтр=str(line.number), ПорНомТовВСЧФ=str(line.number), НаимТов=line.name[:2000],
               ОКЕИ_Тов=line.unit.code, НаимЕдИзм=line.unit.name[:255], КолТовДо=_num(line.quantity_before),
               КолТовПосле=_num(line.quantity_after),
               ЦенаТовДо=_num(line.price_before) if line.price_before is not None else "",
               ЦенаТовПосле=_num(line.price_after) if line.price_after is not None else "",
               НалСт=line.rate[:35])
    line_amounts(row, line, equal_as_increase=False)  # 5.02: СтоимУвел / СтоимУм are > 0


def validate_ukd502(content: bytes, file_name: str | None = None) -> list[Problem]:
    """Every problem of the file (empty when valid): the XSD, then `checks502`. `file_name`, when given, must
    equal @ИдФайл (with or without `.xml`)."""
    root, problems = parse_checked(content, schema())
    return problems if root is None else problems + run_checks502(root, file_name)


def ensure_valid_ukd502(content: bytes, file_name: str | None = None) -> None:
    problems = validate_ukd502(content, file_name)
    if problems:
        shown = "; ".join(str(p) for p in problems[:_MAX_SHOWN])
        more = f" (и ещё {len(problems) - _MAX_SHOWN})" if len(problems) > _MAX_SHOWN else ""
        raise Invalid(f"УКД не соответствует формату ФНС 5.02: {shown}{more}", field="xml",
                      fields=[{"field": p.path, "message": p.message} for p in problems])
