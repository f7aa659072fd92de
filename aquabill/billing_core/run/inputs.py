"""The inputs a computed charge row keeps (t0025), so that it can explain itself (explain.py): SQL pieces
shared by the two paths of the month run (compute.py, single.py), common property and posting.

Typed columns, filled by the same INSERT … SELECT that writes the row (a jsonb built for every row would
double the cost of writing a million rows; NULL columns cost a bit in the row's null bitmap). Each row
keeps only the inputs of its method: the reading interval for 'meter', the last reading and the average for
'average', the norm and persons for 'norm', the meter's failure day when it had failed. A row merging several
day segments (only the segment path makes those) keeps them in `inputs` as {"segments": [...]}, built only
for such rows."""

from __future__ import annotations

# the columns, in the order every branch selects them (run_charge and charges have them all)
COLUMNS = ("seg_from", "meter_id", "read_from", "value_from", "read_to", "value_to", "last_read_on", "broken_from",
           "avg_volume", "avg_months", "norm", "persons", "absent", "area", "inputs")
TYPES = {"seg_from": "date", "meter_id": "int", "read_from": "date", "value_from": "numeric", "read_to": "date",
         "value_to": "numeric", "last_read_on": "date", "broken_from": "date", "avg_volume": "numeric",
         "avg_months": "smallint", "norm": "numeric", "persons": "numeric", "absent": "numeric", "area": "numeric",
         "inputs": "jsonb"}
# the columns of one segment (all but area and inputs)
SEGMENT = COLUMNS[:-2]


def select(values: dict[str, str]) -> str:
    """`expr AS column` for every column, NULL (typed) where `values` has none."""
    return ", ".join(f"{values[c]} AS {c}" if c in values else f"NULL::{TYPES[c]} AS {c}" for c in COLUMNS)


def water(method: str, s: str, meter: str, rd_from: str, val_from: str, rd_to: str, val_to: str, last_on: str,
          broken_from: str, avg: str, avg_months: str, norm: str, persons: str, absent: str) -> dict[str, str]:
    """A water segment's inputs, given the SQL expressions of its method and attributes: only those of its method."""
    return {
        "seg_from": s, "meter_id": meter,
        "read_from": f"CASE WHEN {method} = 'meter' THEN {rd_from} END",
        "value_from": f"CASE WHEN {method} = 'meter' THEN {val_from} END",
        "read_to": f"CASE WHEN {method} = 'meter' THEN {rd_to} END",
        "value_to": f"CASE WHEN {method} = 'meter' THEN {val_to} END",
        "last_read_on": f"CASE WHEN {method} <> 'meter' THEN {last_on} END",
        "broken_from": f"CASE WHEN {broken_from} <= {s} THEN {broken_from} END",
        "avg_volume": f"CASE WHEN {method} = 'average' THEN {avg} END",
        "avg_months": f"CASE WHEN {method} = 'average' THEN {avg_months} END",
        "norm": f"CASE WHEN {method} = 'norm' THEN {norm} END",
        "persons": f"CASE WHEN {method} = 'norm' THEN {persons} END",
        "absent": f"CASE WHEN {method} = 'norm' AND {meter} IS NULL AND {absent} > 0 THEN {absent} END",
    }


def sewage(s: str, norm: str, persons: str) -> dict[str, str]:
    """A sewage segment's inputs: its norm and persons when the tenant bills sewage by norm (else its volume is
    the water's, explained by the water rows)."""
    return {"seg_from": s, "norm": f"CASE WHEN :sewage_by_norm THEN {norm} END",
            "persons": f"CASE WHEN :sewage_by_norm THEN {persons} END"}


def merged() -> str:
    """The input columns of a row aggregated over the segments of a subquery that has the segment columns, `volume`,
    `days` and `n` (the number of segments in the row's group): the segment's own values when there is one,
    else `inputs` = {"segments": [...]} (built only for those rows: the FILTER skips the others)."""
    one = ", ".join(f"CASE WHEN count(*) = 1 THEN min({c}) END AS {c}" for c in SEGMENT)
    keys = ", ".join(f"'{c}', {c}" for c in SEGMENT[1:])
    segment = (f"jsonb_strip_nulls(jsonb_build_object('from', seg_from, 'to', seg_from + days - 1, 'days', days, "
               f"'volume', round(volume, 6), {keys}))")
    return (f"{one}, NULL::numeric AS area, CASE WHEN count(*) > 1 THEN jsonb_build_object('segments', "
            f"jsonb_agg({segment} ORDER BY seg_from) FILTER (WHERE n > 1)) END AS inputs")
