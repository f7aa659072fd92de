"""Code 128 of the receipt's cash-desk barcode: symbol values, check symbol, widths, the digits' layout."""

from decimal import Decimal as D

import pytest

from aquabill.channels.print import code128
from aquabill.channels.print.code128 import START_B, START_C, Code128Error


def _check(values: list[int]) -> int:
    return (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103


def test_digits_are_subset_c_pairs():
    values = code128.encode("00000010012305260000354000")
    assert values[0] == START_C
    assert values[1:-1] == [0, 0, 0, 10, 1, 23, 5, 26, 0, 0, 35, 40, 0]
    assert values[-1] == _check(values[:-1])


def test_text_is_subset_b_and_long_digit_runs_switch_to_c():
    assert code128.encode("PJJ123C") == [START_B, 48, 42, 42, 17, 18, 19, 35, 55]  # 3 digits: stay in B
    values = code128.encode("AB123456")
    assert values[:3] == [START_B, 33, 34] and values[3] == code128.CODE_C and values[4:7] == [12, 34, 56]
    assert code128.encode("12") == [START_C, 12, _check([START_C, 12])]


@pytest.mark.parametrize("data", ["00000010012305260000354000", "AB-12345x", "1234567", "7"])
def test_widths_add_up(data):
    values = code128.encode(data)
    widths = code128.modules(data)
    assert sum(widths) == 11 * len(values) + 13 == code128.width(data)
    assert len(widths) == 6 * len(values) + 7
    assert sum(w for _, w in code128.bars(data)) == sum(widths[0::2])


@pytest.mark.parametrize("data", ["", "счёт 1", "tab\there"])
def test_what_code128_cannot_carry(data):
    with pytest.raises(Code128Error):
        code128.encode(data)


def test_receipt_digits():
    assert code128.receipt_barcode("00100123", 5, 2026, D("3540.00")) == "000000100123" "0526" "0000354000"
    assert code128.receipt_barcode("7", 12, 2019, D("0.00")) == "000000000007" "1219" "0000000000"
    assert code128.receipt_barcode("АБ-123", 5, 2026, D("1.00")) is None  # not digits
    assert code128.receipt_barcode("1234567890123", 5, 2026, D("1.00")) is None  # longer than 12
    assert code128.receipt_barcode("123", 5, 2026, D("100000000.00")) is None  # over 10 digits of kopecks
