"""What the API takes: JSON bodies as msgspec structs with bounded sizes, each turned into the domain's input of
`aquabill.legal_entities` (the pages' forms are `form_inputs.py`'s; the same service functions serve both)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from aquabill.billing_core.metering.meters import MeterInstall
from aquabill.legal_entities.contracts import ContractIn, PaymentTerms, VersionIn, check_payment_terms
from aquabill.legal_entities.counterparties import BankAccountIn, ContactIn, CounterpartyIn
from aquabill.legal_entities.sites import ObjectIn, PointIn, SubIn

MAX_ID = 2_147_483_647
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Code = Annotated[str, msgspec.Meta(max_length=32)]
RefId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
Small = Annotated[int, msgspec.Meta(ge=-32768, le=32767)]


# ---- counterparties ---------------------------------------------------------------------------------------------

class CounterpartyBody(msgspec.Struct):
    kind: Code
    name: Text
    inn: Code
    kpp: Code = ""
    ogrn: Code = ""
    short_name: Short = ""
    last_name: Short = ""
    first_name: Short = ""
    middle_name: Short = ""
    legal_address: Text = ""
    postal_address: Text = ""
    email: Short = ""
    phone: Code = ""
    edo_id: Annotated[str, msgspec.Meta(max_length=64)] = ""
    penalty_category: Code = "other"
    note: Text = ""
    active: bool = True

    def domain(self) -> CounterpartyIn:
        return CounterpartyIn(**msgspec.structs.asdict(self))


class CounterpartyPatch(msgspec.Struct):
    """The fields to change; those absent (or null) keep their values. A new `penalty_category` holds from
    `category_from` (default: today; «Категория действует с»), `category_note` its basis."""

    kind: Code | None = None
    name: Text | None = None
    inn: Code | None = None
    kpp: Code | None = None
    ogrn: Code | None = None
    short_name: Short | None = None
    last_name: Short | None = None
    first_name: Short | None = None
    middle_name: Short | None = None
    legal_address: Text | None = None
    postal_address: Text | None = None
    email: Short | None = None
    phone: Code | None = None
    edo_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    penalty_category: Code | None = None
    note: Text | None = None
    active: bool | None = None
    category_from: date | None = None
    category_note: Text = ""

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in msgspec.structs.asdict(self).items()
                if v is not None and k not in ("category_from", "category_note")}


class BankAccountBody(msgspec.Struct):
    bic: Code
    account: Code
    bank_name: Short = ""
    corr_account: Code = ""
    main: bool = False

    def domain(self) -> BankAccountIn:
        return BankAccountIn(**msgspec.structs.asdict(self))


class ContactBody(msgspec.Struct):
    person: Short
    position: Short = ""
    phone: Code = ""
    email: Short = ""
    note: Text = ""

    def domain(self) -> ContactIn:
        return ContactIn(**msgspec.structs.asdict(self))


# ---- contracts --------------------------------------------------------------------------------------------------

class PartBody(msgspec.Struct):
    percent: Decimal
    day: Small


class TermsBody(msgspec.Struct):
    due_day: Small = 10
    intermediate: Annotated[list[PartBody], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)

    def domain(self) -> PaymentTerms:
        return check_payment_terms(self.due_day, [(p.percent, p.day) for p in self.intermediate])


class VersionBody(msgspec.Struct):
    valid_from: date
    basis: Short = ""
    terms: TermsBody = msgspec.field(default_factory=TermsBody)
    vat_mode: Code = "vat"
    stormwater_area_m2: Decimal | None = None
    runoff_coefficient: Decimal | None = None
    note: Text = ""

    def domain(self) -> VersionIn:
        return VersionIn(self.valid_from, self.basis, self.terms.domain(), self.vat_mode, self.stormwater_area_m2,
                         self.runoff_coefficient, self.note)


class ContractBody(msgspec.Struct):
    number: Annotated[str, msgspec.Meta(max_length=100)]
    signed_on: date
    counterparty_id: RefId
    kind: Code
    valid_from: date | None = None
    valid_to: date | None = None
    note: Text = ""
    basis: Short = ""
    terms: TermsBody = msgspec.field(default_factory=TermsBody)
    vat_mode: Code = "vat"
    stormwater_area_m2: Decimal | None = None
    runoff_coefficient: Decimal | None = None

    def domain(self) -> tuple[ContractIn, VersionIn]:
        return (ContractIn(self.number, self.signed_on, self.counterparty_id, self.kind, self.valid_from,
                           self.valid_to, self.note),
                VersionIn(self.valid_from, self.basis, self.terms.domain(), self.vat_mode, self.stormwater_area_m2,
                          self.runoff_coefficient))


class ContractPatch(msgspec.Struct):
    status: Code | None = None
    valid_to: date | None = None
    note: Text | None = None


class ObjectBody(msgspec.Struct):
    name: Short
    address: Text = ""
    house_id: RefId | None = None
    note: Text = ""

    def domain(self) -> ObjectIn:
        return ObjectIn(self.name, self.address, self.house_id, self.note)


class PointBody(msgspec.Struct):
    object_id: RefId
    kind: Code
    name: Short
    tariff_group: Annotated[str, msgspec.Meta(max_length=64)]
    valid_from: date
    diameter_mm: Small | None = None
    vat_included: bool = False
    metered: bool = False
    valid_to: date | None = None
    note: Text = ""

    def domain(self) -> PointIn:
        return PointIn(**msgspec.structs.asdict(self))


class SubBody(msgspec.Struct):
    valid_from: date
    sub_point_id: RefId | None = None
    sub_counterparty_id: RefId | None = None
    valid_to: date | None = None
    note: Text = ""

    def domain(self) -> SubIn:
        return SubIn(self.valid_from, self.sub_point_id, self.sub_counterparty_id, self.valid_to, self.note)


class MeterBody(msgspec.Struct):
    serial: Annotated[str, msgspec.Meta(max_length=100)]
    installed_on: date
    digits: Small = 6
    fraction_digits: Small = 3
    initial_reading: Decimal = Decimal(0)
    verified_until: date | None = None
    seal_number: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    sealed_on: date | None = None
    reversible: bool = False

    def domain(self) -> MeterInstall:
        return MeterInstall(**msgspec.structs.asdict(self))


class ReadingBody(msgspec.Struct):
    read_on: date
    value: Annotated[str, msgspec.Meta(max_length=40)]
