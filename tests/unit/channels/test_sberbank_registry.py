"""Sberbank-style payment registries: encodings, the default layout, partial failure, the trailer check.

The files in tests/data/sberbank are synthetic (no public sample exists; see their README.md)."""

from datetime import date, time
from decimal import Decimal as D
from pathlib import Path

import pytest

from aquabill.billing_core.periods import Period
from aquabill.channels.bank_files import (
    BankFileError,
    MeterReading,
    RegistryLayout,
    RegistryPayment,
    parse_registry,
    read_registry,
)
from aquabill.channels.bank_files.common import checksum

DATA = Path(__file__).resolve().parents[2] / "data" / "sberbank"
LINE = "15-11-2026;10:15:03;8638/0123;К-17;{op};0000101;Иванов И. И.;1026;{amount};{commission}"


def _registry(*lines: str) -> bytes:
    return "\n".join(lines).encode()


def test_good_cp1251_registry_is_read_whole():
    data = (DATA / "registry_good_cp1251.txt").read_bytes()
    result = parse_registry(data)
    assert result.encoding == "cp1251" and result.accepted and not result.errors and not result.warnings
    assert result.checksum == checksum(data) and len(result.checksum) == 64
    assert result.operation_ids == ("100000000001", "100000000002", "100000000003")
    assert result.total_amount == D("4330.50") and result.total_commission == D("23.31")
    first = result.payments[0]
    assert (first.line, first.paid_on, first.paid_time) == (1, date(2026, 11, 15), time(10, 15, 3))
    assert (first.branch, first.cashier, first.account, first.period) == (
        "8638/0123", "КАССИР-17", "0000101", Period(2026, 10))
    assert first.payer_address.startswith("Иванов Иван Иванович, г. Приозёрск")
    assert (first.amount, first.commission) == (D("1500.00"), D("15.00"))
    assert first.readings == (MeterReading("ХВ-123456", D("123.45")), MeterReading("ГВ-654321", D("67.8")))
    assert result.payments[1].amount == D("830.50")  # decimal comma
    assert result.trailer is not None and (result.trailer.count, result.trailer.amount) == (3, D("4330.50"))


def test_same_registry_in_utf8_gives_the_same_payments_and_another_checksum():
    cp1251 = (DATA / "registry_good_cp1251.txt").read_bytes()
    utf8 = cp1251.decode("cp1251").encode("utf-8")
    a, b = parse_registry(cp1251), parse_registry(utf8)
    assert b.encoding == "utf-8" and a.payments == b.payments and a.checksum != b.checksum
    assert parse_registry(b"\xef\xbb\xbf" + utf8).payments == a.payments


def test_partial_failure_keeps_good_lines_and_reports_every_bad_one():
    result = parse_registry((DATA / "registry_partial_utf8.txt").read_bytes())
    assert result.operation_ids == ("200000000001", "200000000005")
    assert result.lines_read == 8
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "дата платежа «31-11-2026» не существует"),
        (3, "не заполнено поле «лицевой счёт»"),
        (4, "сумма платежа -50.00 должна быть больше нуля"),
        (5, "операция 200000000001 повторяется (уже в строке 1)"),
        (7, "полей 3, а по описанию реестра должно быть не меньше 10"),
        (8, "время «25:00:00» не существует; период «1326» не распознан: ожидается ММГГГГ, ММГГ или ММ.ГГГГ"),
    ]
    assert all(e.text for e in result.errors)  # the raw line is kept
    assert [(w.line, "ХВ-777:abc" in w.message) for w in result.warnings] == [(6, True)]
    assert result.payments[1].readings == ()
    # line 7 has no amount at all: the trailer total cannot be checked, so the registry is not accepted
    assert not result.accepted
    assert result.file_errors[0] == "Итоговая строка 9: не сверить, сумма платежей не читается в строках 7"


def test_trailer_matching_counts_refused_lines_too():
    data = _registry(LINE.format(op=1, amount="100.00", commission="1.00"),
                     LINE.format(op=2, amount="-5.00", commission="0"),
                     "=2;95.00;1.00")
    result = parse_registry(data)
    assert result.accepted and result.operation_ids == ("1",) and [e.line for e in result.errors] == [2]


@pytest.mark.parametrize("trailer, message", [
    ("=3;100.00", "указано строк 3, в реестре 1"),
    ("=1;100.01", "сумма платежей 100.01, а по строкам реестра 100.00"),
    ("=1;100.00;2.00", "сумма комиссии 2.00, а по строкам реестра 1.00"),
    ("=x;100.00", "итоговая строка не читается: число строк «x» не целое"),
])
def test_trailer_mismatch_rejects_the_registry(trailer, message):
    result = parse_registry(_registry(LINE.format(op=1, amount="100.00", commission="1.00"), trailer))
    assert not result.accepted and message in result.file_errors[0]
    assert result.operation_ids == ("1",)  # still reported, nothing lost


def test_lines_after_the_trailer_and_a_second_trailer_are_file_errors():
    result = parse_registry(_registry(LINE.format(op=1, amount="1.00", commission="0"), "=1;1.00",
                                      LINE.format(op=2, amount="1.00", commission="0"), "=2;2.00"))
    assert [e.split(":")[0] for e in result.file_errors[:2]] == ["Строка 3", "Строка 4"]
    assert not result.accepted and result.operation_ids == ("1", "2")


def test_missing_trailer_is_an_error_only_when_the_layout_requires_it():
    data = _registry(LINE.format(op=1, amount="1.00", commission="0"))
    assert parse_registry(data).accepted
    result = parse_registry(data, RegistryLayout(trailer_required=True))
    assert not result.accepted and "нет итоговой строки" in result.file_errors[0]


