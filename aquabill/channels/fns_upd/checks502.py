"""The checks of a correction document in format 5.02 (`ukd502.py`, КНД 1115133) that XSD 1.0 cannot do.

- the file name equals `@ИдФайл` (Schematron rule 0400400007) and `@ИдФайл` has the shape
  `ON_NKORSCHFDOPPR_<recipient>_<sender>_<ГГГГММДД>_<GUID>[_flags]` (the sample's; the XSD only demands the name);
- the Schematron rules of `ON_NKORSCHFDOPPR_1_996_03_05_02_01.xsd` on presence and values by `@Функция`:
  ПоФактХЖ (its fixed text) and НаимДокОпр (2, 3), ОснДоверОргОформ with НаимЭконСубОформ (4), ТаблКСчФ (5),
  СодФХЖ3 (6), the special circumstances of ДопСвФХЖ1 (7–9), ВсегоУвел or ВсегоУм (10), the parties' Адрес (29,
  30); per line НаимЕдИзм with ОКЕИ_Тов (12), КолТовПосле (14), ЦенаТовПосле and its sign (17, 18), СумНалПосле
  and СумНалРазн (19, 20), never both an increase and a decrease of a cost (32, 33); the signer's power of
  attorney and the ГАР district as for the UPD (`checks`). The rules on customs declarations, traceability and
  marking (21–26 and unnumbered) concern blocks Aquabill never writes and are not run;
- the INN checksums and bank account keys (`checks`);
- the arithmetic: per line after − before = the stated increase / decrease (cost without tax, tax, cost with tax),
  without tax + tax = with tax before and after, the tax agrees with the rate (within a kopeck) and quantity ×
  price with the cost (within a kopeck, as in `checks`), and the totals are exactly the sums of the lines.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from lxml import etree

from aquabill.channels.fns_upd.checks import (
    KOPECK,
    Problem,
    _banks,
    _Ctx,
    _dec,
    _gar,
    _inns,
    _round,
    _signers,
)
from aquabill.legal_entities.vat import RATES, VatRate

PREFIX = "ON_NKORSCHFDOPPR"
_FILE_ID = re.compile(
    rf"^{PREFIX}_[0-9A-Za-z-]{{4,46}}_[0-9A-Za-z-]{{4,46}}_(?P<day>\d{{8}})_"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?:_\d)*(?:_\d{2})?$")
EVENTS = {  # ПоФактХЖ by Функция (Schematron rule 2); КСЧФ has none
    "КСЧФДИС": ("Документ, подтверждающий согласие (факт уведомления) покупателя на изменение стоимости отгруженных "
                "товаров (выполненных работ, оказанных услуг), переданных имущественных прав"),
    "СвИСРК": ("Документ, включающий сведения о согласовании (уведомлении) покупателя об изменении стоимости "
               "отгруженных товаров (в том числе в связи с возвратом товаров покупателем)"),
    "СвИСЗК": ("Документ, включающий сведения о согласовании с продавцом (уведомлении продавцом) изменения стоимости "
               "приобретенных товаров (в том числе в связи с возвратом товаров продавцу)"),
}
EVENTS["ДИС"] = EVENTS["КСЧФДИС"]
TAX_AGENT = "НДС исчисляется налоговым агентом"
_WITH_INVOICE = ("КСЧФ", "КСЧФДИС")
_CIRCUMSTANCES = {"СпОбстФКСЧФ": "КСЧФ", "СпОбстФКСЧФДИС": "КСЧФДИС", "СпОбстФДИС": "ДИС"}


def run_checks502(root: etree._Element, file_name: str | None = None) -> list[Problem]:
    ctx = _Ctx(root.getroottree(), [])
    _file_name(root, ctx, file_name)
    doc = root.find("Документ")
    if doc is not None:
        for check in (_presence, _lines_presence, _signers, _gar, _inns, _banks, _arithmetic):
            check(doc, ctx)
    return ctx.problems


def _file_name(root: etree._Element, ctx: _Ctx, file_name: str | None) -> None:
    file_id = root.get("ИдФайл", "")
    m = _FILE_ID.match(file_id)
    if m is None:
        ctx.add(root, f"идентификатор файла «{file_id}» не соответствует шаблону {PREFIX}_<получатель>_"
                      "<отправитель>_<ГГГГММДД>_<GUID>_<признаки>", "ИдФайл")
    else:
        day = m["day"]
        try:
            date(int(day[:4]), int(day[4:6]), int(day[6:]))
        except ValueError:
            ctx.add(root, f"идентификатор файла «{file_id}»: дата {day} не существует", "ИдФайл")
    if file_name is not None:
        stem = file_name.rsplit("/", 1)[-1]
        stem = stem[:-4] if stem.lower().endswith(".xml") else stem
        if stem != file_id:
            ctx.add(root, f"имя файла обмена «{stem}» не совпадает со значением ИдФайл «{file_id}»", "ИдФайл")


def _presence(doc: etree._Element, ctx: _Ctx) -> None:
    fn = doc.get("Функция", "")
    event = doc.get("ПоФактХЖ")
    if fn == "КСЧФ" and event is not None:
        ctx.add(doc, "при Функции «КСЧФ» ПоФактХЖ не указывается", "ПоФактХЖ")
    elif fn in EVENTS and event != EVENTS[fn]:
        ctx.add(doc, f"при Функции «{fn}» ПоФактХЖ должен быть «{EVENTS[fn]}»", "ПоФактХЖ")
    if (doc.get("НаимДокОпр") is not None) != (fn != "КСЧФ"):
        ctx.add(doc, f"при Функции «{fn}» НаимДокОпр {'не указывается' if fn == 'КСЧФ' else 'обязателен'}",
                "НаимДокОпр")
    if doc.get("НаимЭконСубОформ") is not None and doc.find("ОснДоверОргОформ") is None:
        ctx.add(doc, "при НаимЭконСубОформ обязателен ОснДоверОргОформ")
    for tag, functions in (("ТаблКСчФ", ("КСЧФДИС", "СвИСРК", "СвИСЗК")), ("СодФХЖ3", ("КСЧФДИС", "ДИС"))):
        if fn in functions and doc.find(tag) is None:
            ctx.add(doc, f"при Функции «{fn}» обязателен элемент {tag}")
    for tag in ("СвПрод", "СвПокуп"):
        party = doc.find(f"СвКСчФ/{tag}")
        if fn in _WITH_INVOICE and party is not None and party.find("Адрес") is None:
            ctx.add(party, f"при Функции «{fn}» обязателен Адрес")
    extra = doc.find("СвКСчФ/ДопСвФХЖ1")
    for attr, only in _CIRCUMSTANCES.items():
        if extra is not None and extra.get(attr) is not None and fn != only:
            ctx.add(extra, f"{attr} указывается только при Функции «{only}»", attr)
    table = doc.find("ТаблКСчФ")
    if table is not None and table.find("ВсегоУвел") is None and table.find("ВсегоУм") is None:
        ctx.add(table, "нужна хотя бы одна из строк «Всего увеличение» (ВсегоУвел) или «Всего уменьшение» (ВсегоУм)")


def _lines_presence(doc: etree._Element, ctx: _Ctx) -> None:
    fn = doc.get("Функция", "")
    for row in doc.iterfind("ТаблКСчФ/СведТов"):
        if row.get("ОКЕИ_Тов") is not None and row.get("НаимЕдИзм") is None:
            ctx.add(row, "при ОКЕИ_Тов обязателен НаимЕдИзм", "НаимЕдИзм")
        if fn in _WITH_INVOICE and row.get("ОКЕИ_Тов") is not None and row.get("КолТовПосле") is None:
            ctx.add(row, f"при Функции «{fn}» и ОКЕИ_Тов обязателен КолТовПосле", "КолТовПосле")
        price = row.get("ЦенаТовПосле")
        if fn in _WITH_INVOICE and row.get("КолТовПосле") is not None and price is None:
            ctx.add(row, f"при Функции «{fn}» и КолТовПосле обязательна ЦенаТовПосле", "ЦенаТовПосле")
        if price is not None and (value := _dec(price)) is not None:
            if fn == "ДИС" and value < 0 or fn != "ДИС" and value <= 0:
                ctx.add(row, f"цена после изменения {price} должна быть {'≥' if fn == 'ДИС' else '>'} 0",
                        "ЦенаТовПосле")
        if row.get("НалСт") != TAX_AGENT:
            for tag in ("СумНалПосле", "СумНалРазн"):
                if row.find(tag) is None:
                    ctx.add(row, f"обязателен элемент {tag} (ставка не «{TAX_AGENT}»)")
        for tag in ("СтТовБезНДС", "СтТовУчНал"):
            cost = row.find(tag)
            if cost is not None and cost.get("СтоимУвел") is not None and cost.get("СтоимУм") is not None:
                ctx.add(cost, "указаны и увеличение (СтоимУвел), и уменьшение (СтоимУм)")


def _tax(holder: etree._Element | None) -> tuple[bool, Decimal | None]:
    """(exempt, amount) of a СумНДСТип element of 5.02 (the amount is СумНДС)."""
    if holder is None:
        return False, None
    if holder.find("БезНДС") is not None:
        return True, None
    return False, _dec(holder.findtext("СумНДС"))


def _change(el: etree._Element | None, up: str, down: str, attr: bool = True) -> Decimal:
    """The signed change stated by an element: + its increase, − its decrease (0 when neither)."""
    if el is None:
        return Decimal(0)
    get = el.get if attr else el.findtext
    return (_dec(get(up)) or Decimal(0)) - (_dec(get(down)) or Decimal(0))


def _arithmetic(doc: etree._Element, ctx: _Ctx) -> None:
    table = doc.find("ТаблКСчФ")
    if table is None:
        return
    sums = {key: {"net": Decimal(0), "gross": Decimal(0), "vat": Decimal(0)} for key in ("up", "down")}
    all_exempt = True
    for row in table.iterfind("СведТов"):
        rate = RATES.get(row.get("НалСт", ""))
        side: dict[str, dict[str, Decimal | None]] = {"До": {}, "После": {}}
        for key, tag in (("net", "СтТовБезНДС"), ("gross", "СтТовУчНал")):
            cost = row.find(tag)
            if cost is None:
                continue
            before, after = _dec(cost.get("СтоимДоИзм")), _dec(cost.get("СтоимПослеИзм"))
            side["До"][key], side["После"][key] = before, after
            stated = _change(cost, "СтоимУвел", "СтоимУм")
            if before is not None and after is not None and stated != after - before:
                ctx.add(cost, f"после {after} − до {before} = {after - before}, а указано изменение {stated}")
            sums["up" if stated > 0 else "down"][key] += abs(stated)
        for when in ("До", "После"):
            exempt, vat = _tax(row.find(f"СумНал{when}"))
            all_exempt &= exempt
            side[when]["vat"] = vat
            if rate is not None and rate.exempt != exempt:
                ctx.add(row, f"ставка «{rate}» не согласуется с суммой налога {when.lower()} изменения", "НалСт")
            _amounts(row, ctx, rate, side[when], when)
        stated_vat = _change(row.find("СумНалРазн"), "СумУвел", "СумУм", attr=False)
        expected = (side["После"]["vat"] or Decimal(0)) - (side["До"]["vat"] or Decimal(0))
        if row.find("СумНалРазн") is not None and stated_vat != expected:
            ctx.add(row.find("СумНалРазн"), f"изменение налога {stated_vat}, а после − до = {expected}")
        sums["up" if stated_vat > 0 else "down"]["vat"] += abs(stated_vat)
    for key, tag in (("up", "ВсегоУвел"), ("down", "ВсегоУм")):
        _total(table.find(tag), table, ctx, sums[key], all_exempt, tag)


def _amounts(row: etree._Element, ctx: _Ctx, rate: VatRate | None, got: dict[str, Decimal | None], when: str) -> None:
    """One side (До / После) of a line: net + tax = gross, the tax by the rate, quantity × price = net."""
    net, gross, vat = got.get("net"), got.get("gross"), got.get("vat")
    if net is not None and gross is not None and net + (vat or 0) != gross:
        ctx.add(row, f"{when.lower()} изменения: стоимость без налога {net} + налог {vat or 0} ≠ стоимость с "
                     f"налогом {gross}")
    if rate is not None and not rate.exempt and vat is not None:
        base = gross if rate.calculated else net
        if base is not None and abs(_round(base * rate.share) - vat) > KOPECK:
            ctx.add(row, f"налог {when.lower()} изменения {vat} не соответствует ставке {rate} от {base} "
                         f"(ожидается {_round(base * rate.share)})", "НалСт")
    qty, price = _dec(row.get(f"КолТов{when}")), _dec(row.get(f"ЦенаТов{when}"))
    if qty is not None and price is not None and net is not None and abs(_round(qty * price) - net) > KOPECK:
        ctx.add(row, f"{when.lower()} изменения: количество {qty} × цена {price} = {_round(qty * price)}, а "
                     f"стоимость без налога {net}", f"ЦенаТов{when}")


def _total(total: etree._Element | None, table: etree._Element, ctx: _Ctx, sums: dict[str, Decimal],
           all_exempt: bool, tag: str) -> None:
    if total is None:
        if any(sums.values()):
            ctx.add(table, f"строки меняют стоимость ({sums['gross']}), а строки {tag} нет")
        return
    for key, attr in (("net", "СтТовБезНДСВсего"), ("gross", "СтТовУчНалВсего")):
        stated = _dec(total.get(attr))
        if stated is not None and stated != sums[key]:
            ctx.add(total, f"итог {stated} не равен сумме строк {sums[key]}", attr)
    exempt, vat = _tax(total.find("СумНалВсего"))
    if exempt and not all_exempt:
        ctx.add(total, "итог налога «без НДС», а в строках есть суммы налога")
    if vat is not None and vat != sums["vat"]:
        ctx.add(total, f"итог налога {vat} не равен сумме изменений налога по строкам {sums['vat']}")
