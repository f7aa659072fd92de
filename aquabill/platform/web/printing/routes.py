"""The printing area's routes (collected by the app factory)."""

from aquabill.platform.web.printing import account_pdf, api, files, pages

ROUTES = [*pages.ROUTES, *api.ROUTES, *files.ROUTES, *account_pdf.ROUTES]
