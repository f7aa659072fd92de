"""Reading CSV files from old systems: encoding, BOM, separators, line numbers, dates and decimals."""

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.billing_core.imports.csvfile import (
    CsvFileError,
    normalise_column,
    parse_date,
    parse_decimal,
    parse_int,
    read_table,
    sniff_separator,
)


@pytest.mark.parametrize("header, sep", [
    ("a;b;c", ";"), ("a,b,c", ","), ("a\tb\tc", "\t"), ("a;b,c;d", ";"), ("single", ","), ("a;b,c", ";"),
])
def test_separator_is_sniffed_from_the_header(header, sep):
    assert sniff_separator(header) == sep


@pytest.mark.parametrize("data", [
    "serial;read_on;value\r\nХВ-1;2024-03-25;21,5\r\n".encode(),
    "\ufeffserial;read_on;value\nХВ-1;2024-03-25;21,5\n".encode(),
    'serial,read_on,value\nХВ-1,2024-03-25,"21,5"\n'.encode(),
    " Serial ; Read On ;VALUE\n\nХВ-1;2024-03-25;21,5\n".encode(),
])
def test_bom_separators_and_header_names(data):
    table = read_table(data)
    assert table.columns == ("serial", "read_on", "value")
    assert [r.cells for r in table.records] == [{"serial": "ХВ-1", "read_on": "2024-03-25", "value": "21,5"}]


def test_line_numbers_count_physical_lines_with_the_header_as_line_1():
    table = read_table(b'a;b\n1;x\n\n2;"multi\nline"\n3;y\n')
    assert [(r.line, r.cells["a"]) for r in table.records] == [(2, "1"), (4, "2"), (6, "3")]
    assert table.records[1].cells["b"] == "multi\nline"


def test_short_rows_are_padded_and_long_rows_flagged():
    table = read_table(b"a;b;c\n1\n1;2;3;4\n1;2;3;\n")
    assert table.records[0].cells == {"a": "1", "b": "", "c": ""} and not table.records[0].extra
    assert table.records[1].extra and not table.records[2].extra


@pytest.mark.parametrize("data, message", [
    (b"", "Файл пуст"),
    (b"\n\n  \n", "Файл пуст"),
    ("a;b\n1;2\n".encode("cp1251") + "Иванов".encode("cp1251"), "не в кодировке UTF-8"),
    (b"a;a\n1;2\n", "повторяется"),
    (b"a;;b\n1;2;3\n", "пустое название"),
])
def test_unreadable_files(data, message):
    with pytest.raises(CsvFileError, match=message):
        read_table(data)


def test_column_names_are_normalised():
    assert normalise_column("\ufeff Account Number ") == "account_number"
    assert normalise_column("area-m2") == "area_m2"


@pytest.mark.parametrize("raw, expected", [
    ("2024-03-05", date(2024, 3, 5)), ("05.03.2024", date(2024, 3, 5)), ("5.3.2024", date(2024, 3, 5)),
    (" 2024-3-5 ", date(2024, 3, 5)), ("29.02.2024", date(2024, 2, 29)),
])
def test_dates(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("2024/03/05", "не распознана"), ("05-03-2024", "не распознана"), ("31.02.2024", "нет такой даты"),
    ("01.01.1812", "вне допустимого"), ("вчера", "не распознана"), ("05.03.24", "не распознана"),
])
def test_bad_dates(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_date(raw)


@pytest.mark.parametrize("raw, expected", [
    ("21.5", D("21.5")), ("21,5", D("21.5")), ("1 234,56", D("1234.56")), ("1\u00a0234.5", D("1234.5")),
    ("0", D(0)), ("10", D(10)), ("12.3400", D("12.34")), ("+7", D(7)),
])
def test_decimals(raw, expected):
    assert parse_decimal(raw, scale=2, below=D(10) ** 8) == expected


@pytest.mark.parametrize("raw, kwargs, message", [
    ("1.2.3", {}, "не распознано"), ("1,234.5", {}, "не распознано"), ("1e5", {}, "не распознано"),
    ("abc", {}, "не распознано"), ("1.234", {}, "больше 2 знаков"), ("-1", {}, "отрицательное"),
    ("100000000", {}, "слишком большое"), ("NaN", {}, "не распознано"), ("", {}, "не распознано"),
])
def test_bad_decimals(raw, kwargs, message):
    with pytest.raises(ValueError, match=message):
        parse_decimal(raw, scale=2, below=D(10) ** 8, **kwargs)


def test_negative_decimals_when_allowed():
    assert parse_decimal("-3,5", scale=1, below=D(100), minimum=None) == D("-3.5")


@pytest.mark.parametrize("raw, ok", [("5", True), ("05", True), ("0", False), ("5.0", False), ("x", False),
                                     ("201", False)])
def test_integers(raw, ok):
    if ok:
        assert parse_int(raw, low=1, high=200) == 5
    else:
        with pytest.raises(ValueError):
            parse_int(raw, low=1, high=200)
