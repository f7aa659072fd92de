"""Pure rules behind the reference and account-card APIs: coefficient precedence, number checks,
meter, resident and absence checks."""

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.base.errors import DomainError
from aquabill.billing_core.metering.meters import MeterInstall, check_install, meter_state
from aquabill.billing_core.metering.reading_entry import parse_reading_value
from aquabill.billing_core.reference.coefficients import Coefficient, coefficient_on, timeline
from aquabill.billing_core.reference.dated import check_number
from aquabill.billing_core.registry.absences import check_absence
from aquabill.billing_core.registry.residents import check_resident

FED_2017 = Coefficient(1, "cold_water", D("1.5"), date(2017, 1, 1), "federal")
FED_2025 = Coefficient(2, "cold_water", D("3"), date(2025, 12, 6), "federal")


@pytest.mark.parametrize("rows,day,expected", [
    ([FED_2017, FED_2025], date(2016, 12, 31), None),
    ([FED_2017, FED_2025], date(2025, 12, 5), FED_2017),
    ([FED_2017, FED_2025], date(2025, 12, 6), FED_2025),
    # a tenant row on the federal row's own day wins
    ([FED_2025, FED_2017, Coefficient(3, "cold_water", D("1.5"), date(2025, 12, 6), "tenant")], date(2026, 1, 1),
     Coefficient(3, "cold_water", D("1.5"), date(2025, 12, 6), "tenant")),
    # an earlier override holds until the next federal change
    ([FED_2017, FED_2025, Coefficient(4, "cold_water", D("2"), date(2020, 1, 1), "tenant")], date(2025, 1, 1),
     Coefficient(4, "cold_water", D("2"), date(2020, 1, 1), "tenant")),
    ([FED_2017, FED_2025, Coefficient(4, "cold_water", D("2"), date(2020, 1, 1), "tenant")], date(2026, 1, 1),
     FED_2025),
])
def test_coefficient_in_force(rows, day, expected):
    assert coefficient_on(rows, day) == expected


def test_timeline_segments_are_contiguous():
    tenant = Coefficient(3, "cold_water", D("1.5"), date(2025, 12, 6), "tenant")
    line = timeline([FED_2025, tenant, FED_2017])
    assert [(e.coefficient.id, e.valid_from, e.valid_to) for e in line] == [
        (1, date(2017, 1, 1), date(2025, 12, 5)), (3, date(2025, 12, 6), None)]


@pytest.mark.parametrize("value,ok", [(D("0"), True), (D("12.3456"), True), (D("12.34567"), False),
                                      (D("-0.01"), False), (D("100"), False), (D("NaN"), False)])
def test_check_number(value, ok):
    if ok:
        assert check_number(value, field="price", label="Тариф", scale=4, maximum=D(100)) == value
    else:
        with pytest.raises(DomainError) as err:
            check_number(value, field="price", label="Тариф", scale=4, maximum=D(100))
        assert err.value.field == "price" and err.value.message.startswith("Тариф: ")


@pytest.mark.parametrize("changes,field", [
    ({"serial": " "}, "serial"), ({"digits": 0}, "digits"), ({"fraction_digits": 5}, "fraction_digits"),
    ({"initial_reading": D("100000")}, "initial_reading"), ({"initial_reading": D("1.0001")}, "initial_reading"),
    ({"verified_until": date(2024, 1, 1)}, "verified_until"), ({"seal_number": "П-1"}, "sealed_on"),
    ({"seal_number": "П-1", "sealed_on": date(2023, 12, 31)}, "sealed_on"),
])
def test_meter_installation_checks(changes, field):
    base = {"serial": "ХВ-1", "installed_on": date(2024, 1, 1)}
    check_install(MeterInstall(**base))
    with pytest.raises(DomainError) as err:
        check_install(MeterInstall(**{**base, **changes}))
    assert err.value.field == field


def test_meter_state_order():
    m = {"removed_on": None, "failed_on": None, "verified_until": date(2024, 6, 1)}
    assert meter_state(m, date(2024, 5, 1)) == "active"
    assert meter_state(m, date(2024, 7, 1)) == "verification_overdue"
    assert meter_state({**m, "failed_on": date(2024, 6, 15)}, date(2024, 7, 1)) == "failed"
    assert meter_state({**m, "failed_on": date(2024, 6, 15), "removed_on": date(2024, 6, 20)}, date(2024, 7, 1)) == "removed"


@pytest.mark.parametrize("raw,value", [("12,5", D("12.5")), (" 1 234.125 ", D("1234.125")), (7, D(7))])
def test_reading_value_typed_by_a_person(raw, value):
    assert parse_reading_value(raw) == value


@pytest.mark.parametrize("raw", ["abc", "", "1,2,3", "inf"])
def test_reading_value_that_is_not_a_number(raw):
    with pytest.raises(DomainError, match="не является числом"):
        parse_reading_value(raw)


def test_absence_is_at_least_one_full_day():
    check_absence(1, date(2024, 3, 1), date(2024, 3, 1), "")
    with pytest.raises(DomainError, match="не короче одного полного дня") as err:
        check_absence(1, date(2024, 3, 2), date(2024, 3, 1), "")
    assert err.value.field == "date_to"
    with pytest.raises(DomainError, match="Число отсутствующих"):
        check_absence(0, date(2024, 3, 1), date(2024, 3, 5), "")


def test_resident_checks():
    ok = {"full_name": " Иванов ", "kind": "temporary", "registered_from": date(2024, 1, 1), "registered_to": None,
          "birth_date": date(2024, 1, 1)}
    assert check_resident(ok)["full_name"] == "Иванов"
    for changes, field in (({"full_name": ""}, "full_name"), ({"kind": "x"}, "kind"),
                           ({"registered_from": None}, "registered_from"),
                           ({"registered_to": date(2023, 12, 31)}, "registered_to"),
                           ({"birth_date": date(2024, 1, 2)}, "birth_date")):
        with pytest.raises(DomainError) as err:
            check_resident({**ok, **changes})
        assert err.value.field == field
