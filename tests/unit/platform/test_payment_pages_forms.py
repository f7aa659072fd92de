"""Reading the payments pages' form values: amounts as people type them, dates in both spellings."""

from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.base.errors import Invalid as PageError
from aquabill.platform.web.payments.payment_pages import parse_amount, parse_date


@pytest.mark.parametrize(("raw", "value"), [
    ("1500", D("1500")), ("1 500,00", D("1500.00")), ("1\u00a0500,5", D("1500.5")), ("1\u202f234,56", D("1234.56")),
    ("0.01", D("0.01")), ("-5", D("-5")), ("", None), ("   ", None)])
def test_amounts(raw, value):
    assert parse_amount(raw) == value


@pytest.mark.parametrize("raw", ["десять", "1,2,3", "NaN", "Infinity", "1e"])
def test_bad_amounts(raw):
    with pytest.raises(PageError, match="Сумма: ожидается число"):
        parse_amount(raw)


@pytest.mark.parametrize(("raw", "value"), [
    ("2026-11-05", date(2026, 11, 5)), ("05.11.2026", date(2026, 11, 5)), (" 2024-02-29 ", date(2024, 2, 29)),
    ("", None)])
def test_dates(raw, value):
    assert parse_date(raw, "paid_on", "Дата") == value


@pytest.mark.parametrize("raw", ["2026-13-01", "31.02.2026", "вчера", "5.11.26"])
def test_bad_dates(raw):
    with pytest.raises(PageError, match="Дата: ожидается дата ДД.ММ.ГГГГ") as exc:
        parse_date(raw, "paid_on", "Дата")
    assert exc.value.field == "paid_on"
