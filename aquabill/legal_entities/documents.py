"""The typed model of a document to a legal entity: the UPD (СЧФДОП), an invoice (СЧФ, also the advance
invoice) or a shipment document (ДОП) — parties, lines with their VAT, totals, the contract it rests on and
the signer. Frozen dataclasses; `make_line` computes a line's money through `vat`, `check_document` refuses
a document that may not be issued, with a Russian message naming the field.

The channels (`aquabill.channels.fns_upd`) render this model as the FNS XML; nothing here knows XML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from aquabill.base.errors import Invalid
from aquabill.legal_entities import requisites, vat
from aquabill.legal_entities.vat import Amounts, VatRate


class Function(StrEnum):
    """The document's function (@Функция of the FNS format, order ЕД-7-26/970@)."""

    SCHFDOP = "СЧФДОП"  # invoice + shipment (service) document: the UPD
    SCHF = "СЧФ"  # invoice only (also the advance invoice)
    DOP = "ДОП"  # shipment (service) document only, no invoice


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of measure by OKEI (ОК 015-94): the code and the national short name."""

    code: str
    name: str


CUBIC_METRE = Unit("113", "м3")  # OKEI 113 «кубический метр», national symbol м³ (written м3 in the formats)
PIECE = Unit("796", "шт")  # OKEI 796 «штука»
SERVICE = Unit("876", "усл. ед")  # OKEI 876 «условная единица» (a service counted as one)


@dataclass(frozen=True, slots=True)
class RussianAddress:
    """An address by parts (АдрРФ): region code (2 digits, the subject of the RF) and name are required."""

    region_code: str
    region_name: str
    postal_code: str = ""
    district: str = ""
    city: str = ""
    settlement: str = ""
    street: str = ""
    house: str = ""
    building: str = ""
    flat: str = ""


@dataclass(frozen=True, slots=True)
class GarAddress:
    """An address of the state address register (ГАР, АдрГАР): its object GUID and the hierarchy."""

    gar_id: str  # ИдНом, 36 characters
    region_code: str
    region_name: str
    municipal_kind: str = ""  # ВидКод of МуниципРайон: 1 district, 2 urban okrug, 3 intra-city territory …
    municipal_name: str = ""
    settlement_kind: str = ""  # e.g. "г."
    settlement_name: str = ""
    street_kind: str = ""  # e.g. "ул."
    street_name: str = ""
    building_kind: str = ""  # e.g. "д."
    building_number: str = ""
    room_kind: str = ""  # e.g. "пом."
    room_number: str = ""
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class TextAddress:
    """An address as one line of text (АдрИнф), country by OKSM (643 Russia)."""

    text: str
    country_code: str = "643"
    country_name: str = "Россия"


Address = RussianAddress | GarAddress | TextAddress


@dataclass(frozen=True, slots=True)
class BankAccount:
    account: str
    bic: str
    bank_name: str = ""
    corr_account: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    last_name: str
    first_name: str
    middle_name: str = ""

    @property
    def short(self) -> str:
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.middle_name) if p)
        return f"{self.last_name} {initials}".strip()


@dataclass(frozen=True, slots=True)
class Party:
    """A seller or a buyer: an organisation (INN of 10 digits, KPP) or a sole trader (INN of 12, `person`)."""

    name: str
    inn: str
    address: Address
    kpp: str = ""
    person: Person | None = None  # a sole trader's name (СвИП/ФИО)
    ogrnip: str = ""
    bank: BankAccount | None = None
    phone: str = ""
    email: str = ""
    edo_id: str = ""  # the EDO participant id (the operator's prefix + the box id), for the file name

    @property
    def is_sole_trader(self) -> bool:
        return len(self.inn) == 12


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A document by name, number and date: the contract («Договор № … от …»), a payment order …"""

    name: str
    number: str
    date: date

    def __str__(self) -> str:
        return f"{self.name} № {self.number} от {self.date:%d.%m.%Y}"


@dataclass(frozen=True, slots=True)
class Signer:
    person: Person
    position: str


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    name: str
    rate: VatRate
    amounts: Amounts
    unit: Unit | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None  # per unit, WITHOUT VAT (column 4 of the invoice)


@dataclass(frozen=True, slots=True)
class Document:
    function: Function
    number: str
    date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    signer: Signer
    contract: DocumentRef | None = None  # the basis of the shipment (ОснПер)
    period: tuple[date, date] | None = None  # services rendered from … to … (ДатаНачПер / ДатаОконПер)
    shipped_on: date | None = None  # ДатаПер; defaults to the period's end or the document date
    operation: str = "Услуги оказаны в полном объеме"  # СодОпер
    advance: bool = False  # an invoice on a prepayment received (СЧФ, special circumstance 2)
    payments: tuple[DocumentRef, ...] = ()  # payment orders (line 5 of the invoice; required for advances)
    payment_amounts: tuple[Decimal | None, ...] = ()  # their sums, aligned with `payments` (optional)
    currency_code: str = "643"  # OKV
    currency_name: str = "Российский рубль"
    correction: tuple[int, date] | None = None  # an amended invoice: (ИспрДок НомИспр, ДатаИспр)
    notes: tuple[tuple[str, str], ...] = field(default=())  # ИнфПолФХЖ1 ТекстИнф (id, value)

    @property
    def totals(self) -> Amounts:
        return vat.total(line.amounts for line in self.lines)


