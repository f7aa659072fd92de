"""The calculation's norms: capacity formula, day split, the average's window and time limits, stormwater, the
meter interval's cumulative rounding, the explanation texts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from aquabill.legal_entities.calc.explain import explain, num
from aquabill.legal_entities.calc.rules import (
    Piece,
    add_months,
    average_basis,
    capacity_daily_m3,
    gap_pieces,
    meter_part,
    round_money,
    split_days,
    stormwater_m3,
)


def test_capacity_is_the_pipes_section_at_1_2_m_s_round_the_clock():
    # π × 0.025² / 4 = 0.000490874 m² × 1.2 m/s × 86 400 s = 50.894 m³ a day
    assert capacity_daily_m3(25) == D("50.894")
    assert capacity_daily_m3(15) == D("18.322")
    assert capacity_daily_m3(100) == D("814.301")


def test_split_days_at_tariff_and_version_changes():
    assert split_days(date(2026, 7, 1), date(2026, 7, 31), [date(2026, 7, 10), date(2026, 7, 1), date(2026, 8, 1)]) \
        == [(date(2026, 7, 1), date(2026, 7, 9)), (date(2026, 7, 10), date(2026, 7, 31))]
    assert split_days(date(2026, 2, 1), date(2026, 2, 28), []) == [(date(2026, 2, 1), date(2026, 2, 28))]


def test_meter_interval_parts_add_up_to_the_difference():
    diff, prev_on, read_on = D("100"), date(2026, 10, 20), date(2026, 11, 22)  # 33 days
    parts = [meter_part(diff, prev_on, read_on, s, e) for s, e in (
        (date(2026, 10, 21), date(2026, 10, 31)), (date(2026, 11, 1), date(2026, 11, 9)),
        (date(2026, 11, 10), date(2026, 11, 22)))]
    assert parts == [D("33.333"), D("27.273"), D("39.394")] and sum(parts) == diff


def test_average_basis_is_the_last_year_or_the_shorter_period():
    assert average_basis(date(2026, 10, 31), date(2024, 12, 31)) == (date(2025, 10, 31), date(2026, 10, 31))
    assert average_basis(date(2026, 10, 31), date(2025, 12, 31)) == (date(2025, 12, 31), date(2026, 10, 31))
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_average_for_missing_readings_for_6_months_then_capacity():
    assert gap_pieces(date(2027, 4, 1), date(2027, 4, 30), date(2026, 10, 31), None) == [
        Piece("average", "no_readings", date(2027, 4, 1), date(2027, 4, 30))]
    assert gap_pieces(date(2027, 5, 1), date(2027, 5, 31), date(2026, 10, 31), None) == [
        Piece("capacity", "no_readings_6m", date(2027, 5, 1), date(2027, 5, 31))]


def test_average_for_a_faulty_meter_60_days_then_capacity():
    assert gap_pieces(date(2026, 11, 1), date(2026, 11, 30), date(2026, 10, 31), date(2026, 11, 11)) == [
        Piece("average", "no_readings", date(2026, 11, 1), date(2026, 11, 10)),
        Piece("average", "failed", date(2026, 11, 11), date(2026, 11, 30))]
    assert gap_pieces(date(2027, 1, 1), date(2027, 1, 31), date(2026, 10, 31), date(2026, 11, 11)) == [
        Piece("average", "failed", date(2027, 1, 1), date(2027, 1, 9)),
        Piece("capacity", "failed_60d", date(2027, 1, 10), date(2027, 1, 31))]


def test_stormwater_area_times_precipitation_times_runoff():
    assert stormwater_m3(D("1000"), D("42.4"), D("0.5"), 30, 30) == D("21.200")
    assert stormwater_m3(D("2500.50"), D("61.3"), D("0.85"), 10, 31) == D("42.029")
    assert round_money(D("21.200") * D("30.0000")) == D("636.00")
    assert round_money(D("0.005")) == D("0.01")  # half-up


def test_explanations_in_russian():
    assert num(D("1234.500")) == "1\u00a0234,5" and num(D("1100.000")) == "1\u00a0100,0" and num(D("0.125")) == "0,125"
    meter = {"serial": "77", "from_on": "2026-10-31", "from_value": 1100.0, "to_on": "2026-11-30",
             "to_value": 1234.5, "diff": 134.5, "interval_days": 30, "days": 30}
    assert explain("meter", meter) == ("По прибору учёта № 77: 1\u00a0234,5 − 1\u00a0100,0 = 134,5 м³ с 01.11.2026 по "
                                       "30.11.2026 (30 дн.).")
    capacity = {"diameter_mm": 25, "capacity_daily": 50.894, "days": 30, "reason": "unmetered"}
    assert explain("capacity", capacity).startswith(
        "По пропускной способности трубы Ø 25 мм (точка без прибора учёта): π × d² / 4 × 1,2 м/с × 24 ч = "
        "50,894 м³/сут × 30 дн.")
    average = {"serial": "9", "reason": "failed", "basis_volume": 608, "basis_days": 304,
               "basis_from": "2025-12-31", "basis_to": "2026-10-31", "avg_daily": 2.0, "days": 20}
    assert explain("average", average).startswith(
        "Среднесуточный объём (прибор учёта неисправен; прибор учёта № 9): 608,0 м³ за 304 дн. с 31.12.2025 по "
        "31.10.2026 = 2,0 м³/сут × 20 дн.")
