"""The subscribers' portal (`/my/…`) and its API (`/api/my/…`), registered by the app factory.

identity_routes: registration, confirmation, login, logout, password reset, account links.
pages_routes:    the signed-in pages (balance, charges and their explanation, payments, receipts, readings,
                 appeals, inbox, settings) and their API.
payment_routes:  online payment from the portal (start, return page).
explain_routes:  how each charge was computed, in plain Russian.
staff_rules:     the staff page and API of the tenant's portal rules (reading window, link check).
"""

from __future__ import annotations

from aquabill.platform.web.portal import (
          explain_routes,
          identity_routes,
          org_routes,
          pages_routes,
          payment_routes,
          receipt_choice,
          staff_rules,
)

ROUTES = [*identity_routes.ROUTES, *pages_routes.ROUTES, *payment_routes.ROUTES, *explain_routes.ROUTES,
          *staff_rules.ROUTES, *receipt_choice.ROUTES, *org_routes.ROUTES]
