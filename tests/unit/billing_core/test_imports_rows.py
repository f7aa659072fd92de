"""Per-kind row specs: required columns, cell checks with Russian messages, duplicates, address prefixes."""

from datetime import date
from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from aquabill.billing_core.imports.addresses import Place, settlement, street
from aquabill.billing_core.imports.csvfile import CsvFileError, read_table
from aquabill.billing_core.imports.export import CHARGE_COLUMNS, charge_lines
from aquabill.billing_core.imports.loaders import pick_meter
from aquabill.billing_core.imports.report import ImportReport
from aquabill.billing_core.imports.rows import (
    KINDS,
    SPECS,
    AccountRow,
    MeterRow,
    ReadingRow,
    parse_rows,
    spec_of,
)


def parse(kind: str, text: str):
    return parse_rows(kind, read_table(text.encode()))


@pytest.mark.parametrize("raw, expected", [
    ("г. Тестовск", Place("г.", "Тестовск")), ("г.Тестовск", Place("г.", "Тестовск")),
    ("Г Тестовск", Place("г.", "Тестовск")), ("город  Тестовск", Place("г.", "Тестовск")),
    ("Тестовск", Place("г.", "Тестовск")), ("пгт Новый", Place("пгт", "Новый")),
    ("с. Ивановка", Place("с.", "Ивановка")), ("деревня Малая Речка", Place("д.", "Малая Речка")),
])
def test_settlement_prefixes(raw, expected):
    assert settlement(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("ул. Речная", Place("ул.", "Речная")), ("Речная", Place("ул.", "Речная")),
    ("пр-т Мира", Place("пр-т", "Мира")), ("проспект Мира", Place("пр-т", "Мира")),
    ("пер Школьный", Place("пер.", "Школьный")), ("Набережная", Place("ул.", "Набережная")),
    ("наб. Набережная", Place("наб.", "Набережная")), ("8 Марта", Place("ул.", "8 Марта")),
    ("ул.  8   Марта ", Place("ул.", "8 Марта")),
])
def test_street_prefixes(raw, expected):
    assert street(raw) == expected


def test_every_kind_has_a_spec_with_required_columns():
    assert KINDS == ("houses", "accounts", "parameters", "tariffs", "norms", "meters", "readings")
    assert SPECS["accounts"].required == ("account_number", "settlement", "street", "house", "opened_on")
    assert SPECS["readings"].required == ("serial", "read_on", "value")
    with pytest.raises(CsvFileError, match="Неизвестный вид загрузки"):
        spec_of("payments")


def test_missing_required_columns_reject_the_file():
    with pytest.raises(CsvFileError, match="Нет обязательных столбцов: opened_on"):
        parse("accounts", "account_number;settlement;street;house\n1;г. А;ул. Б;1\n")


def test_accounts_rows_parse_with_defaults_and_ignored_columns():
    p = parse("accounts",
              "account_number;settlement;street;house;apartment;area_m2;residents;holder;opened_on;comment\n"
              "ЛС1;г. Тестовск;ул. Речная;1;5;45,5;2;Иванов  Иван;01.02.2020;x\n"
              "ЛС2;Тестовск;Речная;1;;;;;2020-02-01;\n")
    assert p.errors == [] and p.lines == 2 and p.ignored_columns == ("comment",)
    assert p.rows == [
        (2, AccountRow("ЛС1", Place("г.", "Тестовск"), Place("ул.", "Речная"), "1", "5", D("45.5"), D(2),
                       "Иванов Иван", date(2020, 2, 1), None)),
        (3, AccountRow("ЛС2", Place("г.", "Тестовск"), Place("ул.", "Речная"), "1", "", None, None, "",
                       date(2020, 2, 1), None)),
    ]


@pytest.mark.parametrize("line, message", [
    (";г. А;ул. Б;1;;;;;2020-01-01", "Не заполнен столбец account_number"),
    ("1;г. А;ул. Б;1;;45,555;;;2020-01-01", "Столбец area_m2: в числе «45,555» больше 2 знаков после запятой"),
    ("1;г. А;ул. Б;1;;;-1;;2020-01-01", "Столбец residents: число -1 вне допустимого диапазона 0–999"),
    ("1;г. А;ул. Б;1;;;2,5;;2020-01-01", "Столбец residents: ожидается целое число"),
    ("1;г. А;ул. Б;1;;;;;2020-13-01", "Столбец opened_on: нет такой даты"),
    ("1;г. А;ул. Б;1;;;;;01/01/2020", "Столбец opened_on: дата «01/01/2020» не распознана"),
    ("1;г. А;ул. Б;" + "9" * 40 + ";;;;;2020-01-01", "Столбец house: слишком длинное значение"),
    ("1;г. А;ул. Б;1;;;;;2020-01-01;лишнее", "Значений больше, чем столбцов в заголовке (9)"),
])
def test_account_line_errors_name_the_column(line, message):
    p = parse("accounts", "account_number;settlement;street;house;apartment;area_m2;residents;holder;opened_on\n"
              + line + "\n")
    assert p.rows == [] and [e.line for e in p.errors] == [2]
    assert message in p.errors[0].error


