"""Payments routes (API and pages), registered by the app factory."""

from __future__ import annotations

from aquabill.platform.web.payments import (
    balance_pages,
    balances_api,
    file_pages,
    payment_pages,
    payments_api,
)

ROUTES = [
    *payments_api.ROUTES,
    *payment_pages.ROUTES,
    *file_pages.ROUTES,
    *balances_api.ROUTES,
    *balance_pages.ROUTES,
]
