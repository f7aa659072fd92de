"""Legal entities' routes (API and pages), registered by the app factory."""

from __future__ import annotations

from aquabill.platform.web.legal_entities import (
    contract_api,
    contract_pages,
    counterparty_api,
    counterparty_pages,
)

ROUTES = [*counterparty_api.ROUTES, *contract_api.ROUTES, *counterparty_pages.ROUTES, *contract_pages.ROUTES]
