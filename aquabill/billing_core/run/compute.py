"""Set-based computation of a month's charges (Decree 354 rules) into the temp table `run_charge`.

The month is cut, per account, at every day on which anything relevant changes (parameters,
registrations, absences, service connections, meter installation/removal/failure/verification,
reading dates, tariffs, norms, coefficients). Each segment [s, e] is then charged for its days:

- meter:   daily rate of the reading interval (prev, next] containing the segment × days
- average: average monthly metered volume (up to 6 full calendar months covered by readings, at least
           3) × days / days in month — for at most 3 periods after the last reading (readings not
           submitted), or for the first 3 periods after a meter failed or its verification lapsed
- norm:    norm × persons × days / days in month × increasing coefficient; the coefficient applies
           where no meter is installed although possible, and after the averaged periods of a
           failed/overdue meter; not when readings are merely missing. Persons: those living by act
           (parameter `residents`) or else the registered residents, or else the owners. Temporary
           absences of at least N full days reduce persons for norm charges without a meter.
- sewage:  the sum of the account's cold and hot water volumes of the segment (before any
           coefficient), or its own norm when the tenant bills sewage by norm.
Amounts: round(Σ segment volume × tariff × coefficient, 2) per account × service × method × tariff ×
coefficient (money.py states the rounding); volumes are stored rounded to litres.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run import inputs, tuning
from aquabill.billing_core.run.months import mi
from aquabill.billing_core.run.single import PARAMETER_JOINS, SINGLE_METERS, SINGLE_PARAMETERS, single_charges


@dataclass(frozen=True, slots=True)
class Scope:
    kind: str = "tenant"  # tenant | house | account | accounts
    id: int | None = None
    ids: tuple[int, ...] = ()

    def where(self) -> str:
        return {
            "tenant": "TRUE",
            "house": "p.house_id = :scope_id",
            "account": "a.id = :scope_id",
            "accounts": "a.id = ANY(CAST(:scope_ids AS int[]))",
        }[self.kind]

    def params(self) -> dict:
        return {"scope_id": self.id, "scope_ids": list(self.ids)}


# the daily rate of a reading interval (prev, next]; a decrease is a rollover through zero unless reversible
RATE = """CASE WHEN value >= prev_value OR reversible THEN value - prev_value
                    ELSE power(10::numeric, digits) - prev_value + value END / (read_on - prev_on)"""
# the reading intervals of the meters in {meters} from the readings in {source} (each interval from the
# reading before it, by date)
IV = """CREATE TEMP TABLE {table} ON COMMIT DROP AS
        SELECT meter_id, prev_on, read_on, """ + RATE + """ AS rate
        FROM (
          SELECT x.meter_id, x.read_on, x.value, m.digits, m.reversible,
                 lag(x.read_on) OVER w AS prev_on, lag(x.value) OVER w AS prev_value
          FROM {source} x JOIN {meters} m ON m.meter_id = x.meter_id
          WINDOW w AS (PARTITION BY x.meter_id ORDER BY x.read_on)
        ) q WHERE prev_on IS NOT NULL AND read_on > prev_on"""


def connected(kinds: str, segments: str = "run_sa") -> str:
    """Segments (of `segments`, with their attributes) × the services of the given kinds connected to the
    account in the segment: by the account's own connection history, or by the service's default when the
    account has none."""
    return f"""SELECT g.*, sv.id AS service_id, sv.kind
        FROM {segments} g
        CROSS JOIN (SELECT * FROM services WHERE active AND kind IN ({kinds})
                    AND (default_connected OR id IN (SELECT service_id FROM account_services))) sv
        LEFT JOIN (SELECT DISTINCT account_id, service_id FROM account_services) own
             ON own.account_id = g.account_id AND own.service_id = sv.id
        LEFT JOIN account_services c ON c.account_id = g.account_id AND c.service_id = sv.id
             AND c.connected_from <= g.s AND coalesce(c.connected_to, 'infinity') >= g.s
        WHERE (c.id IS NOT NULL OR (own.account_id IS NULL AND sv.default_connected))"""


# the attributes of each segment (account_id, s, e, nseg, house_improvement) of {seg} on its first day s: persons,
# absent persons, improvement, tariff group, meter possible
ATTRIBUTES = """SELECT g.account_id, g.s, g.e, g.e - g.s + 1 AS days, g.nseg,
               coalesce(pr.value_num, nullif(reg.n, 0), po.value_num, 0) AS persons,
               coalesce(ab.n, 0) AS absent,
               coalesce(pi.value_text, g.house_improvement, '') AS improvement,
               coalesce(pt.value_text, 'population') AS tariff_group,
               coalesce(pm.value_num, 1) <> 0 AS meter_possible
        FROM {seg} g
