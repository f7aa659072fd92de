"""Billing routes (API and pages), registered by the app factory."""

from __future__ import annotations

from aquabill.platform.web.billing import (
    accounts_api,
    adjustments_api,
    card_api,
    card_pages,
    close_pages,
    delivery_api,
    explain_api,
    imports_api,
    layout_pages,
    links_api,
    meters_api,
    month_close_api,
    penalties_api,
    receipt_pages,
    receipts_api,
    reference_api,
    reference_pages,
    run_pages,
    runs_api,
)

ROUTES = [
    *accounts_api.ROUTES,
    *imports_api.ROUTES,
    *reference_api.ROUTES,
    *reference_pages.ROUTES,
    *card_api.ROUTES,
    *meters_api.ROUTES,
    *runs_api.ROUTES,
    *card_pages.ROUTES,
    *run_pages.ROUTES,
    *adjustments_api.ROUTES,
    *receipts_api.ROUTES,
    *receipt_pages.ROUTES,
    *penalties_api.ROUTES,
    *month_close_api.ROUTES,
    *close_pages.ROUTES,
    *links_api.ROUTES,
    *explain_api.ROUTES,
    *delivery_api.ROUTES, *layout_pages.ROUTES,
]
