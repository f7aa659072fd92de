"""VAT as a dated rule and the per-line rounding, as worked examples computed by hand."""

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.base.errors import Invalid
from aquabill.legal_entities import vat
from aquabill.legal_entities.vat import (
    NO_VAT,
    VAT_0,
    VAT_10,
    VAT_10_110,
    VAT_20,
    VAT_20_120,
    VAT_22,
    VAT_22_122,
    Amounts,
)


@pytest.mark.parametrize(("day", "rate"), [
    (date(2019, 1, 1), VAT_20), (date(2025, 12, 31), VAT_20), (date(2026, 1, 1), VAT_22), (date(2030, 6, 1), VAT_22),
])
def test_general_rate_is_dated(day, rate):
    assert vat.general_rate(day) == rate


def test_general_rate_before_the_rules():
    with pytest.raises(Invalid) as exc:
        vat.general_rate(date(2018, 12, 31))
    assert exc.value.message == "Ставка НДС на 31.12.2018 не определена (правила с 01.01.2019)"


@pytest.mark.parametrize(("day", "base", "rate"), [
    (date(2025, 12, 31), None, VAT_20_120), (date(2026, 1, 1), None, VAT_22_122), (date(2026, 3, 5), VAT_10, VAT_10_110),
])
def test_advance_rate(day, base, rate):
    assert vat.advance_rate(day, base) == rate


@pytest.mark.parametrize(("rate", "day", "message"), [
    (VAT_22, date(2025, 12, 31), "Ставка НДС 22% на 31.12.2025 не применяется: она действует с 01.01.2026 без срока "
                                 "(НК РФ ст. 164 п. 3 в ред. 425-ФЗ от 28.11.2025)"),
    (VAT_20, date(2026, 1, 1), "Ставка НДС 20% на 01.01.2026 не применяется: она действует с 01.01.2019 по "
                               "31.12.2025 (НК РФ ст. 164 п. 3 в ред. 303-ФЗ от 03.08.2018)"),
    (VAT_22_122, date(2025, 12, 1), "Ставка НДС 22/122 на 01.12.2025 не применяется: она действует с 01.01.2026 "
                                    "без срока (НК РФ ст. 164 п. 4 в ред. 425-ФЗ от 28.11.2025)"),
])
def test_rate_out_of_force_is_refused(rate, day, message):
    with pytest.raises(Invalid) as exc:
        vat.check_in_force(rate, day)
    assert exc.value.message == message


def test_undated_rates_always_apply():
    for rate in (VAT_0, VAT_10, NO_VAT, VAT_10_110):
        assert vat.check_in_force(rate, date(2026, 7, 1)) == rate


@pytest.mark.parametrize(("label", "rate"), [("22%", VAT_22), ("22 %", VAT_22), ("22/122", VAT_22_122),
                                             ("без НДС", NO_VAT), ("Без  НДС", NO_VAT), ("0%", VAT_0)])
def test_rate_by_label(label, rate):
    assert vat.rate_by_label(label) == rate


def test_unknown_rate_label():
    with pytest.raises(Invalid) as exc:
        vat.rate_by_label("18%")
    assert exc.value.message.startswith("Ставка НДС «18%» не поддерживается; допустимы: 0%, 5%, 7%, 10%, 20%, 22%")


@pytest.mark.parametrize(("net", "rate", "expected"), [
    (D("1000.00"), VAT_22, Amounts(D("1000.00"), D("220.00"), D("1220.00"))),
    (D("1000.00"), VAT_20, Amounts(D("1000.00"), D("200.00"), D("1200.00"))),
    (D("1000.00"), VAT_10, Amounts(D("1000.00"), D("100.00"), D("1100.00"))),
    (D("1000.00"), VAT_0, Amounts(D("1000.00"), D("0.00"), D("1000.00"))),
    (D("1000.00"), NO_VAT, Amounts(D("1000.00"), None, D("1000.00"))),
    # 0.75 × 22 % = 0.165: half-up gives 0.17 (banker's rounding would give 0.16)
    (D("0.75"), VAT_22, Amounts(D("0.75"), D("0.17"), D("0.92"))),
])
def test_vat_added_to_net(net, rate, expected):
    assert vat.from_net(net, rate) == expected


@pytest.mark.parametrize(("gross", "rate", "expected"), [
    (D("1220.00"), VAT_22, Amounts(D("1000.00"), D("220.00"), D("1220.00"))),
    # 100 × 22/122 = 18.0327… → 18.03
    (D("100.00"), VAT_22, Amounts(D("81.97"), D("18.03"), D("100.00"))),
    # an advance: 50 000 × 22/122 = 9016.3934… → 9016.39
    (D("50000.00"), VAT_22_122, Amounts(D("40983.61"), D("9016.39"), D("50000.00"))),
    (D("12000.00"), VAT_20_120, Amounts(D("10000.00"), D("2000.00"), D("12000.00"))),
    (D("500.00"), NO_VAT, Amounts(D("500.00"), None, D("500.00"))),
])
def test_vat_split_from_gross(gross, rate, expected):
    assert vat.from_gross(gross, rate) == expected


def test_water_line_from_price_without_vat():
    """125.5 m³ × 52.37 ₽ = 6572.435 → 6572.44; 22 % = 1445.9368 → 1445.94; with VAT 8018.38."""
    assert vat.line_amounts(D("125.5"), D("52.37"), VAT_22, price_includes_vat=False) == \
        Amounts(D("6572.44"), D("1445.94"), D("8018.38"))


def test_water_line_from_price_with_vat():
    """10 m³ × 61.00 ₽ with VAT = 610.00; 610 × 22/122 = 110.00; without VAT 500.00."""
    assert vat.line_amounts(D("10"), D("61.00"), VAT_22, price_includes_vat=True) == \
        Amounts(D("500.00"), D("110.00"), D("610.00"))


def test_totals_are_sums_of_rounded_lines():
    """Three lines of 0.75 at 22 %: each VAT 0.17, total 0.51 — not round(2.25 × 22 %) = 0.50."""
    lines = [vat.from_net(D("0.75"), VAT_22)] * 3
    assert vat.total(lines) == Amounts(D("2.25"), D("0.51"), D("2.76"))


def test_totals_exempt_only_when_every_line_is():
    exempt = vat.from_net(D("100.00"), NO_VAT)
    taxed = vat.from_net(D("100.00"), VAT_22)
    assert vat.total([exempt, exempt]) == Amounts(D("200.00"), None, D("200.00"))
    assert vat.total([exempt, taxed]) == Amounts(D("200.00"), D("22.00"), D("222.00"))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: vat.from_net(D("100.00"), VAT_22_122), "Расчётная ставка 22/122 применяется к сумме с НДС, не к сумме без налога"),
    (lambda: vat.from_net(D("-1.00"), VAT_22), "Сумма без НДС не может быть отрицательной: -1.00"),
    (lambda: vat.from_gross(D("10.005"), VAT_22), "Сумма с НДС 10.005 точнее копейки"),
    (lambda: vat.line_amounts(D("0"), D("10"), VAT_22, price_includes_vat=False), "Количество должно быть больше нуля: 0"),
])
def test_bad_amounts_are_refused(call, message):
    with pytest.raises(Invalid) as exc:
        call()
    assert exc.value.message == message
