"""The reconciliation act (акт сверки взаимных расчётов) as the FNS XML — the sender's information, КНД 1110332,
format 5.01: the schema `xsd/ON_AKTSVEROTP_1_972_01_05_01_01.xsd` (see `xsd/SOURCES.md`), windows-1251.

`build_akt_sverki(act, sender=…, recipient=…, number=…, formed_at=…)` renders the dict of
`aquabill.legal_entities.reports.reconciliation.reconciliation_act` and returns (file name, bytes);
`validate_akt` checks it against the XSD and the two Schematron rules of the schema's `xs:appinfo` that XSD 1.0
cannot run: the file name equals @ИдФайл (0400400007) and every СвОпер has СумДебет or СумКредит (0400300001).

The exchange file's name, as the UPD's (`naming.py`): `ON_AKTSVEROTP_<recipient>_<sender>_<ГГГГММДД>_<GUID>` —
the prefix of the format, the EDO participant ids of the recipient and of the sender, the day the file is
formed and a GUID (uuid5 of a stable key here, so the same act gives the same name). The 5.01 formats have no
flag fields after the GUID. A party without an EDO participant id is named by its INN, as the UPD does.

What the format needs and where it comes from: both parties' identification (for an organisation НаимОрг,
ИНН, КПП and ОГРН are all required: our OGRN comes from the tenant's setting, see `reports/sender.py`; a
counterparty without OGRN cannot be put in the file — a clear error), the signer's name (Подписант/ФИО,
required), one ДогСв per contract with the opening/closing balances split into debit and credit, and at least
one ДокСв with one СвОпер: an act with no operations in the period cannot be expressed in this format (the
schema's minOccurs = 1) — refused with a clear message rather than inventing an operation.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd.checks import Problem
from aquabill.channels.fns_upd.validate import parse_checked, shipped_schema  # libxml2 errors in Russian

SCHEMA_FILE = "ON_AKTSVEROTP_1_972_01_05_01_01.xsd"
PREFIX = "ON_AKTSVEROTP"
KND = "1110332"
FORMAT_VERSION = "5.01"
PROGRAM = "Aquabill"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "aquabill:fns-akt-sverki")
_PARTICIPANT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{3,45}$")
_FILE_ID = re.compile(r"^ON_AKTSVEROTP_[0-9A-Za-z-]{4,46}_[0-9A-Za-z-]{4,46}_\d{8}_[0-9a-fA-F-]{36}$")


def _participant(value: str, who: str) -> str:
    text = (value or "").strip()
    if not _PARTICIPANT.match(text):
        shown = f"«{text}» неверен" if text else "не указан"
        raise Invalid(f"Идентификатор участника ЭДО {who} {shown}: без него не составить имя файла акта сверки "
                      "(от 4 до 46 латинских букв, цифр или дефисов)", field="edo_id")
    return text


def file_id(recipient: str, sender: str, formed_at: datetime, key: str) -> str:
    guid = uuid.uuid5(NAMESPACE, key)
    return (f"{PREFIX}_{_participant(recipient, 'контрагента')}_{_participant(sender, 'организации')}_"
            f"{formed_at:%Y%m%d}_{guid}")


def _d(value) -> str:
    return f"{value:%d.%m.%Y}"


def _m(value: Decimal) -> str:
    return f"{value:.2f}"


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v})


def _fio(parent: etree._Element, person: dict[str, str]) -> None:
    _sub(parent, "ФИО", Фамилия=person["last_name"][:60], Имя=person["first_name"][:60],
         Отчество=(person.get("middle_name") or "")[:60])


def _party(parent: etree._Element, tag: str, party: dict[str, Any], who: str) -> None:
    holder = _sub(parent, tag)
    ids = _sub(holder, "ИдСв")
    inn = party["inn"]
    if len(inn) == 12:
        ogrnip = party.get("ogrn") or ""
        if len(ogrnip) != 15:
            raise Invalid(f"У {who} не указан ОГРНИП: он обязателен в акте сверки в формате ФНС", field="ogrn")
        if not party.get("last_name") or not party.get("first_name"):
            raise Invalid(f"У {who} (ИП) не указаны фамилия и имя", field="last_name")
        _fio(_sub(ids, "СвИП", ИННФЛ=inn, ОГРНИП=ogrnip), party)
    else:
        ogrn = party.get("ogrn") or ""
        if len(ogrn) != 13:
            raise Invalid(f"У {who} не указан ОГРН: он обязателен в акте сверки в формате ФНС", field="ogrn")
        if not party.get("kpp"):
            raise Invalid(f"У {who} не указан КПП", field="kpp")
        _sub(ids, "СвЮЛУч", НаимОрг=party["name"][:1000], ИННЮЛ=inn, КПП=party["kpp"], ОГРН=ogrn)
    _sub(holder, "Контакт", Тлф=(party.get("phone") or "")[:255], ЭлПочта=(party.get("email") or "")[:255])


def _balances(el: etree._Element, act: dict[str, Any]) -> None:
    zero = Decimal("0.00")
    opening, closing = act["opening"], act["closing"]
    for attr, value in (("СальдоНачДеб", max(opening, zero)), ("СальдоНачКр", max(-opening, zero)),
                        ("ОборотДеб", act["debit"]), ("ОборотКр", act["credit"]),
                        ("СальдоКонДеб", max(closing, zero)), ("СальдоКонКр", max(-closing, zero))):
        el.set(attr, _m(value))


def build_akt_sverki(act: dict[str, Any], *, sender: dict[str, Any], recipient: dict[str, Any], number: str,
                     formed_at: datetime) -> tuple[str, bytes]:
    """(file name, windows-1251 bytes). `sender` is `reports.sender.our_party`, `recipient` the counterparty
    row (name, inn, kpp, ogrn, kind, last/first/middle name, phone, email, edo_id)."""
    if not act["rows"]:
        raise Invalid("За период сверки нет операций: акт в формате ФНС требует хотя бы одну операцию "
                      "(сформируйте печатную форму)", field="from")
    contract = act["contract"]
    key = f"akt/{contract['id']}/{act['date_from']}/{act['date_to']}/{number}/{formed_at:%Y%m%d%H%M%S}"
    # a party without an EDO id is named by its INN (L2's convention for the UPD, issue/parties.py: not a rule
    # of the format, which expects the operator's participant ids; an INN fits their 4..46 [0-9A-Za-z-])
    fid = file_id(recipient.get("edo_id") or recipient["inn"], sender.get("edo_id") or sender["inn"], formed_at,
                  key)
    root = etree.Element("Файл", ИдФайл=fid, ВерсФорм=FORMAT_VERSION, ВерсПрог=PROGRAM)
    d = _sub(root, "Документ", КНД=KND, ДатаИнфОтпр=_d(formed_at), ВрИнфОтпр=f"{formed_at:%H:%M:%S}",
             ДатаНачПер=_d(act["date_from"]), ДатаОкПер=_d(act["date_to"]), НомерАкт=number[:1000])
    info = _sub(d, "СвДокКрАкт", КодОКВ="643")  # OKV 643: the Russian rouble
    _party(info, "СвОтпр", sender, "организации")
    _party(info, "СвПол", recipient, "контрагента")
    table = _sub(d, "ТаблАкт")
    _balances(table, act)
    agreement = _sub(table, "ДогСв", ИдДог=str(contract["id"]), НомДог=contract["number"][:50],
                     ДатаДог=_d(contract["signed_on"]))
    _balances(agreement, act)
    # one ДокСв per row: a document (or a payment order) with its one operation
    for no, row in enumerate(act["rows"], start=1):
        doc = _sub(agreement, "ДокСв", НаимДок=row["doc_name"][:100], НомДок=str(row["doc_number"])[:50],
                   ДатаДок=_d(row["doc_on"]), ИдДок=f"{row['kind']}/{row['ref_id']}")
        op = _sub(doc, "СвОпер", НомСтр=str(no), ДатаОпер=_d(row["on"]), НаимОпер=row["text"][:500])
        if row["debit"]:
            op.set("СумДебет", _m(row["debit"]))
        if row["credit"] or not row["debit"]:
            op.set("СумКредит", _m(row["credit"]))
    signer = sender["signer"]
    sign = _sub(d, "Подписант", Должн=signer.get("position", "")[:255])
    _fio(sign, signer)
    content = etree.tostring(root, xml_declaration=True, encoding="windows-1251")
    return f"{fid}.xml", content


def schema() -> etree.XMLSchema:
    return shipped_schema(SCHEMA_FILE)


def validate_akt(content: bytes, file_name: str | None = None) -> list[Problem]:
    root, problems = parse_checked(content, schema())
    if root is None:
        return problems
    fid = root.get("ИдФайл", "")
    if not _FILE_ID.match(fid):
        problems.append(Problem("/Файл/@ИдФайл", f"идентификатор файла «{fid}» не соответствует шаблону "
                                                 f"{PREFIX}_<получатель>_<отправитель>_<ГГГГММДД>_<GUID>"))
    if file_name is not None:
        stem = file_name.rsplit("/", 1)[-1]
        stem = stem[:-4] if stem.lower().endswith(".xml") else stem
        if stem != fid:
            problems.append(Problem("/Файл/@ИдФайл", f"имя файла обмена «{stem}» не совпадает с ИдФайл «{fid}»"))
    tree = root.getroottree()
    for op in root.iter("СвОпер"):
        if op.get("СумДебет") is None and op.get("СумКредит") is None:
            problems.append(Problem(tree.getpath(op), "не указана ни СумДебет, ни СумКредит"))
    return problems


def ensure_valid_akt(content: bytes, file_name: str | None = None) -> None:
    problems = validate_akt(content, file_name)
    if problems:
        raise Invalid("Акт сверки не соответствует формату ФНС 5.01: " + "; ".join(str(p) for p in problems[:20]),
                      field="xml", fields=[{"field": p.path, "message": p.message} for p in problems])
