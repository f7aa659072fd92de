"""The paid-for period as bank files and receipt QR codes write it."""

from __future__ import annotations

import re

from aquabill.billing_core.periods import Period

_FORMS = (
    (re.compile(r"^(\d{2})(\d{2})$"), "my2"),  # MMYY (bank registries)
    (re.compile(r"^(\d{2})(\d{4})$"), "my4"),  # MMYYYY (GOST R 56042 PaymPeriod)
    (re.compile(r"^(\d{1,2})[./-](\d{4})$"), "my4"),  # MM.YYYY, MM/YYYY, MM-YYYY
    (re.compile(r"^(\d{1,2})[./](\d{2})$"), "my2"),  # MM.YY, MM/YY
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "ym"),  # YYYY-MM
)


def parse_payment_period(raw: str) -> Period:
    """`MMYY`, `MMYYYY`, `MM.YYYY`, `MM/YYYY`, `MM.YY` or `YYYY-MM` → the billing month.
    Two-digit years are 20YY."""
    text = raw.strip()
    for pattern, form in _FORMS:
        m = pattern.match(text)
        if not m:
            continue
        a, b = (int(g) for g in m.groups())
        year, month = (b, a) if form == "my4" else (2000 + b, a) if form == "my2" else (a, b)
        try:
            return Period(year, month)
        except ValueError:
            break
    raise ValueError(f"период «{text}» не распознан: ожидается ММГГГГ, ММГГ или ММ.ГГГГ")


def format_payment_period(period: Period) -> str:
    """The GOST R 56042 form, `MMYYYY`."""
    return f"{period.month:02d}{period.year:04d}"
