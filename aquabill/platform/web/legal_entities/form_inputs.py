"""What the pages' forms post (every field a string), turned into the domain's input of `aquabill.legal_entities`
— the same input the API's bodies (`bodies.py`) make. A value that does not parse is refused with
`Invalid(message, field=…)` like the domain's own refusals, so `forms.attempt` shows it beside the form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import msgspec

from aquabill.base.errors import Invalid
from aquabill.billing_core.metering.meters import MeterInstall
from aquabill.legal_entities.contracts import ContractIn, PaymentTerms, VersionIn, check_payment_terms
from aquabill.legal_entities.counterparties import BankAccountIn, ContactIn, CounterpartyIn
from aquabill.legal_entities.sites import ObjectIn, PointIn, SubIn
from aquabill.platform.web.forms import parse_date, parse_id


def _int(raw: str, field: str, what: str, *, required: bool = False) -> int | None:
    raw = raw.strip()
    if not raw and not required:
        return None
    if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 6:
        return int(raw)
    raise Invalid(f"{what}: ожидается целое число", field=field)


def _decimal(raw: str, field: str, what: str) -> Decimal | None:
    raw = raw.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw) if raw.isascii() and len(raw) <= 30 else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise Invalid(f"{what}: ожидается число", field=field)
    return value


def _day(raw: str, field: str, what: str, *, required: bool = False) -> date | None:
    return parse_date(raw, field, f"{what}: укажите дату" if required and not raw.strip() else None,
                      required=required, dotted=True)


class CounterpartyForm(msgspec.Struct):
    kind: str = "org"
    name: str = ""
    inn: str = ""
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
    active: str = ""
    category_from: str = ""  # the card's form only: a new penalty category holds from (empty: today)
    category_note: str = ""

    def domain(self) -> CounterpartyIn:
        values = {k: v[:4000] for k, v in msgspec.structs.asdict(self).items() if k not in DATED}
        values["active"] = bool(self.active)
        return CounterpartyIn(**values)

    def category_from_day(self) -> date | None:
        return _day(self.category_from, "category_from", "Категория действует с")


DATED = ("category_from", "category_note")  # the category's change, not a counterparty's column


class BankAccountForm(msgspec.Struct):
    bic: str = ""
    account: str = ""
    bank_name: str = ""
    corr_account: str = ""
    main: str = ""

    def domain(self) -> BankAccountIn:
        return BankAccountIn(self.bic[:40], self.account[:40], self.bank_name[:1000], self.corr_account[:40],
                             bool(self.main))


class ContactForm(msgspec.Struct):
    person: str = ""
    position: str = ""
    phone: str = ""
    email: str = ""
    note: str = ""

    def domain(self) -> ContactIn:
        return ContactIn(self.person[:1000], self.position[:1000], self.phone[:100], self.email[:1000],
                         self.note[:4000])


class TermsForm(msgspec.Struct):
    """A version's terms as the contract and addendum forms post them (two intermediate payments at most)."""

    valid_from: str = ""
    basis: str = ""
    due_day: str = "10"
    part1_percent: str = ""
    part1_day: str = ""
    part2_percent: str = ""
    part2_day: str = ""
    vat_mode: str = "vat"
    stormwater_area_m2: str = ""
    runoff_coefficient: str = ""
    version_note: str = ""

    def terms(self) -> PaymentTerms:
        parts = [(p.strip(), d) for p, d in ((self.part1_percent, self.part1_day), (self.part2_percent,
                                                                                    self.part2_day)) if p.strip()]
        return check_payment_terms(self.due_day.strip() or "10", parts)

    def version(self, *, required_start: bool = True) -> VersionIn:
        return VersionIn(_day(self.valid_from, "valid_from", "Начало действия условий", required=required_start),
                         self.basis[:1000], self.terms(), self.vat_mode,
                         _decimal(self.stormwater_area_m2, "stormwater_area_m2", "Площадь водосбора"),
                         _decimal(self.runoff_coefficient, "runoff_coefficient", "Коэффициент стока"),
                         self.version_note[:4000])


