"""Contact-center routes (API and pages), registered by the app factory."""

from __future__ import annotations

from aquabill.platform.web.contact_center import (
    appeals_api,
    appeals_pages,
    calls_api,
    calls_pages,
    console_api,
    console_pages,
    mailbox_pages,
    requests_api,
    requests_pages,
    work_calendar_api,
)

ROUTES = [
    *console_api.ROUTES,
    *console_pages.ROUTES,
    *calls_api.ROUTES,
    *calls_pages.ROUTES,
    *appeals_api.ROUTES,
    *appeals_pages.ROUTES,
    *mailbox_pages.ROUTES,
    *requests_api.ROUTES,
    *requests_pages.ROUTES,
    *work_calendar_api.ROUTES,
]
