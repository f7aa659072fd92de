"""The one-pass path of the month run for the accounts with one segment (nothing changes in the month), at most
one meter per service and the tenant's default services: most accounts. compute.py routes every other account
(`run_gen`) through the segment path; the expressions here are the segment path's, so both give the same rows.

- `run_fm`: each meter's reading interval covering the segment's first day, its last reading and the method;
- `run_par`: the parameters valid on that day, for the few accounts that have any;
- `single_charges()`: one statement from the accounts to the charge rows (water, then sewage from the water
  volumes), with no table per segment in between.
"""

from __future__ import annotations

from aquabill.billing_core.run import inputs
from aquabill.billing_core.run.months import mi

# their meters: the reading interval covering the segment's first day, the last reading, the method
SINGLE_METERS = f"""CREATE TEMP TABLE run_fm ON COMMIT DROP AS
        SELECT account_id, service_id, meter_id, s, broken_from, rate, last_on, first_on, rd_from, val_from, rd_to,
               val_to, CASE
              WHEN broken_from <= s THEN CASE WHEN k_broken < :avg_periods THEN 'average' ELSE 'norm' END
              WHEN rate IS NOT NULL OR s < first_on THEN 'meter'
              WHEN k_silent <= :avg_periods THEN 'average'
              ELSE 'norm' END AS method
        FROM (
          SELECT m.account_id, m.service_id, m.meter_id, r.a_from AS s, m.broken_from, iv.rate, l.last_on, l.first_on,
                 iv.prev_on AS rd_from, iv.prev_value AS val_from, iv.read_on AS rd_to, iv.value AS val_to,
                 {mi('r.a_from')} - {mi('m.broken_from')} AS k_broken, {mi('r.a_from')} - {mi('l.last_on')} AS k_silent
          FROM run_meter m JOIN run_acc r ON r.account_id = m.account_id
          LEFT JOIN run_iv iv ON iv.meter_id = m.meter_id AND iv.prev_on < r.a_from AND iv.read_on >= r.a_from
          LEFT JOIN run_last l ON l.meter_id = m.meter_id
          WHERE m.installed_on <= r.a_from AND coalesce(m.removed_on, 'infinity') >= r.a_from
            AND NOT EXISTS (SELECT 1 FROM run_gen x WHERE x.account_id = m.account_id)) q"""

# an account's parameters on day g.s: residents, owners, improvement, tariff group, meter possible
# (shared with the segment path's ATTRIBUTES)
PARAMETER_JOINS = """
        LEFT JOIN account_parameters pr ON pr.account_id = g.account_id AND pr.kind = 'residents'
             AND pr.valid_from <= g.s AND coalesce(pr.valid_to, 'infinity') >= g.s
        LEFT JOIN account_parameters po ON po.account_id = g.account_id AND po.kind = 'owners'
             AND po.valid_from <= g.s AND coalesce(po.valid_to, 'infinity') >= g.s
        LEFT JOIN account_parameters pi ON pi.account_id = g.account_id AND pi.kind = 'improvement'
             AND pi.valid_from <= g.s AND coalesce(pi.valid_to, 'infinity') >= g.s
        LEFT JOIN account_parameters pt ON pt.account_id = g.account_id AND pt.kind = 'tariff_group'
             AND pt.valid_from <= g.s AND coalesce(pt.valid_to, 'infinity') >= g.s
        LEFT JOIN account_parameters pm ON pm.account_id = g.account_id AND pm.kind = 'meter_possible'
             AND pm.valid_from <= g.s AND coalesce(pm.valid_to, 'infinity') >= g.s"""

# their parameters on the segment's first day, for the accounts that have any
SINGLE_PARAMETERS = """CREATE TEMP TABLE run_par ON COMMIT DROP AS
        SELECT g.account_id, pr.value_num AS residents, po.value_num AS owners, pi.value_text AS improvement,
               pt.value_text AS tariff_group, pm.value_num AS meter_possible
        FROM (SELECT account_id, a_from AS s FROM run_acc r
              WHERE account_id IN (SELECT account_id FROM account_parameters)
                AND NOT EXISTS (SELECT 1 FROM run_gen x WHERE x.account_id = r.account_id)) g
""" + PARAMETER_JOINS

# their attributes (as ATTRIBUTES computes them for a segment)
SINGLE_ATTRIBUTES = """SELECT r.account_id, r.a_from AS s, r.a_to - r.a_from + 1 AS days,
               coalesce(par.residents, nullif(reg.n, 0), par.owners, 0) AS persons,
               coalesce(ab.n, 0) AS absent,
               coalesce(par.improvement, r.house_improvement, '') AS improvement,
               coalesce(par.tariff_group, 'population') AS tariff_group,
               coalesce(par.meter_possible, 1) <> 0 AS meter_possible
        FROM run_acc r
        LEFT JOIN run_par par ON par.account_id = r.account_id
        LEFT JOIN (SELECT x.account_id, count(*) AS n FROM run_acc r2 JOIN residents x
                   ON x.account_id = r2.account_id AND x.registered_from <= r2.a_from
                   AND coalesce(x.registered_to, 'infinity') >= r2.a_from GROUP BY 1) reg
             ON reg.account_id = r.account_id
        LEFT JOIN (SELECT x.account_id, sum(x.persons) AS n FROM run_acc r2 JOIN absences x
                   ON x.account_id = r2.account_id AND x.date_from <= r2.a_from AND x.date_to >= r2.a_from
                   AND x.date_to - x.date_from + 1 >= :absence_min_days GROUP BY 1) ab
             ON ab.account_id = r.account_id
        WHERE NOT EXISTS (SELECT 1 FROM run_gen x WHERE x.account_id = r.account_id)"""


UNION_ALL = """
        UNION ALL
        """


