"""Report periods parsed from the user's input (months, quarters, two days) and the CSV dialect."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd.akt_sverki import file_id
from aquabill.channels.print.legal_report_common import money
from aquabill.legal_entities.reports.csv_out import to_csv
from aquabill.legal_entities.reports.periods import ReportPeriod, parse_period, previous_quarter
from aquabill.legal_entities.reports.sales_ledger import payment_number


def test_periods():
    assert parse_period(quarter_text="2026-Q1") == ReportPeriod(date(2026, 1, 1), date(2026, 3, 31))
    assert parse_period(quarter_text="2024-q4") == ReportPeriod(date(2024, 10, 1), date(2024, 12, 31))
    assert parse_period(month_text="2024-02") == ReportPeriod(date(2024, 2, 1), date(2024, 2, 29))
    assert parse_period("2026-01-10", "2026-01-20") == ReportPeriod(date(2026, 1, 10), date(2026, 1, 20))
    default = ReportPeriod(date(2026, 7, 1), date(2026, 9, 30))
    assert parse_period(default=default) is default
    assert previous_quarter(date(2026, 2, 10)) == ReportPeriod(date(2025, 10, 1), date(2025, 12, 31))
    assert previous_quarter(date(2026, 12, 7)) == ReportPeriod(date(2026, 7, 1), date(2026, 9, 30))


@pytest.mark.parametrize("kw", [
    {"quarter_text": "2026-Q5"}, {"quarter_text": "0000-Q1"}, {"month_text": "2026-13"}, {"month_text": "0000-01"},
    {"raw_from": "2026-02-30", "raw_to": "2026-03-01"}, {"raw_from": "2026-01-01"}, {},
    {"raw_from": "2026-03-01", "raw_to": "2026-01-01"}, {"raw_from": "2024-01-01", "raw_to": "2026-01-01"},
    {"raw_from": "1999-12-01", "raw_to": "1999-12-31"}, {"raw_from": "9999-12-01", "raw_to": "9999-12-31"},
])
def test_bad_periods_are_refused_in_russian(kw):
    with pytest.raises(Invalid) as exc:
        parse_period(**kw)
    assert any("а" <= ch <= "я" for ch in exc.value.message.lower())


def test_csv_dialect():
    content = to_csv(["Дата", "Сумма", "Текст"], [[date(2026, 1, 31), Decimal("1234.50"), 'с ; и "кавычки"'],
                                                  [None, Decimal("-0.01"), ""]])
    assert content == ('\ufeffДата;Сумма;Текст\r\n31.01.2026;1234,50;"с ; и ""кавычки"""\r\n;-0,01;\r\n'
                       ).encode("utf-8")


def test_small_pieces():
    assert money(Decimal("1234567.5")) == "1 234 567,50"
    assert money(Decimal("-12.3")) == "−12,30"
    assert payment_number("bank_1c", "20260205/123/40702810900000000001/01") == "123"
    assert payment_number("manual", "") == "б/н"
    fid = file_id("2BM-1", "2BM-2000", date(2026, 4, 2), "k")
    assert fid.startswith("ON_AKTSVEROTP_2BM-1_2BM-2000_20260402_") and len(fid.rsplit("_", 1)[1]) == 36
    assert file_id("2BM-1", "2BM-2000", date(2026, 4, 2), "k") == fid
    with pytest.raises(Invalid):
        file_id("", "2BM-2000", date(2026, 4, 2), "k")
