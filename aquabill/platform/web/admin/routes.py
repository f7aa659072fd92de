"""Administration routes (API and pages), registered by the app factory."""

from __future__ import annotations

from aquabill.platform.web.admin import (
    audit_api,
    auth_api,
    divisions_api,
    jobs_api,
    pages,
    platform_api,
    users_api,
)

ROUTES = [
    *auth_api.ROUTES,
    *users_api.ROUTES,
    *audit_api.ROUTES,
    *jobs_api.ROUTES,
    *platform_api.ROUTES,
    *divisions_api.ROUTES,
    *pages.ROUTES,
]
