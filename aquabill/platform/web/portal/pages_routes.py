"""The signed-in portal pages and their JSON API (`/api/my/…`):

pages_accounts:  `/my` (the accounts with balance and debt by service), `/my/accounts/{id}` (charges and
                 payments), `/my/accounts/{id}/receipt?period=ГГГГ-ММ` (the receipt staff print);
pages_readings:  `/my/readings`, `/my/accounts/{id}/readings` (meters, today's reading with a photo,
                 history), `/my/readings/{reading_id}/photo`;
pages_messages:  `/my/appeals` (list, new appeal), `/my/inbox` (notifications, mark read);
pages_settings:  `/my/settings` (paperless receipts, preferred channel);
pages_api:       the same over JSON.

Pages not signed in redirect to `/my/login?next=…`; the API answers 401 (`pages_common`).
"""

from aquabill.platform.web.portal import (
          pages_accounts,
          pages_api,
          pages_messages,
          pages_readings,
          pages_receipt_pdf,
          pages_settings,
)

ROUTES = [*pages_accounts.ROUTES, *pages_receipt_pdf.ROUTES, *pages_readings.ROUTES, *pages_messages.ROUTES, *pages_settings.ROUTES,
          *pages_api.ROUTES]
