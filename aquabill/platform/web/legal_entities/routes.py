"""Legal entities' routes (API and pages), registered by the app factory."""

from __future__ import annotations

from aquabill.platform.web.legal_entities import (
    calc_api,
    calc_pages,
    contract_api,
    contract_pages,
    counterparty_api,
    counterparty_pages,
    document_api,
    document_pages,
    edo_api,
    edo_pages,
    org_access_api,
    org_access_pages,
    payment_api,
    payment_pages,
    penalty_api,
    penalty_pages,
    report_api,
    report_pages,
    turnover_pages,
)

ROUTES = [*counterparty_api.ROUTES, *contract_api.ROUTES, *counterparty_pages.ROUTES, *contract_pages.ROUTES,
          *org_access_api.ROUTES, *org_access_pages.ROUTES]
ROUTES += [*edo_api.ROUTES, *edo_pages.ROUTES]
ROUTES += [*penalty_api.ROUTES, *penalty_pages.ROUTES]
ROUTES += [*document_api.ROUTES, *document_pages.ROUTES]
ROUTES += [*report_api.ROUTES, *report_pages.ROUTES]
ROUTES += [*payment_api.ROUTES, *payment_pages.ROUTES, *turnover_pages.ROUTES]
ROUTES += [*calc_api.ROUTES, *calc_pages.ROUTES]