def single_charges(water: list[tuple[int, str]], sewage: list[int]) -> str:
    """The charge rows of the one-segment accounts in one statement: a row per account with every service's lookups
    side by side (the tenant's default-connected water services `water` as (id, kind), and sewage services
    `sewage`; sewage = the sum of the water volumes), then a row per service. The expressions are those of the
    segment path (run_wv, run_charge)."""
    cols, rows = [], []
    joins = []
    for i, (sid, kind) in enumerate(water):
        joins.append(f"""
            LEFT JOIN run_fm f{i} ON f{i}.account_id = g.account_id AND f{i}.service_id = {sid}
            LEFT JOIN run_avg a{i} ON a{i}.meter_id = f{i}.meter_id AND a{i}.n_months >= :avg_min_months
            LEFT JOIN run_norm n{i} ON n{i}.service_id = {sid} AND n{i}.improvement = g.improvement
                 AND n{i}.vf <= g.s AND g.s < n{i}.vt
            LEFT JOIN run_tariff t{i} ON t{i}.service_id = {sid} AND t{i}.tariff_group = g.tariff_group
                 AND t{i}.vf <= g.s AND g.s < t{i}.vt
            LEFT JOIN run_coef k{i} ON k{i}.service_kind = '{kind}' AND k{i}.vf <= g.s AND g.s < k{i}.vt""")
        cols.append(f"""
            f{i}.meter_id AS meter{i}, f{i}.rate AS rate{i}, a{i}.avg_monthly AS avg{i}, n{i}.volume AS norm{i},
            a{i}.n_months AS avgn{i}, f{i}.rd_from AS rdf{i}, f{i}.val_from AS vf{i}, f{i}.rd_to AS rdt{i},
            f{i}.val_to AS vt{i}, f{i}.last_on AS last{i}, f{i}.broken_from AS broken{i},
            t{i}.price AS tariff{i}, CASE WHEN f{i}.method = 'average' AND a{i}.avg_monthly IS NULL THEN 'norm'
                                          ELSE coalesce(f{i}.method, 'norm') END AS method{i},
            CASE WHEN (f{i}.meter_id IS NULL AND g.meter_possible) OR (f{i}.meter_id IS NOT NULL AND f{i}.broken_from <= g.s)
                 THEN coalesce(k{i}.value, 1) ELSE 1 END AS coef{i}""")
    for i, sid in enumerate(sewage):
        joins.append(f"""
            LEFT JOIN run_norm ns{i} ON ns{i}.service_id = {sid} AND ns{i}.improvement = g.improvement
                 AND ns{i}.vf <= g.s AND g.s < ns{i}.vt
            LEFT JOIN run_tariff ts{i} ON ts{i}.service_id = {sid} AND ts{i}.tariff_group = g.tariff_group
                 AND ts{i}.vf <= g.s AND g.s < ts{i}.vt""")
        cols.append(f"""
            ns{i}.volume AS snorm{i}, ts{i}.price AS stariff{i}""")
    vols = []
    for i, _ in enumerate(water):
        vols.append(f"""
            CASE method{i} WHEN 'meter' THEN coalesce(rate{i}, 0) * days WHEN 'average' THEN avg{i} * days / :nd
              ELSE norm{i} * CASE WHEN meter{i} IS NULL THEN greatest(persons - absent, 0) ELSE persons END * days / :nd
              END AS volume{i}, CASE WHEN method{i} = 'norm' THEN coef{i} ELSE 1 END AS coefficient{i}""")
        kept = inputs.select(inputs.water(f"method{i}", "s", f"meter{i}", f"rdf{i}", f"vf{i}", f"rdt{i}", f"vt{i}",
                                          f"last{i}", f"broken{i}", f"avg{i}", f"avgn{i}", f"norm{i}", "persons",
                                          "absent"))
        rows.append(f"""SELECT account_id, {water[i][0]}, method{i}, round(volume{i}, 3), tariff{i}, coefficient{i},
               round(volume{i} * tariff{i} * coefficient{i}, 2), days, volume{i} IS NULL, {kept} FROM q""")
    cold = [f"method{i}" for i, (_, kind) in enumerate(water) if kind == "cold_water"]
    every = [f"method{i}" for i in range(len(water))]
    wmethod = f"coalesce(least({', '.join(cold)}), least({', '.join(every)}))" if cold else (
        f"least({', '.join(every)})" if every else "NULL")
    wsum = " + ".join(f"coalesce(volume{i}, 0)" for i in range(len(water))) or "0"
    for i, sid in enumerate(sewage):
        kept = inputs.select(inputs.sewage("s", f"snorm{i}", "persons"))
        rows.append(f"""SELECT account_id, {sid}, method, round(volume, 3), stariff{i}, 1, round(volume * stariff{i}, 2), days,
               volume IS NULL, {kept}
        FROM (SELECT account_id, days, stariff{i}, s, snorm{i}, persons,
                     CASE WHEN :sewage_by_norm THEN 'norm' ELSE coalesce({wmethod}, 'norm') END AS method,
                     CASE WHEN :sewage_by_norm THEN snorm{i} * persons * days / :nd ELSE {wsum} END AS volume
              FROM q) sv{i}""")
    if not rows:
        return "SELECT 1"
    return f"""INSERT INTO run_charge(account_id, service_id, method, volume, tariff, coefficient, amount, days,
                               incomplete, {", ".join(inputs.COLUMNS)})
        WITH q AS MATERIALIZED (
          SELECT *, {", ".join(vols)}
          FROM (
            SELECT g.account_id, g.s, g.days, g.persons, g.absent, {", ".join(cols)}
            FROM ({SINGLE_ATTRIBUTES}) g
            {"".join(joins)}
            OFFSET 0) p)
        {UNION_ALL.join(rows)}"""
