"""Portal routes (filled in by #13 work)."""

ROUTES: list = []
