"""The checks of a UPD / invoice (seller's title, format 5.03) that XSD 1.0 cannot do.

- the file name equals `@ИдФайл` (Schematron rule 0400400007) and `@ИдФайл` follows the naming rule;
- the Schematron rules of `ON_NSCHFDOPPR_1_997_01_05_03_05.xsd` on the presence of elements by `@Функция`
  (ТаблСчФакт, СвПродПер, НаимДокОпр, ДокПодтвОтгрНом, Адрес, the line's name, unit, quantity, price and
  amounts, the totals, the transfer dates, the signer's power of attorney, the ГАР municipal district);
- the INN checksums (FNS order ММВ-7-6/435@) and the bank account control key (Bank of Russia 579-P);
- the table's arithmetic: per line without VAT + VAT = with VAT, the VAT agrees with the rate and
  quantity × price with the amount (each within one kopeck: a line priced with VAT and split has its VAT and
  net amount one kopeck off the other way round — the real sample has such a line), and the totals are
  exactly the sums of the lines.
Every problem is a `Problem(path, message)` with the element's XPath and a Russian message.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from lxml import etree

from aquabill.base.errors import DomainError
from aquabill.channels.fns_upd.naming import parse_file_id
from aquabill.legal_entities import requisites
from aquabill.legal_entities.vat import RATES

KOPECK = Decimal("0.01")
# the requisites' checks are pure functions of strings, and a month's documents repeat the seller's INN and
# accounts in every file: remembered per process
_inn_problem = lru_cache(maxsize=65536)(requisites.inn_problem)
_account_problem = lru_cache(maxsize=4096)(requisites.account_problem)
_corr_account_problem = lru_cache(maxsize=4096)(requisites.corr_account_problem)


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class _Ctx:
    tree: etree._ElementTree
    problems: list[Problem]

    def add(self, el: etree._Element, message: str, attr: str = "") -> None:
        path = self.tree.getpath(el) + (f"/@{attr}" if attr else "")
        self.problems.append(Problem(path, message))


def run_checks(root: etree._Element, file_name: str | None = None) -> list[Problem]:
    ctx = _Ctx(root.getroottree(), [])
    _file_name(root, ctx, file_name)
    doc = root.find("Документ")
    if doc is not None:
        for check in (_presence, _lines_presence, _transfer_dates, _signers, _gar, _inns, _banks, _arithmetic):
            check(doc, ctx)
    return ctx.problems


def _file_name(root: etree._Element, ctx: _Ctx, file_name: str | None) -> None:
    file_id = root.get("ИдФайл", "")
    try:
        parse_file_id(file_id)
    except DomainError as exc:
        ctx.add(root, exc.message, "ИдФайл")
    if file_name is not None:
        stem = file_name.rsplit("/", 1)[-1]
        stem = stem[:-4] if stem.lower().endswith(".xml") else stem
        if stem != file_id:
            ctx.add(root, f"имя файла обмена «{stem}» не совпадает со значением ИдФайл «{file_id}»", "ИдФайл")


def _function(doc: etree._Element) -> str:
    return doc.get("Функция", "")


def _presence(doc: etree._Element, ctx: _Ctx) -> None:
    fn = _function(doc)
    invoice = fn in ("СЧФ", "СЧФДОП")
    if invoice and doc.find("ТаблСчФакт") is None:
        ctx.add(doc, f"при Функция «{fn}» обязателен элемент ТаблСчФакт")
    if fn in ("ДОП", "СЧФДОП") and doc.find("СвПродПер") is None:
        ctx.add(doc, f"при Функция «{fn}» обязателен элемент СвПродПер (сведения о передаче)")
    needs_title = fn in ("СЧФДОП", "ДОП", "СвРК", "СвЗК")
    if needs_title and doc.get("НаимДокОпр") is None:
        ctx.add(doc, f"при Функция «{fn}» обязателен атрибут НаимДокОпр", "НаимДокОпр")
    if not needs_title and doc.get("НаимДокОпр") is not None:
        ctx.add(doc, f"при Функция «{fn}» атрибут НаимДокОпр не указывается", "НаимДокОпр")
    info = doc.find("СвСчФакт")
    if info is None:
        return
    extra = info.find("ДопСвФХЖ1")
    circumstance = extra.get("СпОбстФСЧФ") if extra is not None else None
    if fn == "СЧФ" and circumstance != "2" and info.find("ДокПодтвОтгрНом") is None:
        ctx.add(info, "в счёте-фактуре (СЧФ) не на аванс обязателен ДокПодтвОтгрНом (строка 5а)")
    if extra is not None:
        for attr, allowed in (("СпОбстФСЧФ", "СЧФ"), ("СпОбстФСЧФДОП", "СЧФДОП"), ("СпОбстФДОП", "ДОП")):
            if extra.get(attr) is not None and fn != allowed:
                ctx.add(extra, f"атрибут {attr} допустим только при Функция «{allowed}»", attr)
    if invoice:
        for tag in ("СвПрод", "СвПокуп", "ГрузОт/ГрузОтпр", "ГрузПолуч", "ДопСвФХЖ1/СвФактор"):
            for party in info.findall(tag):
                if party.find("Адрес") is None:
                    ctx.add(party, f"при Функция «{fn}» обязателен Адрес")


def _lines_presence(doc: etree._Element, ctx: _Ctx) -> None:
    fn = _function(doc)
    invoice = fn in ("СЧФ", "СЧФДОП")
    extra = doc.find("СвСчФакт/ДопСвФХЖ1")
    advance = extra is not None and extra.get("СпОбстФСЧФ") == "2"
    for row in doc.iterfind("ТаблСчФакт/СведТов"):
        if invoice and row.get("НаимТов") is None:
            ctx.add(row, "не указано наименование (НаимТов)", "НаимТов")
        if row.get("ОКЕИ_Тов") is not None and row.get("НаимЕдИзм") is None:
            ctx.add(row, "при коде ОКЕИ обязательно наименование единицы (НаимЕдИзм)", "НаимЕдИзм")
        if invoice and row.get("ОКЕИ_Тов") is not None and row.get("КолТов") is None:
            ctx.add(row, "при коде ОКЕИ обязательно количество (КолТов)", "КолТов")
        if invoice and row.get("КолТов") is not None and (_dec(row.get("ЦенаТов")) or 0) <= 0:
            ctx.add(row, "при указанном количестве обязательна цена больше нуля (ЦенаТов)", "ЦенаТов")
        if invoice and not advance and row.get("СтТовБезНДС") is None:
            ctx.add(row, "не указана стоимость без налога (СтТовБезНДС, графа 5)", "СтТовБезНДС")
        if invoice and row.get("СтТовУчНал") is None:
            ctx.add(row, "не указана стоимость с налогом (СтТовУчНал, графа 9)", "СтТовУчНал")
    total = doc.find("ТаблСчФакт/ВсегоОпл")
    if total is not None and invoice:
        if not advance and total.get("СтТовБезНДСВсего") is None:
            ctx.add(total, "не указан итог без налога (СтТовБезНДСВсего)", "СтТовБезНДСВсего")
        if total.get("СтТовУчНалВсего") is None:
            ctx.add(total, "не указан итог с налогом (СтТовУчНалВсего)", "СтТовУчНалВсего")


def _transfer_dates(doc: etree._Element, ctx: _Ctx) -> None:
    if _function(doc) not in ("СЧФДОП", "ДОП"):
        return
    for transfer in doc.iterfind("СвПродПер/СвПер"):
        has_day = transfer.get("ДатаПер") is not None
        if not has_day and (transfer.get("ДатаНачПер") is None or transfer.get("ДатаОконПер") is None):
            ctx.add(transfer, "укажите дату отгрузки (ДатаПер) или период: ДатаНачПер и ДатаОконПер")


def _signers(doc: etree._Element, ctx: _Ctx) -> None:
    for signer in doc.iterfind("Подписант"):
        way = signer.get("СпосПодтПолном")
        for tag, needed in (("СвДоверЭл", "3"), ("СвДоверБум", "5")):
            present = signer.find(tag) is not None
            if present != (way == needed):
                what = "обязателен" if way == needed else "не указывается"
                ctx.add(signer, f"при СпосПодтПолном «{way}» элемент {tag} {what}")


def _gar(doc: etree._Element, ctx: _Ctx) -> None:
    for gar in doc.iter("АдрГАР"):
        if gar.findtext("Регион") != "99" and gar.find("МуниципРайон") is None:
            ctx.add(gar, "в адресе ГАР обязателен МуниципРайон (кроме региона 99)")


# every INN of the document, as an attribute or an element (one compiled XPath: walking every element and
# asking it for four attributes cost more than the XSD validation)
_INN_ATTRS = ("ИННЮЛ", "ИННФЛ", "ИННЮЛПер", "ИННФЛПер")
_INN_XPATH = etree.XPath(" | ".join([f".//@{a}" for a in _INN_ATTRS] + [".//ИННЮЛ", ".//ИННФЛ"]))


def _inns(doc: etree._Element, ctx: _Ctx) -> None:
    for found in _INN_XPATH(doc):  # document order
        if isinstance(found, etree._Element):
            if problem := _inn_problem(found.text):
                ctx.add(found, problem)
        elif problem := _inn_problem(str(found)):
            ctx.add(found.getparent(), problem, found.attrname)


def _banks(doc: etree._Element, ctx: _Ctx) -> None:
    for bank in doc.iter("БанкРекв"):
        info = bank.find("СвБанк")
        bic = info.get("БИК") if info is not None else None
        if bic is None:
            continue
        account = bank.get("НомерСчета")
        if account and len(account) == 20 and (problem := _account_problem(account, bic)):
            ctx.add(bank, problem, "НомерСчета")
        corr = info.get("КорСчет")
        if corr and len(corr) == 20 and (problem := _corr_account_problem(corr, bic)):
            ctx.add(info, problem, "КорСчет")


def _dec(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _tax(holder: etree._Element | None) -> tuple[bool, Decimal | None]:
    """(exempt, amount) of a СумНДСТип element."""
    if holder is None:
        return False, None
    if holder.find("БезНДС") is not None:
        return True, None
    return False, _dec(holder.findtext("СумНал"))


def _round(value: Decimal) -> Decimal:
    return value.quantize(KOPECK, rounding=ROUND_HALF_UP)


def _arithmetic(doc: etree._Element, ctx: _Ctx) -> None:
    table = doc.find("ТаблСчФакт")
    if table is None:
        return
    sums = {"net": Decimal(0), "gross": Decimal(0), "vat": Decimal(0)}
    seen = {"net": True, "gross": True}
    all_exempt = True
    for row in table.iterfind("СведТов"):
        net, gross = _dec(row.get("СтТовБезНДС")), _dec(row.get("СтТовУчНал"))
        exempt, vat = _tax(row.find("СумНал"))
        rate = RATES.get(row.get("НалСт", ""))
        all_exempt &= exempt
        seen["net"] &= net is not None
        seen["gross"] &= gross is not None
        sums["net"] += net or 0
        sums["gross"] += gross or 0
        sums["vat"] += vat or 0
        if rate is not None and rate.exempt != exempt:
            ctx.add(row, f"ставка «{rate}» не согласуется с суммой налога "
                         f"({'«без НДС»' if exempt else 'указана сумма'})", "НалСт")
        paid_vat = vat or Decimal(0)
        if net is not None and gross is not None and net + paid_vat != gross:
            ctx.add(row, f"стоимость без налога {net} + налог {paid_vat} ≠ стоимость с налогом {gross}",
                    "СтТовУчНал")
        if rate is not None and not rate.exempt and vat is not None:
            base = gross if rate.calculated else net
            if base is not None and abs(_round(base * rate.share) - vat) > KOPECK:
                ctx.add(row.find("СумНал"), f"сумма налога {vat} не соответствует ставке {rate} от {base} "
                                            f"(ожидается {_round(base * rate.share)})")
        qty, price = _dec(row.get("КолТов")), _dec(row.get("ЦенаТов"))
        if qty is not None and price is not None and net is not None and abs(_round(qty * price) - net) > KOPECK:
            ctx.add(row, f"количество {qty} × цена {price} = {_round(qty * price)}, а стоимость без налога "
                         f"{net}", "СтТовБезНДС")
    total = table.find("ВсегоОпл")
    if total is None:
        return
    for key, attr in (("net", "СтТовБезНДСВсего"), ("gross", "СтТовУчНалВсего")):
        stated = _dec(total.get(attr))
        if stated is not None and seen[key] and stated != sums[key]:
            ctx.add(total, f"итог {stated} не равен сумме строк {sums[key]}", attr)
    exempt, vat = _tax(total.find("СумНалВсего"))
    if exempt and not all_exempt:
        ctx.add(total.find("СумНалВсего"), "итог налога «без НДС», а в строках есть суммы налога")
    if vat is not None and vat != sums["vat"]:
        ctx.add(total.find("СумНалВсего"), f"итог налога {vat} не равен сумме налога по строкам {sums['vat']}")
