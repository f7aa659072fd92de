"""Pure rules of contracts: payment terms (Decree 644 p. 16 default, intermediate payments), the version in force on
a day, versions against their contract, status moves, connection points against the contract's kind."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aquabill.base.errors import Invalid
from aquabill.legal_entities.contracts import (
    ContractIn,
    Intermediate,
    PaymentTerms,
    VersionIn,
    check_contract,
    check_payment_terms,
    check_status_move,
    check_version,
    version_on,
)
from aquabill.legal_entities.sites import PointIn, SubIn, check_point, check_sub, overlaps

CONTRACT = {"kind": "combined", "valid_from": date(2025, 1, 15), "valid_to": None}


def test_the_default_is_payment_by_the_10th_of_the_next_month():
    terms = check_payment_terms()
    assert (terms, terms.as_json(), terms.describe()) == (
        PaymentTerms(10, ()), {"due_day": 10, "intermediate": []},
        "окончательный расчёт до 10-го числа следующего месяца")


def test_intermediate_payments_keep_their_order_and_round_trip_through_json():
    terms = check_payment_terms("10", [("35", "18"), ("50,5", 31)])
    assert terms.intermediate == (Intermediate(Decimal("35.00"), 18), Intermediate(Decimal("50.50"), 31))
    assert PaymentTerms.from_json(terms.as_json()) == terms
    assert terms.describe() == ("35% до 18-го числа расчётного месяца; 50,5% до последнего числа расчётного месяца; "
                                "окончательный расчёт до 10-го числа следующего месяца")


@pytest.mark.parametrize("due, parts, field", [
    (0, (), "due_day"), (29, (), "due_day"), ("10a", (), "due_day"), (True, (), "due_day"), ("١٠", (), "due_day"),
    (10, [("100", 18)], "intermediate[0].percent"), (10, [("35.555", 18)], "intermediate[0].percent"),
    (10, [("Infinity", 18)], "intermediate[0].percent"), (10, [("35", 0)], "intermediate[0].day"),
    (10, [("50", 18), ("50", 25)], "intermediate"), (10, [("10", 18), ("10", 18)], "intermediate"),
    (10, [("10", d) for d in (5, 10, 15, 20, 25)], "intermediate"),
])
def test_bad_payment_terms_are_refused(due, parts, field):
    with pytest.raises(Invalid) as refused:
        check_payment_terms(due, parts)
    assert refused.value.field == field


def _v(n: int, start: date) -> dict:
    return {"version": n, "valid_from": start}


@pytest.mark.parametrize("on, expected", [
    (date(2025, 1, 14), None), (date(2025, 1, 15), 1), (date(2025, 2, 28), 1), (date(2025, 3, 1), 3),
    (date(2025, 5, 31), 3), (date(2025, 6, 1), 2), (date(2099, 1, 1), 2)])
def test_the_version_in_force_is_the_last_started(on, expected):
    versions = [_v(1, date(2025, 1, 15)), _v(2, date(2025, 6, 1)), _v(3, date(2025, 3, 1))]
    found = version_on(versions, on)
    assert (found["version"] if found else None) == expected


def test_a_version_starts_within_its_contract_and_only_stormwater_states_an_area():
    ended = {**CONTRACT, "valid_to": date(2025, 12, 31)}
    for start in (date(2025, 1, 14), date(2026, 1, 1)):
        with pytest.raises(Invalid) as refused:
            check_version(VersionIn(start), ended)
        assert refused.value.field == "valid_from"
    with pytest.raises(Invalid) as refused:
        check_version(VersionIn(date(2025, 2, 1), stormwater_area_m2=Decimal(100), runoff_coefficient=Decimal("0.5")),
                      CONTRACT)
    assert refused.value.field == "stormwater_area_m2"
    storm = {**CONTRACT, "kind": "stormwater"}
    row = check_version(VersionIn(date(2025, 2, 1), stormwater_area_m2=Decimal("100.5"),
                                  runoff_coefficient=Decimal("0.85")), storm)
    assert (row["stormwater_area_m2"], row["runoff_coefficient"], row["vat_mode"]) == (
        Decimal("100.5"), Decimal("0.85"), "vat")
    with pytest.raises(Invalid) as refused:
        check_version(VersionIn(date(2025, 2, 1), stormwater_area_m2=Decimal("100.5"),
                                runoff_coefficient=Decimal("0.8555")), storm)
    assert refused.value.field == "runoff_coefficient"


def test_a_contract_starts_on_its_signing_day_by_default():
    row = check_contract(ContractIn(" ВК-1 ", date(2025, 1, 15), 7, "sewage"))
    assert (row["number"], row["valid_from"], row["valid_to"]) == ("ВК-1", date(2025, 1, 15), None)


@pytest.mark.parametrize("current, new, valid_to, ok", [
    ("draft", "active", None, True), ("draft", "terminated", date(2025, 2, 1), True),
    ("active", "terminated", date(2025, 2, 1), True), ("active", "terminated", None, False),
    ("active", "draft", None, False), ("terminated", "active", date(2025, 2, 1), False),
    ("active", "active", None, True), ("active", "closed", None, False)])
def test_status_moves(current, new, valid_to, ok):
    if ok:
        assert check_status_move(current, new, valid_to) == new
    else:
        with pytest.raises(Invalid):
            check_status_move(current, new, valid_to)


def _point(**kw) -> PointIn:
    return PointIn(**{"object_id": 1, "kind": "supply", "name": "Ввод", "tariff_group": "other",
                      "valid_from": date(2025, 2, 1), "diameter_mm": 32, **kw})


@pytest.mark.parametrize("contract_kind, point_kind, ok", [
    ("cold_water", "supply", True), ("cold_water", "discharge", False), ("sewage", "discharge", True),
    ("sewage", "supply", False), ("combined", "supply", True), ("combined", "discharge", True),
    ("stormwater", "discharge", True), ("stormwater", "supply", False)])
def test_point_kinds_follow_the_contract_kind(contract_kind, point_kind, ok):
    contract = {**CONTRACT, "kind": contract_kind}
    if ok:
        assert check_point(_point(kind=point_kind), contract)["kind"] == point_kind
    else:
        with pytest.raises(Invalid) as refused:
            check_point(_point(kind=point_kind), contract)
        assert refused.value.field == "kind"


def test_a_supply_point_needs_its_diameter_a_discharge_point_may_omit_it():
    with pytest.raises(Invalid) as refused:
        check_point(_point(diameter_mm=None), CONTRACT)
    assert refused.value.field == "diameter_mm"
    assert check_point(_point(kind="discharge", diameter_mm=None), CONTRACT)["diameter_mm"] is None


def test_a_point_stays_within_its_contract():
    ended = {**CONTRACT, "valid_to": date(2025, 6, 30)}
    with pytest.raises(Invalid):
        check_point(_point(valid_to=date(2025, 7, 31)), ended)
    assert check_point(_point(valid_to=date(2025, 6, 30)), ended)["valid_to"] == date(2025, 6, 30)


def test_a_sub_subscriber_is_someone_else():
    with pytest.raises(Invalid) as refused:
        check_sub(SubIn(date(2025, 2, 1), sub_point_id=5), 5)
    assert refused.value.field == "sub_point_id"
    with pytest.raises(Invalid):
        check_sub(SubIn(date(2025, 2, 1)), 5)


@pytest.mark.parametrize("a, b, shared", [
    ((date(2025, 1, 1), None), (date(2026, 1, 1), None), True),
    ((date(2025, 1, 1), date(2025, 3, 31)), (date(2025, 4, 1), None), False),
    ((date(2025, 1, 1), date(2025, 3, 31)), (date(2025, 3, 31), date(2025, 5, 1)), True),
    ((date(2025, 4, 1), None), (date(2025, 1, 1), date(2025, 3, 31)), False)])
def test_overlaps(a, b, shared):
    assert overlaps(*a, *b) is shared
