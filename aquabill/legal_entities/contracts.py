"""A contract's stated values and its dated terms (versions), checked; which version is in force on a day. Pure.

A contract (cold water, sewage, both, stormwater) is signed with a counterparty and is in force from `valid_from`
(to `valid_to`, when set). Its terms change by addenda: version 1 is the contract itself, each addendum a later
version from its own first day; the terms in force on a day are those of the last version starting on or before
it (`version_on`). The terms: payment (`PaymentTerms`), whether VAT is charged, and for stormwater the area and
the runoff coefficient the volume is computed from.

Payment — dated rule, source: the Rules of cold water supply and sewerage (Правила холодного водоснабжения и
водоотведения), approved by Government Decree No. 644 of 29.07.2013, p. 16: the settlement period is one calendar
month, and the subscriber pays for the water received and the wastewater discharged by the 10th day of the month
following the settlement month, on the invoices the utility issues by the 5th day of that month. (p. 16 as in force
since the decree's publication; paraphrased from the decree as known to the author — the stored-pages search of
2026-12-07 did not return its text, so the point's wording was not re-read here.) A contract may set earlier
intermediate payments (a share of the month's amount by a day of the month itself); `PaymentTerms` holds them,
and `issue/intermediate.py` bills them: each part's share of the previous month's UPD/act amount, due on its day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from aquabill.base.errors import Invalid
from aquabill.legal_entities.catalogue import (
    CONTRACT_KINDS,
    CONTRACT_STATUSES,
    STATUS_MOVES,
    VAT_MODES,
    choice,
    clean,
)

DEFAULT_DUE_DAY = 10  # Decree 644 of 29.07.2013, Rules p. 16: by the 10th of the month after the settlement month
DEFAULT_INVOICE_DAY = 5  # the same point: the utility's invoice by the 5th of that month
LAST_DAY = 31  # "day 31" of an intermediate payment means the month's last day
MAX_PARTS = 4
EARLIEST = date(2000, 1, 1)  # no contract of this product is older; a typo such as 0202 is refused
LATEST = date(2099, 12, 31)


@dataclass(frozen=True, slots=True)
class Intermediate:
    percent: Decimal  # share of the month's amount, 0 < percent < 100
    day: int  # day of the settlement month itself (31: its last day)


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    due_day: int = DEFAULT_DUE_DAY  # the final settlement: by this day of the next month
    intermediate: tuple[Intermediate, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"due_day": self.due_day,
                "intermediate": [{"percent": f"{p.percent:.2f}", "day": p.day} for p in self.intermediate]}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PaymentTerms:
        return cls(int(raw.get("due_day", DEFAULT_DUE_DAY)),
                   tuple(Intermediate(Decimal(str(p["percent"])), int(p["day"])) for p in raw.get("intermediate", [])))

    def describe(self) -> str:
        parts = []
        for p in self.intermediate:
            share = f"{p.percent.normalize():f}".replace(".", ",")
            day = "последнего" if p.day == LAST_DAY else f"{p.day}-го"
            parts.append(f"{share}% до {day} числа расчётного месяца")
        parts.append(f"окончательный расчёт до {self.due_day}-го числа следующего месяца")
        return "; ".join(parts)


def _day(value: Any, *, field: str, what: str, high: int) -> int:
    raw = value.strip() if isinstance(value, str) else value
    if isinstance(raw, bool) or not (isinstance(raw, int) or (isinstance(raw, str) and raw.isascii()
                                                              and raw.isdigit() and len(raw) <= 2)):
        raise Invalid(f"{what}: ожидается число от 1 до {high}", field=field)
    day = int(raw)
    if not 1 <= day <= high:
        raise Invalid(f"{what}: ожидается число от 1 до {high}, указано {day}", field=field)
    return day


def _percent(value: Any, *, field: str) -> Decimal:
    try:
        p = Decimal(str(value).strip().replace(",", ".")) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise Invalid("Доля промежуточного платежа: ожидается число процентов, например 35", field=field) from None
    if not p.is_finite() or not 0 < p < 100:
        raise Invalid("Доля промежуточного платежа: больше 0 и меньше 100 %", field=field)
    if p != p.quantize(Decimal("0.01")):
        raise Invalid("Доля промежуточного платежа: не точнее сотых процента", field=field)
    return p.quantize(Decimal("0.01"))


def check_payment_terms(due_day: Any = DEFAULT_DUE_DAY,
                        intermediate: list[tuple[Any, Any]] | tuple = ()) -> PaymentTerms:
    """The final settlement day of the next month (1–28, so every month has it) and up to four intermediate
    payments in the settlement month, days increasing, shares summing to less than 100 %."""
    due = _day(due_day, field="due_day", what="Срок окончательного расчёта (число следующего месяца)", high=28)
    parts: list[Intermediate] = []
    for n, (percent, day) in enumerate(intermediate):
        parts.append(Intermediate(_percent(percent, field=f"intermediate[{n}].percent"),
                                  _day(day, field=f"intermediate[{n}].day", what="День промежуточного платежа",
                                       high=LAST_DAY)))
    if len(parts) > MAX_PARTS:
        raise Invalid(f"Не более {MAX_PARTS} промежуточных платежей", field="intermediate")
    if any(b.day <= a.day for a, b in zip(parts, parts[1:], strict=False)):
        raise Invalid("Дни промежуточных платежей должны идти по возрастанию", field="intermediate")
    if sum((p.percent for p in parts), Decimal(0)) >= 100:
        raise Invalid("Промежуточные платежи вместе должны быть меньше 100 % (остаток — окончательный расчёт)",
                      field="intermediate")
    return PaymentTerms(due, tuple(parts))


def check_day(value: date | None, *, field: str, what: str, required: bool = True) -> date | None:
    if value is None:
        if required:
            raise Invalid(f"Укажите {what}", field=field)
        return None
    if not EARLIEST <= value <= LATEST:
        raise Invalid(f"{what[:1].upper()}{what[1:]}: дата {value:%d.%m.%Y} вне 2000–2099 годов", field=field)
    return value


@dataclass(frozen=True, slots=True)
class ContractIn:
    number: str
    signed_on: date | None
    counterparty_id: int
    kind: str
    valid_from: date | None = None  # default: the signing day
    valid_to: date | None = None
    note: str = ""


def check_contract(data: ContractIn) -> dict[str, Any]:
    signed = check_day(data.signed_on, field="signed_on", what="дату подписания договора")
    valid_from = check_day(data.valid_from or signed, field="valid_from", what="дату начала действия")
    valid_to = check_day(data.valid_to, field="valid_to", what="дату окончания действия", required=False)
    if valid_to is not None and valid_from is not None and valid_to < valid_from:
        raise Invalid("Дата окончания действия договора раньше даты начала", field="valid_to")
    return {"number": clean(data.number, field="number", what="номер договора", limit=64, required=True),
            "signed_on": signed, "counterparty_id": data.counterparty_id,
            "kind": choice(data.kind, CONTRACT_KINDS, field="kind", what="Вид договора"),
            "valid_from": valid_from, "valid_to": valid_to,
            "note": clean(data.note, field="note", what="примечание", limit=4000, multiline=True)}


def check_status_move(current: str, new: str, valid_to: date | None) -> str:
    status = choice(new, CONTRACT_STATUSES, field="status", what="Состояние договора")
    if status != current and status not in STATUS_MOVES[current]:
        raise Invalid(f"Договор в состоянии «{CONTRACT_STATUSES[current]}» нельзя перевести в "
                      f"«{CONTRACT_STATUSES[status]}»", field="status")
    if status == "terminated" and valid_to is None:
        raise Invalid("Для расторжения укажите дату окончания действия договора", field="valid_to")
    return status


@dataclass(frozen=True, slots=True)
class VersionIn:
    valid_from: date | None
    basis: str = ""
    terms: PaymentTerms = field(default_factory=PaymentTerms)
    vat_mode: str = "vat"
    stormwater_area_m2: Decimal | None = None
    runoff_coefficient: Decimal | None = None
    note: str = ""


def _positive(value: Decimal | None, *, field: str, what: str, places: int, high: Decimal) -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value <= high:
        raise Invalid(f"{what}: больше 0 и не более {high}", field=field)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise Invalid(f"{what}: не более {places} знаков после запятой", field=field)
    return value


def check_version(data: VersionIn, contract: dict[str, Any]) -> dict[str, Any]:
    """A version's columns, checked against its contract: it starts inside the contract's days; a stormwater
    contract states the area and the runoff coefficient (and only it does)."""
    start = check_day(data.valid_from, field="valid_from", what="дату начала действия условий")
    assert start is not None
    if start < contract["valid_from"] or (contract["valid_to"] is not None and start > contract["valid_to"]):
        end = f" по {contract['valid_to']:%d.%m.%Y}" if contract["valid_to"] else ""
        raise Invalid(f"Условия могут действовать только в пределах срока договора (с "
                      f"{contract['valid_from']:%d.%m.%Y}{end})", field="valid_from")
    area = _positive(data.stormwater_area_m2, field="stormwater_area_m2", what="Площадь водосбора, м²",
                     places=2, high=Decimal("9999999999.99"))
    coefficient = _positive(data.runoff_coefficient, field="runoff_coefficient", what="Коэффициент стока",
                            places=3, high=Decimal(1))
    if contract["kind"] == "stormwater":
        if area is None or coefficient is None:
            raise Invalid("Для договора на поверхностные сточные воды укажите площадь водосбора и коэффициент "
                          "стока", field="stormwater_area_m2" if area is None else "runoff_coefficient")
    elif area is not None or coefficient is not None:
        raise Invalid("Площадь водосбора и коэффициент стока указываются только в договоре на поверхностные "
                      "сточные воды", field="stormwater_area_m2")
    return {"valid_from": start,
            "basis": clean(data.basis, field="basis", what="основание (доп. соглашение)", limit=500),
            "payment_terms": data.terms.as_json(),
            "vat_mode": choice(data.vat_mode, VAT_MODES, field="vat_mode", what="НДС"),
            "stormwater_area_m2": area, "runoff_coefficient": coefficient,
            "note": clean(data.note, field="note", what="примечание", limit=4000, multiline=True)}


def version_on(versions: list[dict[str, Any]], on: date) -> dict[str, Any] | None:
    """The version in force on `on`: the last one (by start) starting on or before it; None before the first."""
    started = [v for v in versions if v["valid_from"] <= on]
    return max(started, key=lambda v: (v["valid_from"], v["version"])) if started else None


def contract_basis(number: str, signed_on: date) -> str:
    return f"Договор № {number} от {signed_on:%d.%m.%Y}"
