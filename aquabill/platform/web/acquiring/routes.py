"""Online payment, staff side and the acquirer's side, registered by the app factory.

webhook:          the acquirer's notifications `POST /api/acquiring/yookassa/{tenant_slug}` (no session).
settings_routes:  the tenant's ЮKassa shop (page /acquiring, API /api/acquiring/…), payments/admin.
online_api:       online payments over the API (`/api/online-payments`, refund, check), payments view/edit.
online_pages:     the staff pages `/payments/online` and one payment with its refunds.
fiscal_routes:    cloud fiscalization of online payments (ATOL Online): `/acquiring/cloud-fiscal`, `/api/cloud-fiscal/…`.
(The subscribers' side — the pay form, the payment link page and the return page — is in
`platform/web/portal/payment_routes.py`.)
"""

from __future__ import annotations

from aquabill.platform.web.acquiring import fiscal_routes, online_api, online_pages, settings_routes, webhook

ROUTES = [*webhook.ROUTES, *settings_routes.ROUTES, *online_api.ROUTES, *online_pages.ROUTES, *fiscal_routes.ROUTES]
