"""The acquirer's notifications (webhook) and the payment return page."""

ROUTES: list = []
