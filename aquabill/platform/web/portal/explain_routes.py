"""Explanation of charges on the portal (filled in by #13 work)."""

ROUTES: list = []
