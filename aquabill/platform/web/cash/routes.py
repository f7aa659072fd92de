"""The cash area's routes: each module's ROUTES list."""

from __future__ import annotations

from aquabill.platform.web.cash.edge_routes import ROUTES as EDGE
from aquabill.platform.web.cash.points_api import ROUTES as POINTS_API
from aquabill.platform.web.cash.points_pages import ROUTES as POINTS_PAGES

POINTS = [*POINTS_API, *POINTS_PAGES]

ROUTES = [*EDGE, *POINTS]

# the cash desk: the cashier's workstation and its API, shifts, the cash book and orders, third parties' services
from aquabill.platform.web.cash import book_pages, desk_api, desk_pages, desk_shifts, services_pages  # noqa: E402

DESK = [*desk_pages.ROUTES, *desk_api.ROUTES, *desk_shifts.ROUTES, *book_pages.ROUTES, *services_pages.ROUTES]
ROUTES += DESK
