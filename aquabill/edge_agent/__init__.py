"""The on-site agent connecting cash hardware outbound to the cloud (installable alone: aquabill[edge]).

It imports nothing from the server side (enforced by import-linter)."""