def test_blank_lines_are_skipped_and_line_numbers_are_physical():
    result = parse_registry(_registry("", LINE.format(op=7, amount="1", commission=""), "  ", "=1;1.00"))
    assert [p.line for p in result.payments] == [2] and result.payments[0].amount == D("1.00")
    assert result.payments[0].commission == D("0.00") and result.accepted


def test_a_layout_from_an_agent_contract():
    layout = RegistryLayout(
        columns=("date", "time", "branch", "office", "cashier", "operation_id", "account", "payer", "address",
                 "period", "amount", "commission", "transferred"),
        readings=False, encoding="cp1251",
    )
    line = "01.12.2026;08:00;8638;0123;77;OP-1;0000101;Иванов И. И.;ул. Ленина, 1-5;122026;200,00;2,00;198,00"
    result = parse_registry(line.encode("cp1251"), layout)
    p = result.payments[0]
    assert (p.office, p.payer, p.address, p.transferred, p.period) == (
        "0123", "Иванов И. И.", "ул. Ленина, 1-5", D("198.00"), Period(2026, 12))
    extra = parse_registry((line + ";лишнее").encode("cp1251"), layout)
    assert extra.errors[0].message == "лишнее поле «лишнее» после 13 полей"


@pytest.mark.parametrize("kwargs, message", [
    ({"columns": ("date", "operation_id", "account")}, "нет обязательных столбцов: amount"),
    ({"columns": ("date", "operation_id", "account", "amount", "sum")}, "Неизвестные столбцы реестра: sum"),
    ({"columns": ("date", "operation_id", "account", "amount", "account")}, "указан дважды"),
])
def test_bad_layouts_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RegistryLayout(**kwargs)


@pytest.mark.parametrize("data, message", [
    (b"", "нет ни одной строки"),
    (b"\r\n  \r\n", "нет ни одной строки"),
    (b"=0;0.00", "нет ни одной строки"),
])
def test_empty_registries_are_refused(data, message):
    with pytest.raises(BankFileError, match=message):
        parse_registry(data)


def test_a_wrong_explicit_encoding_is_a_file_error():
    with pytest.raises(BankFileError, match="не читается в кодировке utf-8"):
        parse_registry("Иванов".encode("cp1251"), RegistryLayout(encoding="utf-8"))


def test_trailer_checks_the_transferred_total_when_the_layout_has_it():
    layout = RegistryLayout(columns=("date", "operation_id", "account", "amount", "commission", "transferred"))
    lines = ("01.12.2026;1;0000101;100.00;1.00;99.00", "01.12.2026;2;0000102;50.00;;50.00")
    assert parse_registry(_registry(*lines, "=2;150.00;1.00;149.00"), layout).accepted
    result = parse_registry(_registry(*lines, "=2;150.00;1.00;150.00"), layout)
    assert result.file_errors == ("Итоговая строка 3: сумма к перечислению 150.00, а по строкам реестра 149.00",)


EDGE_LINES = (
    LINE.format(op=1, amount="100.00", commission="1.00"),
    LINE.format(op=2, amount="100,5", commission=""),
    LINE.format(op=3, amount="+7", commission="0"),
    LINE.format(op=1, amount="1.00", commission="0"),  # repeated operation
    LINE.format(op=4, amount="0.00", commission="0"),
    LINE.format(op=5, amount="1.001", commission="0"),
    LINE.format(op=6, amount="1 000.00", commission="0"),
    LINE.format(op=7, amount="10.00", commission="-1.00"),
    LINE.format(op=8, amount="10.00", commission="x"),
    LINE.format(op=9, amount="", commission="0"),
    LINE.format(op="", amount="10.00", commission="0"),
    LINE.format(op=10, amount="10.00", commission="0") + ";ХВ-1:12.5;;ГВ-2:3,25",
    LINE.format(op=11, amount="10.00", commission="0") + ";ХВ-1:abc",
    LINE.format(op=12, amount="10.00", commission="0").replace("15-11-2026", "31.11.2026"),
    LINE.format(op=13, amount="10.00", commission="0").replace("15-11-2026", "2026-11-15"),
    LINE.format(op=14, amount="10.00", commission="0").replace("10:15:03", "24:00"),
    LINE.format(op=15, amount="10.00", commission="0").replace("10:15:03", ""),
    LINE.format(op=16, amount="10.00", commission="0").replace(";1026;", ";13.2026;"),
    LINE.format(op=17, amount="10.00", commission="0").replace(";1026;", ";;"),
    LINE.format(op=18, amount="10.00", commission="0").replace(";0000101;", ";;"),
    "15-11-2026;10:15:03;8638;К-17;19",
    "  " + LINE.format(op=20, amount=" 5.00 ", commission=" ") + "  ",
    "=21;1000.00",
    LINE.format(op=22, amount="10.00", commission="0"),
)


@pytest.mark.parametrize("layout", [
    RegistryLayout(),
    RegistryLayout(readings=False),
    RegistryLayout(columns=("date", "time", "branch", "cashier", "operation_id", "account", "payer", "period",
                            "amount", "transferred")),
])
def test_the_fast_path_reads_every_line_as_the_full_checks_do(layout):
    data = _registry(*EDGE_LINES)
    fast, full = read_registry(data, layout), read_registry(data, layout, fast=False)
    assert fast == full
    assert len(fast.rows) > 3 and fast.errors and fast.file_errors
    assert parse_registry(data, layout).payments == tuple(RegistryPayment(*r) for r in full.rows)
