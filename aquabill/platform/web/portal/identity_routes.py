"""Portal routes of the subscribers' identity: sign-in pages and API (identity_pages, identity_api) and the
subscriber's accounts (identity_links)."""

from __future__ import annotations

from aquabill.platform.web.portal import identity_api, identity_links, identity_pages

ROUTES: list = [*identity_pages.ROUTES, *identity_api.ROUTES, *identity_links.ROUTES]
