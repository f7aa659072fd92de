"""The month's document lines and dates, pure: grouping into lines with VAT per line, the rate of the shipment
day, the due day from the payment terms, the earliest issue day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aquabill.base.errors import Invalid
from aquabill.legal_entities.issue.lines import ChargeGroup, build_lines, check_issue_day, due_on, month_end


def group(volume: str, price: str, *, included: bool = False, vat: bool = True, service: str = "Водоотведение"):
    return ChargeGroup(1, service, date(2025, 12, 1), Decimal(price), included, vat, Decimal(volume))


def test_the_rate_is_that_of_the_shipment_day():
    [dec] = build_lines([group("10", "50")], date(2025, 12, 31))
    [jan] = build_lines([group("10", "50")], date(2026, 1, 31))
    assert (dec.line.rate.label, dec.line.amounts.vat) == ("20%", Decimal("100.00"))
    assert (jan.line.rate.label, jan.line.amounts.vat) == ("22%", Decimal("110.00"))


def test_a_price_with_vat_is_split_and_the_line_keeps_the_net_price():
    [ln] = build_lines([group("3", "33.33", included=True)], date(2026, 1, 31))
    # 3 × 33.33 = 99.99 with VAT; 99.99 × 22/122 = 18.0309… → 18.03; net 81.96
    assert (ln.line.amounts.net, ln.line.amounts.vat, ln.line.amounts.gross) == (
        Decimal("81.96"), Decimal("18.03"), Decimal("99.99"))
    assert ln.line.price == Decimal("27.32")


def test_without_vat_zero_lines_dropped_negative_refused():
    lines = build_lines([group("0", "10"), group("2.5", "10", vat=False)], date(2026, 1, 31))
    assert [(b.line.number, b.line.rate.label, b.line.amounts.gross) for b in lines] == [(1, "без НДС",
                                                                                        Decimal("25.00"))]
    with pytest.raises(Invalid, match="отрицателен"):
        build_lines([group("-1", "10")], date(2026, 1, 31))


def test_due_days():
    assert due_on(date(2026, 11, 1), {"due_day": 10}) == date(2026, 12, 10)
    assert due_on(date(2026, 12, 1), None) == date(2027, 1, 10)  # Decree 644 p. 16 default
    assert due_on(date(2027, 1, 1), {"due_day": 31}) == date(2027, 2, 28)


def test_issue_day():
    assert month_end(date(2028, 2, 1)) == date(2028, 2, 29)
    assert check_issue_day(date(2026, 11, 1), None) == date(2026, 11, 30)
    assert check_issue_day(date(2026, 11, 1), date(2026, 12, 3)) == date(2026, 12, 3)
    with pytest.raises(Invalid):
        check_issue_day(date(2026, 11, 1), date(2026, 11, 29))