def test_identical_lines_repeat_and_conflicting_lines_fail():
    p = parse("tariffs", "service;tariff_group;price;valid_from\n"
              "cold_water;;41,5;2024-01-01\n"
              "cold_water;population;41.50;01.01.2024\n"
              "cold_water;population;45;2024-01-01\n"
              "cold_water;population;45;2024-07-01\n")
    assert [line for line, _ in p.rows] == [2, 5]
    assert p.rows[0][1].tariff_group == "population"
    assert p.repeated == [(3, 2)]
    assert [(e.line, e.error) for e in p.errors] == [(4, "Строка повторяет строку 2 (тот же объект) с другими значениями")]


def test_meter_cross_column_checks():
    header = "account_number;service;serial;digits;installed_on;initial_reading;verified_until;removed_on\n"
    p = parse("meters", header + "ЛС1;cold_water;А-1;5;2024-01-10;10;2030-01-01;\n"
                                 "ЛС1;cold_water;А-2;5;2024-01-10;0;;2023-01-01\n"
                                 "ЛС1;cold_water;А-3;3;2024-01-10;1000;;\n"
                                 "ЛС1;cold_water;А-4;13;2024-01-10;;;\n")
    assert p.rows == [(2, MeterRow("ЛС1", "cold_water", "А-1", 5, date(2024, 1, 10), D(10), date(2030, 1, 1),
                                   None))]
    assert [e.error for e in p.errors] == [
        "Дата снятия счётчика раньше даты установки",
        "Начальное показание 1000 не помещается в 3 разрядов",
        "Столбец digits: число 13 вне допустимого диапазона 1–12",
    ]


def test_readings_source_and_signed_values():
    p = parse("readings", "serial,read_on,value,source\nА-1,2024-03-25,\"21,5\",\nА-1,2024-04-25,-3,BANK\n"
                          "А-1,2024-05-25,30,почта\n")
    assert [r for _, r in p.rows] == [ReadingRow("А-1", date(2024, 3, 25), D("21.5"), "import"),
                                      ReadingRow("А-1", date(2024, 4, 25), D(-3), "bank")]
    assert p.errors[0].line == 4 and "Столбец source: «почта» — допустимо: import, operator" in p.errors[0].error


def test_parameters_keep_the_raw_value_and_lower_the_code():
    p = parse("parameters", "account_number;parameter;value;valid_from\nЛС1;Residents;3;2024-01-01\n")
    assert p.rows[0][1].parameter == "residents" and p.rows[0][1].value == "3"


@pytest.mark.parametrize("meters, read_on, expected", [
    ([(1, date(2020, 1, 1), None)], date(2019, 1, 1), 1),  # the only one: its own validation rejects the date
    ([(1, date(2020, 1, 1), date(2023, 12, 31)), (2, date(2024, 1, 1), None)], date(2023, 6, 1), 1),
    ([(1, date(2020, 1, 1), date(2023, 12, 31)), (2, date(2024, 1, 1), None)], date(2024, 6, 1), 2),
    ([(1, date(2020, 1, 1), date(2023, 12, 31)), (2, date(2024, 1, 1), None)], date(2019, 6, 1), "не установлен"),
    ([(1, date(2020, 1, 1), None), (2, date(2021, 1, 1), None)], date(2022, 6, 1), "носят 2 счётчика"),
    ([], date(2022, 6, 1), "не найден"),
])
def test_meter_is_picked_by_serial_and_life(meters, read_on, expected):
    if isinstance(expected, int):
        assert pick_meter("А-1", read_on, meters) == expected
    else:
        with pytest.raises(ValueError, match=expected):
            pick_meter("А-1", read_on, meters)


def test_report_counts_and_json():
    r = ImportReport("accounts", lines=4)
    r.mark(2, "inserted")
    r.mark(3, "unchanged")
    r.fail(5, "Лицевой счёт 123 не найден")
    r.mark(4, "updated")
    r.warn(4, "проверьте")
    d = r.as_dict(max_errors=0)
    assert (d["inserted"], d["updated"], d["unchanged"], d["failed"]) == (1, 1, 1, 1)
    assert d["errors"] == [] and d["errors_total"] == 1
    assert r.as_dict()["errors"] == [{"line": 5, "error": "Лицевой счёт 123 не найден"}]
    assert r.as_dict()["warnings"] == [{"line": 4, "warning": "проверьте"}]
    assert "с ошибками: 1" in r.summary()


def test_charge_lines():
    row = SimpleNamespace(account_number="ЛС1", service="cold_water", period=date(2024, 3, 1), method="meter",
                          volume=D("5.000"), tariff=D("41.5000"), amount=D("207.50"), corrects_period=None)
    fix = SimpleNamespace(**{**vars(row), "method": "recalculation", "amount": D("-10.00"),
                             "corrects_period": date(2024, 1, 1)})
    text = "".join(charge_lines([row, fix]))
    assert text == ("\ufeff" + ";".join(CHARGE_COLUMNS) + "\r\n"
                    "ЛС1;cold_water;2024-03;meter;5.000;41.5000;207.50;\r\n"
                    "ЛС1;cold_water;2024-03;recalculation;5.000;41.5000;-10.00;2024-01\r\n")
    assert "".join(charge_lines([row], header=False)).startswith("ЛС1;")
