"""A contract's sites (objects), their connection points and sub-subscribers: the stated values, checked. Pure.

A point is a water supply input ('supply') or a sewage outlet ('discharge'); which kinds a contract may have
follows its kind (`catalogue.POINT_KINDS_OF`). A supply point states its pipe diameter: the Rules of commercial
metering of water and wastewater (Правила организации коммерческого учёта воды, сточных вод, Government Decree 776
of 04.09.2013) compute the volume of unauthorised connection or use — and of a metering failure once the average's
months are over — by the throughput capacity of the connection (the pipe's cross-section at 1.2 m/s, 24 hours a
day), so a supply point without a diameter could not be billed that way. (The method as the rules state it; the
points' numbers are for the calculation step to cite after re-reading the decree — its text was not among the
stored pages searched on 2026-12-07.) The tariff group is the code of `tariffs.tariff_group`
the point is priced by; `vat_included` says that group's price already includes VAT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from aquabill.base.errors import Invalid
from aquabill.legal_entities.catalogue import POINT_KINDS, POINT_KINDS_OF, choice, clean
from aquabill.legal_entities.contracts import check_day

MAX_DIAMETER_MM = 3000
_TARIFF_GROUP = re.compile(r"^[\w.\-]{1,32}$")


@dataclass(frozen=True, slots=True)
class ObjectIn:
    name: str
    address: str = ""
    house_id: int | None = None
    note: str = ""


def check_object(data: ObjectIn) -> dict[str, Any]:
    return {"name": clean(data.name, field="name", what="наименование объекта", limit=300, required=True),
            "address": clean(data.address, field="address", what="адрес объекта", limit=1000),
            "house_id": data.house_id,
            "note": clean(data.note, field="note", what="примечание", limit=2000, multiline=True)}


@dataclass(frozen=True, slots=True)
class PointIn:
    object_id: int
    kind: str
    name: str
    tariff_group: str
    valid_from: date | None
    diameter_mm: int | None = None
    vat_included: bool = False
    metered: bool = False
    valid_to: date | None = None
    note: str = ""


def _inside(start: date, end: date | None, contract: dict[str, Any], *, field: str) -> None:
    c_from, c_to = contract["valid_from"], contract["valid_to"]
    if start < c_from or (c_to is not None and start > c_to) or (c_to is not None and end is not None and end > c_to):
        until = f" по {c_to:%d.%m.%Y}" if c_to else ""
        raise Invalid(f"Даты должны быть в пределах срока договора (с {c_from:%d.%m.%Y}{until})", field=field)


def check_point(data: PointIn, contract: dict[str, Any]) -> dict[str, Any]:
    kind = choice(data.kind, POINT_KINDS, field="kind", what="Вид точки")
    allowed = POINT_KINDS_OF[contract["kind"]]
    if kind not in allowed:
        names = " или ".join(f"«{POINT_KINDS[k]}»" for k in allowed)
        raise Invalid(f"В договоре этого вида точки подключения — только {names}", field="kind")
    diameter = data.diameter_mm
    if diameter is not None and (isinstance(diameter, bool) or not 1 <= diameter <= MAX_DIAMETER_MM):
        raise Invalid(f"Диаметр трубы: целое число миллиметров от 1 до {MAX_DIAMETER_MM}", field="diameter_mm")
    if kind == "supply" and diameter is None:
        raise Invalid("Укажите диаметр трубы ввода, мм: по нему считается пропускная способность (ПП РФ № 776)",
                      field="diameter_mm")
    group = clean(data.tariff_group, field="tariff_group", what="тарифную группу", limit=32, required=True)
    if not _TARIFF_GROUP.match(group):
        raise Invalid("Код тарифной группы: буквы, цифры, «_», «-», «.», до 32 знаков", field="tariff_group")
    start = check_day(data.valid_from, field="valid_from", what="дату включения точки в договор")
    end = check_day(data.valid_to, field="valid_to", what="дату исключения точки", required=False)
    assert start is not None
    if end is not None and end < start:
        raise Invalid("Дата исключения точки раньше даты включения", field="valid_to")
    _inside(start, end, contract, field="valid_from")
    return {"object_id": data.object_id, "kind": kind,
            "name": clean(data.name, field="name", what="наименование точки", limit=300, required=True),
            "diameter_mm": diameter, "tariff_group": group, "vat_included": bool(data.vat_included),
            "metered": bool(data.metered), "valid_from": start, "valid_to": end,
            "note": clean(data.note, field="note", what="примечание", limit=2000, multiline=True)}


@dataclass(frozen=True, slots=True)
class SubIn:
    """A sub-subscriber of a point: its own point in this registry, or (when it has none here) its counterparty."""

    valid_from: date | None
    sub_point_id: int | None = None
    sub_counterparty_id: int | None = None
    valid_to: date | None = None
    note: str = ""


def check_sub(data: SubIn, point_id: int) -> dict[str, Any]:
    if data.sub_point_id is None and data.sub_counterparty_id is None:
        raise Invalid("Укажите точку подключения субабонента или самого субабонента (контрагента)",
                      field="sub_point_id")
    if data.sub_point_id == point_id:
        raise Invalid("Точка не может быть субабонентом самой себя", field="sub_point_id")
    start = check_day(data.valid_from, field="valid_from", what="дату начала вычета объёма субабонента")
    end = check_day(data.valid_to, field="valid_to", what="дату окончания вычета", required=False)
    assert start is not None
    if end is not None and end < start:
        raise Invalid("Дата окончания вычета раньше даты начала", field="valid_to")
    return {"point_id": point_id, "sub_point_id": data.sub_point_id, "sub_counterparty_id": data.sub_counterparty_id,
            "valid_from": start, "valid_to": end,
            "note": clean(data.note, field="note", what="примечание", limit=2000, multiline=True)}


def overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    """Two day ranges (None: open-ended) share at least one day."""
    return (a_to is None or b_from <= a_to) and (b_to is None or a_from <= b_to)
