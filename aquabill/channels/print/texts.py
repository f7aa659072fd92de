"""How figures and months read on a printed receipt (Russian conventions: 1 234,56; май 2026 г.)."""

from __future__ import annotations

from decimal import Decimal

from aquabill.billing_core.periods import Period

MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
          "ноябрь", "декабрь")


def money(value: Decimal) -> str:
    """1 234,56 (a group of thousands split by a space, the minus sign a real minus)."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace("-", "−")


def volume(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.3f}".replace(",", " ").replace(".", ",").replace("-", "−")


def tariff(value: Decimal | None) -> str:
    """Two decimals, more only when the tariff has them (45,1234)."""
    if value is None:
        return ""
    shown = value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value.normalize()
    return f"{shown:,f}".replace(",", " ").replace(".", ",")


def month(period: Period) -> str:
    """«май 2026 г.»"""
    return f"{MONTHS[period.month - 1]} {period.year} г."
