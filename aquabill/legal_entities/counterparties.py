"""A counterparty's stated values, checked: an organisation (INN of 10 digits, KPP, OGRN) or a sole trader (INN
of 12 digits, no KPP, OGRNIP, the person's name), its bank accounts (BIC + account control key, the bank's
correspondent account) and contact people. Pure: each `check_*` takes what was typed and returns the row's
columns, normalised, or raises `Invalid` with a Russian message naming the field. The requisites' checksums are
`requisites.py`'s."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from aquabill.base.errors import Invalid
from aquabill.legal_entities import requisites
from aquabill.legal_entities.catalogue import (
    COUNTERPARTY_KINDS,
    PENALTY_CATEGORIES,
    choice,
    clean,
    email,
    phone,
)

# the EDO participant id (ИдУчастЭДО): the operator's 3-character prefix (2 + two letters or digits, assigned by
# the FNS) and the box id, 4 to 46 characters in all (the UPD format's ИдОтпр / ИдПол, order ЕД-7-26/970@)
_EDO_ID = re.compile(r"^2[0-9A-Z]{2}[0-9A-Za-z\-]{1,43}$")


@dataclass(frozen=True, slots=True)
class CounterpartyIn:
    """What a form or the API states of a counterparty (raw text: `check_counterparty` normalises it)."""

    kind: str
    name: str
    inn: str
    kpp: str = ""
    ogrn: str = ""
    short_name: str = ""
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    legal_address: str = ""
    postal_address: str = ""
    email: str = ""
    phone: str = ""
    edo_id: str = ""
    penalty_category: str = "other"
    note: str = ""
    active: bool = True


FIELDS = tuple(CounterpartyIn.__dataclass_fields__)


def check_counterparty(data: CounterpartyIn) -> dict[str, Any]:
    """The row's columns, every requisite checked against its kind (ИНН / КПП / ОГРН of an organisation, ИНН /
    ОГРНИП and the name of a sole trader)."""
    kind = choice(data.kind, COUNTERPARTY_KINDS, field="kind", what="Вид контрагента")
    row: dict[str, Any] = {
        "kind": kind,
        "name": clean(data.name, field="name", what="наименование", limit=1000, required=True),
        "short_name": clean(data.short_name, field="short_name", what="краткое наименование", limit=300),
        "legal_address": clean(data.legal_address, field="legal_address", what="юридический адрес", limit=1000),
        "postal_address": clean(data.postal_address, field="postal_address", what="почтовый адрес", limit=1000),
        "email": email(data.email),
        "phone": phone(data.phone),
        "edo_id": _edo_id(data.edo_id),
        "penalty_category": choice(data.penalty_category, PENALTY_CATEGORIES, field="penalty_category",
                                   what="Категория для пеней"),
        "note": clean(data.note, field="note", what="примечание", limit=4000, multiline=True),
        "active": bool(data.active),
    }
    for name, what in (("inn", "ИНН"), ("kpp", "КПП"), ("ogrn", "ОГРН")):
        _ascii(getattr(data, name), name, what)
    if kind == "org":
        row["inn"] = requisites.check_inn(data.inn, length=10)
        row["kpp"] = requisites.check_kpp(data.kpp)
        row["ogrn"] = requisites.check_ogrn(data.ogrn) if clean(data.ogrn, field="ogrn", what="ОГРН") else ""
        row.update(last_name="", first_name="", middle_name="")
    else:
        row["inn"] = requisites.check_inn(data.inn, length=12)
        if clean(data.kpp, field="kpp", what="КПП"):
            raise Invalid("У индивидуального предпринимателя нет КПП: оставьте поле пустым", field="kpp")
        row["kpp"] = ""
        row["ogrn"] = (requisites.check_ogrnip(data.ogrn, field="ogrn")
                       if clean(data.ogrn, field="ogrn", what="ОГРНИП") else "")
        row["last_name"] = clean(data.last_name, field="last_name", what="фамилию предпринимателя", limit=100,
                                 required=True)
        row["first_name"] = clean(data.first_name, field="first_name", what="имя предпринимателя", limit=100,
                                  required=True)
        row["middle_name"] = clean(data.middle_name, field="middle_name", what="отчество", limit=100)
    return row


def check_category_from(day: date, *, latest: date | None, today: date) -> date:
    """The day a counterparty's new penalty category holds from (penalties.py: a debt takes the category in force
    on its due day): not before its latest change (the history is written forwards; a change on that very day
    corrects it), at most a year ahead of `today`."""
    if latest is not None and day < latest:
        raise Invalid(f"Категория действует с {day:%d.%m.%Y}: это раньше последнего изменения категории "
                      f"(с {latest:%d.%m.%Y}). Укажите дату не раньше {latest:%d.%m.%Y}", field="category_from")
    limit = today.replace(year=today.year + 1) if (today.month, today.day) != (2, 29) else date(today.year + 1, 3, 1)
    if day > limit:
        raise Invalid(f"Категория действует с {day:%d.%m.%Y}: не позднее чем через год, {limit:%d.%m.%Y}",
                      field="category_from")
    return day


def _ascii(value: str, field: str, what: str) -> None:
    """Requisites are written in ASCII digits (and Latin letters in a KPP): `str.isdigit` of the checks would
    also take other scripts' digits."""
    if isinstance(value, str) and not value.isascii():
        raise Invalid(f"{what}: только цифры 0–9" + (" и латинские буквы" if field == "kpp" else ""), field=field)


