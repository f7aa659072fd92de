"""Online payment from the portal and from payment links (`payment_pages.py`): the pay form, the payment
link page, the return page and its status."""

from __future__ import annotations

from aquabill.platform.web.portal import payment_pages

ROUTES = [*payment_pages.ROUTES]
