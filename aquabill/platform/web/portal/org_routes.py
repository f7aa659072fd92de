"""The organisations' part of the portal (#16), registered with the portal's routes:

org_pages:   `/my/org`, `/my/org/link`, `/my/org/{id}` (contracts and balance), `/my/org/{id}/documents` and the
             documents' XML and PDF;
org_meters:  `/my/org/{id}/meters` (readings of the commercial meters), `/my/org/{id}/reconciliation`.
"""

from aquabill.platform.web.portal import org_meters, org_pages

ROUTES = [*org_pages.ROUTES, *org_meters.ROUTES]