def _edo_id(value: str) -> str:
    text = clean(value, field="edo_id", what="идентификатор участника ЭДО", limit=46)
    if text and not _EDO_ID.match(text):
        raise Invalid(f"Идентификатор участника ЭДО «{text}»: префикс оператора (2 и две буквы или цифры) и номер "
                      "ящика, от 4 до 46 знаков", field="edo_id")
    return text


def display_name(row: dict[str, Any]) -> str:
    """How lists show a counterparty: its short name when it has one."""
    return row.get("short_name") or row["name"]


@dataclass(frozen=True, slots=True)
class BankAccountIn:
    bic: str
    account: str
    bank_name: str = ""
    corr_account: str = ""
    main: bool = False


def check_bank_account(data: BankAccountIn) -> dict[str, Any]:
    """BIC of 9 digits (04… a bank, 01… a Treasury body), the account's control key against the BIC (Bank of
    Russia Regulation 579-P), the correspondent account when given (30101… ending with the BIC's last digits)."""
    for name, what in (("bic", "БИК"), ("account", "Номер счёта"), ("corr_account", "Корреспондентский счёт")):
        _ascii(getattr(data, name), name, what)
    bic = requisites.check_bic(data.bic)
    account = requisites.check_account(data.account, bic)
    corr = clean(data.corr_account, field="corr_account", what="корреспондентский счёт", limit=40)
    return {"bic": bic, "account": account,
            "corr_account": requisites.check_corr_account(corr, bic) if corr else "",
            "bank_name": clean(data.bank_name, field="bank_name", what="наименование банка", limit=500),
            "main": bool(data.main)}


@dataclass(frozen=True, slots=True)
class ContactIn:
    person: str
    position: str = ""
    phone: str = ""
    email: str = ""
    note: str = ""


def check_contact(data: ContactIn) -> dict[str, Any]:
    row = {"person": clean(data.person, field="person", what="имя контактного лица", limit=300, required=True),
           "position": clean(data.position, field="position", what="должность", limit=300),
           "phone": phone(data.phone), "email": email(data.email),
           "note": clean(data.note, field="note", what="примечание", limit=2000, multiline=True)}
    if not row["phone"] and not row["email"]:
        raise Invalid("Укажите телефон или адрес эл. почты контактного лица", field="phone")
    return row
