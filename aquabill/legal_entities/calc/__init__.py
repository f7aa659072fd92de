"""Legal entities' month calculation (#16): volumes per contract point by the commercial metering rules, money by
the dated tariffs, set-based over the whole tenant.

`rules` — the norms as pure functions and constants (dated, cited); `compute` — the SQL building the month's lines
in temp tables; `run` — `run_month` (the guard against two runs, replace or recalculate, `legal_runs`);
`explain` — a line's `details` as Russian text; `store` — reading runs and charges, the precipitation of a month.
"""