""" + PARAMETER_JOINS + """
        LEFT JOIN (SELECT g2.account_id, g2.s, count(*) AS n FROM {seg} g2 JOIN residents x
                   ON x.account_id = g2.account_id AND x.registered_from <= g2.s
                   AND coalesce(x.registered_to, 'infinity') >= g2.s GROUP BY 1, 2) reg
             ON reg.account_id = g.account_id AND reg.s = g.s
        LEFT JOIN (SELECT g2.account_id, g2.s, sum(x.persons) AS n FROM {seg} g2 JOIN absences x
                   ON x.account_id = g2.account_id AND x.date_from <= g2.s AND x.date_to >= g2.s
                   AND x.date_to - x.date_from + 1 >= :absence_min_days GROUP BY 1, 2) ab
             ON ab.account_id = g.account_id AND ab.s = g.s"""


# the inputs kept with a segment's charge (inputs.py), from run_wv's and sv's columns
_WATER_INPUTS = inputs.select(inputs.water(
    "method", "s", "meter_id", "rd_from", "val_from", "rd_to", "val_to", "last_on", "broken_from", "avg_volume",
    "avg_months", "norm", "persons", "absent"))
_SEWAGE_INPUTS = inputs.select(inputs.sewage("s", "norm", "persons"))


def _statements(scope: Scope, single: str) -> list[str]:
    return [
        # accounts in scope with their active days in the month
        f"""CREATE TEMP TABLE run_acc ON COMMIT DROP AS
        SELECT a.id AS account_id, p.house_id, coalesce(p.area_m2, 0) AS area, h.improvement AS house_improvement,
               greatest(a.opened_on, :d1) AS a_from, least(coalesce(a.closed_on, :dn), :dn) AS a_to
        FROM accounts a JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id
        WHERE a.opened_on <= :dn AND (a.closed_on IS NULL OR a.closed_on >= :d1) AND {scope.where()}""",
        "CREATE UNIQUE INDEX ON run_acc(account_id)",
        # meters of the accounts that live in the month
        """CREATE TEMP TABLE run_meter ON COMMIT DROP AS
        SELECT m.id AS meter_id, m.account_id, m.service_id, m.installed_on, m.removed_on, m.digits, m.reversible,
               m.initial_reading, least(m.failed_on, m.verified_until + 1) AS broken_from
        FROM meters m JOIN run_acc r ON r.account_id = m.account_id
        WHERE m.kind <> 'building' AND m.installed_on <= :dn AND (m.removed_on IS NULL OR m.removed_on >= :d1)""",
        # reading intervals (prev, next] reaching into the month, with their daily rate: each accepted reading from
        # the month's first day on and the one before it (an index probe), or the initial reading at installation
        # (the installation day itself belongs to the replaced meter, if any). The whole history of the few
        # meters whose segments are averaged is taken separately (run_ivh).
        f"""CREATE TEMP TABLE run_iv ON COMMIT DROP AS
        SELECT meter_id, prev_on, read_on, {RATE} AS rate, installed_on, prev_value, value
        FROM (SELECT rd.meter_id, rd.read_on, rd.value, m.digits, m.reversible, m.installed_on,
                     coalesce(p.read_on, m.installed_on) AS prev_on, coalesce(p.value, m.initial_reading) AS prev_value
              FROM readings rd JOIN run_meter m ON m.meter_id = rd.meter_id
              LEFT JOIN LATERAL (SELECT x.read_on, x.value FROM readings x
                                 WHERE x.meter_id = rd.meter_id AND x.status = 'accepted' AND x.read_on < rd.read_on
                                   AND x.read_on >= m.installed_on ORDER BY x.read_on DESC LIMIT 1) p ON true
              WHERE rd.status = 'accepted' AND rd.read_on >= :d1 AND rd.read_on >= m.installed_on) q
        WHERE read_on > prev_on""",
        "CREATE INDEX ON run_iv(meter_id, read_on)",
        # the last reading (for meters silent in the month: the last one before it) and the first day after
        # the installation reading, for meters that have a reading after it
        """CREATE TEMP TABLE run_last ON COMMIT DROP AS
        SELECT meter_id, max(read_on) AS last_on, min(installed_on) + 1 AS first_on FROM run_iv GROUP BY meter_id
        UNION ALL
        SELECT m.meter_id, x.read_on, m.installed_on + 1 FROM run_meter m
        CROSS JOIN LATERAL (SELECT rd.read_on FROM readings rd
                            WHERE rd.meter_id = m.meter_id AND rd.status = 'accepted' AND rd.read_on < :d1
                              AND rd.read_on > m.installed_on ORDER BY rd.read_on DESC LIMIT 1) x
        WHERE NOT EXISTS (SELECT 1 FROM run_iv i WHERE i.meter_id = m.meter_id)""",
        # days on which something changes
        """CREATE TEMP TABLE run_cut ON COMMIT DROP AS
        SELECT c.account_id, c.day FROM (
        SELECT p.account_id, p.valid_from AS day FROM account_parameters p JOIN run_acc r USING (account_id)
              WHERE p.valid_from > :d1 AND p.valid_from <= :dn
        UNION SELECT x.account_id, x.registered_from FROM residents x JOIN run_acc r USING (account_id)
              WHERE x.registered_from > :d1 AND x.registered_from <= :dn
        UNION SELECT x.account_id, x.registered_to + 1 FROM residents x JOIN run_acc r USING (account_id)
              WHERE x.registered_to >= :d1 AND x.registered_to < :dn
        UNION SELECT x.account_id, x.date_from FROM absences x JOIN run_acc r USING (account_id)
              WHERE x.date_from > :d1 AND x.date_from <= :dn
        UNION SELECT x.account_id, x.date_to + 1 FROM absences x JOIN run_acc r USING (account_id)
              WHERE x.date_to >= :d1 AND x.date_to < :dn
        UNION SELECT x.account_id, x.connected_from FROM account_services x JOIN run_acc r USING (account_id)
              WHERE x.connected_from > :d1 AND x.connected_from <= :dn
        UNION SELECT x.account_id, x.connected_to + 1 FROM account_services x JOIN run_acc r USING (account_id)
              WHERE x.connected_to >= :d1 AND x.connected_to < :dn
        UNION SELECT account_id, d FROM run_meter,
              unnest(ARRAY[installed_on, installed_on + 1, removed_on + 1, broken_from]) AS d WHERE d > :d1 AND d <= :dn
              AND (installed_on >= :d1 OR removed_on >= :d1 OR broken_from > :d1)  -- (most meters: no date to unnest)
        UNION SELECT m.account_id, i.read_on + 1 FROM run_iv i JOIN run_meter m USING (meter_id)
              WHERE i.read_on >= :d1 AND i.read_on < :dn) c
        JOIN run_acc r USING (account_id) WHERE c.day > r.a_from AND c.day <= r.a_to
        UNION
        SELECT r.account_id, g.day FROM (
              SELECT valid_from AS day FROM tariffs UNION SELECT valid_from FROM norms
              UNION SELECT valid_from FROM coefficients) g
        JOIN run_acc r ON g.day > r.a_from AND g.day <= r.a_to WHERE g.day > :d1 AND g.day <= :dn""",
        # the accounts computed segment by segment: those with a change in the month, with more than one meter of a
        # service (a replacement, overlapping meters) or with their own service connections. All others have one
        # segment (the month, or the account's active days), one meter per service at most and the tenant's
        # default services: they are computed in one pass (SINGLE_METERS, single_charges).
        """CREATE TEMP TABLE run_gen ON COMMIT DROP AS
        SELECT account_id FROM run_cut
        UNION
        SELECT account_id FROM run_meter GROUP BY account_id, service_id HAVING count(*) > 1
        UNION
        SELECT account_id FROM account_services""",
        # segments [s, e] of those accounts: one where nothing changes, cut at each change otherwise
        """CREATE TEMP TABLE run_seg ON COMMIT DROP AS
        SELECT account_id, a_from AS s, a_to AS e, 1::bigint AS nseg, house_improvement FROM run_acc r
        WHERE account_id IN (SELECT account_id FROM run_gen)
          AND NOT EXISTS (SELECT 1 FROM run_cut c WHERE c.account_id = r.account_id)
        UNION ALL
        SELECT account_id, day, coalesce(lead(day) OVER w - 1, a_to), count(*) OVER w0, house_improvement
        FROM (SELECT account_id, a_from AS day, a_to, house_improvement FROM run_acc
              WHERE account_id IN (SELECT account_id FROM run_cut)
              UNION ALL
              SELECT c.account_id, c.day, r.a_to, r.house_improvement FROM run_cut c JOIN run_acc r USING (account_id)) x
        WINDOW w AS (PARTITION BY account_id ORDER BY day), w0 AS (PARTITION BY account_id)""",
        # segment attributes: persons, absent persons, improvement, tariff group, meter possible
        "CREATE TEMP TABLE run_sa ON COMMIT DROP AS " + ATTRIBUTES.format(seg="run_seg"),
        # validity ranges [vf, vt) of tariffs, norms and coefficients (the tenant's value wins on a tie)
        """CREATE TEMP TABLE run_tariff ON COMMIT DROP AS
        SELECT service_id, tariff_group, price, valid_from AS vf,
               coalesce(lead(valid_from) OVER (PARTITION BY service_id, tariff_group ORDER BY valid_from),
                        'infinity') AS vt FROM tariffs""",
        """CREATE TEMP TABLE run_norm ON COMMIT DROP AS
        SELECT service_id, improvement, volume, valid_from AS vf,
               coalesce(lead(valid_from) OVER (PARTITION BY service_id, improvement ORDER BY valid_from),
                        'infinity') AS vt FROM norms""",
        """CREATE TEMP TABLE run_coef ON COMMIT DROP AS
        SELECT service_kind, value, valid_from AS vf,
               coalesce(lead(valid_from) OVER (PARTITION BY service_kind ORDER BY valid_from), 'infinity') AS vt
        FROM (SELECT DISTINCT ON (service_kind, valid_from) service_kind, value, valid_from FROM coefficients
              ORDER BY service_kind, valid_from, (source = 'tenant') DESC) c""",
        # water segments in one pass: the meter of each segment, the reading interval covering it, the last
        # reading; the method; the volume, price and coefficient. Averaged segments get their volume below
        # (norm_volume / coef_value: what a segment gets if it falls back to the norm). The inputs kept with the
        # charge (explain.py): the reading interval, the norm and persons, the average (set below).
        f"""CREATE TEMP TABLE run_wv ON COMMIT DROP AS
        SELECT account_id, service_id, kind, s, days, nseg, method,
               CASE method WHEN 'meter' THEN coalesce(rate, 0) * days WHEN 'norm' THEN norm_volume END AS volume,
               tariff, CASE WHEN method = 'norm' THEN coef_value ELSE 1 END AS coefficient, tariff_group,
               norm_volume, coef_value, meter_id, broken_from, last_on, first_on,
               rd_from, val_from, rd_to, val_to, norm, persons, absent,
               NULL::numeric AS avg_volume, NULL::smallint AS avg_months
        FROM (
          SELECT q.*, CASE
              WHEN meter_id IS NULL THEN 'norm'
              WHEN broken_from <= s THEN CASE WHEN k_broken < :avg_periods THEN 'average' ELSE 'norm' END
              WHEN rate IS NOT NULL OR s < first_on THEN 'meter'
              WHEN k_silent <= :avg_periods THEN 'average'
              ELSE 'norm' END AS method,
            n.volume * CASE WHEN meter_id IS NULL THEN greatest(persons - absent, 0) ELSE persons END
              * days / :nd AS norm_volume, n.volume AS norm,
            t.price AS tariff,
            CASE WHEN (meter_id IS NULL AND meter_possible) OR (meter_id IS NOT NULL AND broken_from <= s)
                 THEN coalesce(k.value, 1) ELSE 1 END AS coef_value
          FROM (
            SELECT DISTINCT ON (ss.account_id, ss.service_id, ss.s)
                   ss.*, m.meter_id, m.broken_from, iv.rate, l.last_on, l.first_on,
                   iv.prev_on AS rd_from, iv.prev_value AS val_from, iv.read_on AS rd_to, iv.value AS val_to,
                   {mi('ss.s')} - {mi('m.broken_from')} AS k_broken,
                   {mi('ss.s')} - {mi('l.last_on')} AS k_silent
            FROM ({connected("'cold_water', 'hot_water'")}) ss
            LEFT JOIN run_meter m ON m.account_id = ss.account_id AND m.service_id = ss.service_id
                 AND m.installed_on <= ss.s AND coalesce(m.removed_on, 'infinity') >= ss.s
            LEFT JOIN run_iv iv ON iv.meter_id = m.meter_id AND iv.prev_on < ss.s AND iv.read_on >= ss.s
            LEFT JOIN run_last l ON l.meter_id = m.meter_id
            ORDER BY ss.account_id, ss.service_id, ss.s, m.installed_on DESC) q
          LEFT JOIN run_norm n ON n.service_id = q.service_id AND n.improvement = q.improvement
               AND n.vf <= q.s AND q.s < n.vt
          LEFT JOIN run_tariff t ON t.service_id = q.service_id AND t.tariff_group = q.tariff_group
               AND t.vf <= q.s AND q.s < t.vt
          LEFT JOIN run_coef k ON k.service_kind = q.kind AND k.vf <= q.s AND q.s < k.vt) z""",
        SINGLE_METERS,
        SINGLE_PARAMETERS,
        # the meters whose segments are averaged (a small subset) and their whole reading history
        """CREATE TEMP TABLE run_avm ON COMMIT DROP AS
        SELECT m.id AS meter_id, m.installed_on, m.initial_reading, m.digits, m.reversible FROM meters m
        WHERE m.id IN (SELECT meter_id FROM run_wv WHERE method = 'average'
                       UNION SELECT meter_id FROM run_fm WHERE method = 'average')""",
        """CREATE TEMP TABLE run_hrd ON COMMIT DROP AS
        SELECT meter_id, installed_on AS read_on, initial_reading AS value FROM run_avm
        UNION ALL
        SELECT m.meter_id, rd.read_on, rd.value FROM run_avm m
        CROSS JOIN LATERAL (SELECT x.read_on, x.value FROM readings x  -- an index range per meter, never a seq scan
                            WHERE x.meter_id = m.meter_id AND x.status = 'accepted' AND x.read_on >= m.installed_on
                            OFFSET 0) rd""",
        IV.format(source="run_hrd", table="run_ivh", meters="run_avm"),
        # average monthly volume for the segments that need it
        """CREATE TEMP TABLE run_avg ON COMMIT DROP AS
        WITH need AS (
          SELECT DISTINCT w.meter_id,
                 CASE WHEN w.broken_from <= w.s THEN least(w.last_on, w.broken_from - 1) ELSE w.last_on END AS ref,
                 w.first_on
          FROM (SELECT meter_id, s, broken_from, last_on, first_on FROM run_wv WHERE method = 'average'
                UNION ALL
                SELECT meter_id, s, broken_from, last_on, first_on FROM run_fm WHERE method = 'average') w
          WHERE w.last_on IS NOT NULL
        ), span AS (
          SELECT meter_id,
                 CASE WHEN ref = (date_trunc('month', ref) + interval '1 month - 1 day')::date
                      THEN date_trunc('month', ref)::date ELSE (date_trunc('month', ref) - interval '1 month')::date
                 END AS last_full,
                 CASE WHEN extract(day FROM first_on) = 1 THEN first_on
                      ELSE (date_trunc('month', first_on) + interval '1 month')::date END AS first_full
          FROM need
        ), months AS (
          SELECT s.meter_id, gs::date AS m_start, (gs + interval '1 month - 1 day')::date AS m_end
          FROM span s, generate_series(greatest(s.first_full, (s.last_full - interval '{n} months' + interval '1 month')),
                                       s.last_full, interval '1 month') gs
        )
        SELECT mo.meter_id, count(DISTINCT mo.m_start) AS n_months,
               sum(i.rate * (least(i.read_on, mo.m_end) - greatest(i.prev_on + 1, mo.m_start) + 1))
                 / count(DISTINCT mo.m_start) AS avg_monthly
        FROM months mo JOIN run_ivh i ON i.meter_id = mo.meter_id AND i.prev_on < mo.m_end AND i.read_on >= mo.m_start
        GROUP BY mo.meter_id""",
        """UPDATE run_wv w SET volume = a.avg_monthly * w.days / :nd, avg_volume = a.avg_monthly,
                                avg_months = a.n_months FROM run_avg a
           WHERE a.meter_id = w.meter_id AND w.method = 'average' AND a.n_months >= :avg_min_months""",
        """UPDATE run_wv SET method = 'norm', volume = norm_volume, coefficient = coef_value
           WHERE method = 'average' AND volume IS NULL""",
        # one row per account × service × method × tariff × coefficient; rows without a tariff or a volume
        # are reported (run_missing) and dropped. Sewage (the sum of the segment's water volumes, or its own
        # norm) is computed here, not stored apart. Accounts with a single segment need no aggregation. Each
        # row keeps its inputs (inputs.py): a single segment's in columns, several segments' in `inputs`.
        f"""CREATE TEMP TABLE run_charge ON COMMIT DROP AS
        WITH sv AS MATERIALIZED (
          SELECT ss.account_id, ss.service_id, ss.days, ss.nseg, ss.s, ss.persons, n.volume AS norm,
                 CASE WHEN :sewage_by_norm THEN 'norm' ELSE coalesce(wsum.method, 'norm') END AS method,
                 CASE WHEN :sewage_by_norm THEN n.volume * ss.persons * ss.days / :nd
                      ELSE coalesce(wsum.v, 0) END AS volume,
                 t.price AS tariff, 1::numeric AS coefficient
          FROM ({connected("'sewage'")}) ss
          LEFT JOIN (SELECT account_id, s, sum(volume) AS v,
                            coalesce(min(method) FILTER (WHERE kind = 'cold_water'), min(method)) AS method
                     FROM run_wv GROUP BY 1, 2) wsum
               ON wsum.account_id = ss.account_id AND wsum.s = ss.s
          LEFT JOIN run_norm n ON n.service_id = ss.service_id AND n.improvement = ss.improvement
               AND n.vf <= ss.s AND ss.s < n.vt
          LEFT JOIN run_tariff t ON t.service_id = ss.service_id AND t.tariff_group = ss.tariff_group
               AND t.vf <= ss.s AND ss.s < t.vt)
        SELECT account_id, service_id, method, round(volume, 3) AS volume, tariff, coefficient,
               round(volume * tariff * coefficient, 2) AS amount, days, volume IS NULL AS incomplete, {_WATER_INPUTS}
        FROM run_wv WHERE nseg = 1
        UNION ALL
        SELECT account_id, service_id, method, round(volume, 3), tariff, coefficient,
               round(volume * tariff * coefficient, 2), days, volume IS NULL, {_SEWAGE_INPUTS}
        FROM sv WHERE nseg = 1
        UNION ALL
        SELECT account_id, service_id, method, round(sum(volume), 3), tariff, coefficient,
               round(sum(volume * tariff * coefficient), 2),
               (sum(days) FILTER (WHERE volume IS NOT NULL))::int, bool_or(volume IS NULL), {inputs.merged()}
        FROM (SELECT *, count(*) OVER (PARTITION BY account_id, service_id, method, tariff, coefficient) AS n FROM (
                SELECT account_id, service_id, method, volume, tariff, coefficient, days, {_WATER_INPUTS}
                FROM run_wv WHERE nseg > 1
                UNION ALL
                SELECT account_id, service_id, method, volume, tariff, coefficient, days, {_SEWAGE_INPUTS}
                FROM sv WHERE nseg > 1) x) x
        GROUP BY account_id, service_id, method, tariff, coefficient""",
        single,
        """CREATE TEMP TABLE run_missing ON COMMIT DROP AS
        SELECT DISTINCT account_id, service_id, CASE WHEN tariff IS NULL THEN 'no_tariff' ELSE 'no_norm' END AS problem
        FROM run_charge WHERE tariff IS NULL OR incomplete""",
        "DELETE FROM run_charge WHERE tariff IS NULL OR volume IS NULL",
    ]


# temp tables only ever scanned whole afterwards: their statistics would not change any plan
SCANNED_ONCE = {"run_charge", "run_missing", "run_hrd", "run_ivh", "run_avg"}
STEP_NAMES = {"run_iv": "Интервалы показаний", "run_seg": "Периоды внутри месяца", "run_sa": "Параметры лицевых счетов",
              "run_avg": "Среднемесячный объём", "run_wv": "Способ расчёта и объёмы воды",
              "run_fm": "Способ расчёта по приборам учёта",
              "run_charge": "Водоотведение и суммы начислений"}
_CREATED = re.compile(r"\s*CREATE TEMP TABLE (\w+)")
TEMP_TABLES = ("run_missing", "run_charge", "run_avm", "run_par", "run_fm", "run_gen", "run_wv", "run_coef", "run_norm", "run_tariff", "run_avg",
               "run_ivh", "run_hrd", "run_sa", "run_seg", "run_cut", "run_last", "run_iv", "run_meter",
               "run_acc")


async def settings(conn: AsyncConnection) -> dict:
    rows = await conn.execute(text("SELECT key, value FROM billing_settings"))
    return {k: v for k, v in rows}


async def compute(conn: AsyncConnection, period: Period, scope: Scope, cfg: dict | None = None,
                  progress: Callable[[float, str], Awaitable[None]] | None = None) -> None:
    """Fill `run_charge` (and `run_missing`) for the period and scope, inside the caller's transaction;
    `progress(fraction 0…1, message)` is called after each step."""
    cfg = cfg or await settings(conn)
    for table in TEMP_TABLES:
        await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    params = {
        "d1": period.first_day, "dn": period.last_day, "nd": period.days,
        "absence_min_days": int(cfg.get("absence_min_days", 5)),
        "avg_periods": int(cfg.get("average_max_periods", 3)),
        "avg_min_months": int(cfg.get("average_min_months", 3)),
        "sewage_by_norm": bool(cfg.get("sewage_by_norm", False)),
        **scope.params(),
    }
    months = int(cfg.get("average_months", 6))
    if scope.kind in ("tenant", "house"):  # sorts and hashes of whole-tenant sets stay in memory
        await conn.execute(text(tuning.work_mem_sql()))
    await conn.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves on these statements
    # the temp tables are uniform: a small sample gives the planner what it needs, at a tenth of the cost
    await conn.execute(text("SET LOCAL default_statistics_target = 10"))
    services = (await conn.execute(text(
        "SELECT id, kind FROM services WHERE active AND default_connected AND kind IN ('cold_water', 'hot_water', "
        "'sewage') ORDER BY id"))).all()
    statements = _statements(scope, single_charges([(i, k) for i, k in services if k != "sewage"],
                                                   [i for i, k in services if k == "sewage"]))
    for step, sql in enumerate(statements, 1):
        sql = sql.replace("{n}", str(months))
        used = {k: v for k, v in params.items() if f":{k}" in sql}
        started = time.perf_counter()
        await conn.execute(text(sql), used)
        if tuning.CURRENT.timing:
            print(f"{time.perf_counter() - started:8.3f} s  {' '.join(sql.split())[:90]}", flush=True)
        created = _CREATED.match(sql)
        if created and created.group(1) not in SCANNED_ONCE:  # temp tables are never auto-analysed
            started = time.perf_counter()
            await conn.execute(text(f"ANALYZE {created.group(1)}"))
            if tuning.CURRENT.timing:
                print(f"{time.perf_counter() - started:8.3f} s  ANALYZE {created.group(1)}", flush=True)
        if progress is not None:
            await progress(step / len(statements), STEP_NAMES.get(created.group(1) if created else "", ""))