class ContractForm(TermsForm):
    number: str = ""
    signed_on: str = ""
    counterparty_id: str = ""
    kind: str = "combined"
    valid_to: str = ""
    note: str = ""

    def domain(self) -> tuple[ContractIn, VersionIn]:
        counterparty = parse_id(self.counterparty_id, "counterparty_id", "Выберите контрагента", required=True)
        assert counterparty is not None
        signed = _day(self.signed_on, "signed_on", "Дата подписания", required=True)
        start = _day(self.valid_from, "valid_from", "Начало действия")
        return (ContractIn(self.number[:1000], signed, counterparty, self.kind,
                           start, _day(self.valid_to, "valid_to", "Окончание действия"), self.note[:4000]),
                self.version(required_start=False))


class StatusForm(msgspec.Struct):
    status: str = ""
    valid_to: str = ""
    note: str = ""


class ObjectForm(msgspec.Struct):
    name: str = ""
    address: str = ""
    house_id: str = ""
    note: str = ""

    def domain(self) -> ObjectIn:
        return ObjectIn(self.name[:1000], self.address[:4000], parse_id(self.house_id, "house_id", "Дом: ожидается "
                                                                        "номер дома в реестре"), self.note[:4000])


class PointForm(msgspec.Struct):
    object_id: str = ""
    kind: str = "supply"
    name: str = ""
    diameter_mm: str = ""
    tariff_group: str = ""
    vat_included: str = ""
    metered: str = ""
    valid_from: str = ""
    valid_to: str = ""
    note: str = ""

    def domain(self) -> PointIn:
        object_id = parse_id(self.object_id, "object_id", "Выберите объект", required=True)
        assert object_id is not None
        return PointIn(object_id, self.kind, self.name[:1000], self.tariff_group[:100],
                       _day(self.valid_from, "valid_from", "Дата включения точки", required=True),
                       _int(self.diameter_mm, "diameter_mm", "Диаметр трубы, мм"), bool(self.vat_included),
                       bool(self.metered), _day(self.valid_to, "valid_to", "Дата исключения точки"), self.note[:4000])


class SubForm(msgspec.Struct):
    point_id: str = ""
    sub_point_id: str = ""
    sub_counterparty_id: str = ""
    valid_from: str = ""
    valid_to: str = ""
    note: str = ""

    def domain(self) -> tuple[int, SubIn]:
        point_id = parse_id(self.point_id, "point_id", "Выберите точку договора", required=True)
        assert point_id is not None
        return point_id, SubIn(_day(self.valid_from, "valid_from", "Начало вычета", required=True),
                               parse_id(self.sub_point_id, "sub_point_id", "Точка субабонента: ожидается её номер"),
                               parse_id(self.sub_counterparty_id, "sub_counterparty_id",
                                        "Субабонент: ожидается номер контрагента"),
                               _day(self.valid_to, "valid_to", "Окончание вычета"), self.note[:4000])


class MeterForm(msgspec.Struct):
    point_id: str = ""
    serial: str = ""
    installed_on: str = ""
    digits: str = "6"
    initial_reading: str = "0"
    verified_until: str = ""
    seal_number: str = ""
    sealed_on: str = ""

    def domain(self) -> tuple[int, MeterInstall]:
        point_id = parse_id(self.point_id, "point_id", "Выберите точку договора", required=True)
        installed = _day(self.installed_on, "installed_on", "Дата установки", required=True)
        assert point_id is not None and installed is not None
        return point_id, MeterInstall(
            serial=self.serial[:100], installed_on=installed,
            digits=_int(self.digits, "digits", "Разрядность счётчика") or 6,
            initial_reading=_decimal(self.initial_reading, "initial_reading", "Начальное показание") or Decimal(0),
            verified_until=_day(self.verified_until, "verified_until", "Дата следующей поверки"),
            seal_number=self.seal_number[:100] or None, sealed_on=_day(self.sealed_on, "sealed_on", "Дата пломбы"))


class ReadingForm(msgspec.Struct):
    meter_id: str = ""
    read_on: str = ""
    value: str = ""
