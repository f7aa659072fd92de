"""Acquiring: the acquirer's API client (yookassa.py, the `subscribers.acquirer.Acquirer` of ЮKassa) and the
payment flow around it (flow.py: attempt → acquirer → outcome in their own transactions; notifications,
read-backs, refunds)."""
