"""Legal entities' pages and API (#16, resource "legal"): counterparties and contracts with their terms, sites,
points, meters and sub-subscribers. `routes.ROUTES` is what the app registers."""