def make_line(number: int, name: str, rate: VatRate, *, quantity: Decimal, price: Decimal,
              unit: Unit = CUBIC_METRE, price_includes_vat: bool = False) -> Line:
    """A shipment (service) line: its cost is quantity × price rounded to the kopeck, then VAT added to it
    (`price` without VAT) or split from it (`price_includes_vat`). The line keeps the price WITHOUT VAT: when
    the price included VAT, it is the line's net cost / quantity (to 11 decimals, the format's precision)."""
    amounts = vat.line_amounts(quantity, price, rate, price_includes_vat=price_includes_vat)
    net_price = price
    if price_includes_vat and not rate.exempt:
        net_price = (amounts.net / quantity).quantize(Decimal("1e-11")).normalize()
    return Line(number=number, name=name, rate=rate, amounts=amounts, unit=unit, quantity=quantity,
                price=net_price)


def make_advance_line(number: int, name: str, received: Decimal, rate: VatRate) -> Line:
    """A line of an advance invoice: the amount received (with VAT) and the VAT at the calculated rate."""
    if not rate.calculated and not rate.exempt and rate.percent != 0:
        raise Invalid(f"В счёте-фактуре на аванс применяется расчётная ставка (например 22/122), а не {rate}",
                      field="vat_rate")
    return Line(number=number, name=name, rate=rate, amounts=vat.from_gross(received, rate))


def check_document(doc: Document) -> Document:
    """Refuse what may not be issued: bad requisites, an empty or inconsistent table, a rate not in force."""
    if not doc.number.strip():
        raise Invalid("Не указан номер документа", field="number")
    if not doc.lines:
        raise Invalid("В документе нет ни одной строки", field="lines")
    for role, party in (("seller", doc.seller), ("buyer", doc.buyer)):
        _check_party(party, role)
    numbers = [line.number for line in doc.lines]
    if len(set(numbers)) != len(numbers) or min(numbers) < 1:
        raise Invalid("Номера строк документа должны быть различными и начинаться с 1", field="lines")
    if doc.advance:
        if doc.function is not Function.SCHF:
            raise Invalid("Счёт-фактура на аванс составляется с функцией СЧФ", field="function")
        if not doc.payments:
            raise Invalid("В счёте-фактуре на аванс укажите платёжное поручение (строка 5)", field="payments")
    elif doc.function in (Function.SCHFDOP, Function.DOP) and doc.period is None and doc.shipped_on is None:
        raise Invalid("Укажите дату отгрузки или период оказания услуг", field="period")
    if doc.period and doc.period[0] > doc.period[1]:
        raise Invalid("Начало периода оказания услуг позже его окончания", field="period")
    tax_day = doc.date if doc.advance else (doc.shipped_on or (doc.period[1] if doc.period else doc.date))
    for line in doc.lines:
        where = f"lines[{line.number}]"
        if not line.name.strip():
            raise Invalid(f"Строка {line.number}: не указано наименование", field=where)
        vat.check_in_force(line.rate, tax_day, field=f"{where}.vat_rate")
        if not doc.advance and line.rate.calculated:
            raise Invalid(f"Строка {line.number}: расчётная ставка {line.rate} — только для авансов",
                          field=f"{where}.vat_rate")
        a = line.amounts
        if a.net + a.vat_or_zero != a.gross:
            raise Invalid(f"Строка {line.number}: {a.net} + {a.vat_or_zero} ≠ {a.gross}", field=where)
        if not doc.advance and (line.unit is None or line.quantity is None or line.price is None):
            raise Invalid(f"Строка {line.number}: укажите единицу, количество и цену", field=where)
    return doc


def _check_party(party: Party, role: str) -> None:
    who = "продавца" if role == "seller" else "покупателя"
    if not party.name.strip():
        raise Invalid(f"Не указано наименование {who}", field=f"{role}.name")
    inn = requisites.check_inn(party.inn, field=f"{role}.inn")
    if len(inn) == 10:
        if not party.kpp:
            raise Invalid(f"Не указан КПП {who}-организации", field=f"{role}.kpp")
        requisites.check_kpp(party.kpp, field=f"{role}.kpp")
    else:
        if party.person is None:
            raise Invalid(f"Для {who} с ИНН из 12 цифр (ИП) укажите фамилию и имя", field=f"{role}.person")
        if party.ogrnip:
            requisites.check_ogrnip(party.ogrnip, field=f"{role}.ogrnip")
    if party.bank is not None:
        requisites.check_account(party.bank.account, party.bank.bic, field=f"{role}.bank.account")
        if party.bank.corr_account:
            requisites.check_corr_account(party.bank.corr_account, party.bank.bic,
                                          field=f"{role}.bank.corr_account")
