"""Cold water for the maintenance of common property (ОДН, Decree 354, para. 44):
set-based SQL that adds 'common' rows of service `common_cold` to `run_charge` after `compute()` filled it.

Rules as implemented (period = one month [d1, dn] of nd days):

- Houses concerned: the houses of the run's accounts (`run_acc`), when service `common_cold` is active and
  the house either has a building cold-water meter living in the month (kind 'building', service of kind
  'cold_water', installed before dn, not removed before d1) or has a `common_cold` norm for its improvement
  valid on dn together with `houses.common_area_m2`. Account-level connections of `common_cold` are not
  consulted: common property belongs to the house, so every account of such a house gets its share.
- Building volume B: the building meters' accepted readings (the initial reading at installation counts as
  the first one) make intervals (prev, next] with a daily rate, as compute.py's run_iv (rollover handled the
  same way); B = Σ over the month's days of the rate of the interval covering that day, over all building
  cold-water meters of the house (several inputs add up; a replaced meter hands over on its removal day).
  B is known only when every day of the month is covered by a living building meter and every living meter
  has a reading interval covering that day before it failed or its verification lapsed; otherwise the house
  is treated as having no building meter this month.
- Σ individual I: the cold-water volumes (services of kind 'cold_water', methods meter/norm/average; stored
  before the increasing coefficient) of every account of the house for the month: from `run_charge` for the
  run's accounts, from `charges` for the others (rows of the period with corrects_period IS NULL, plus the
  recalculation rows that correct this period, so a closed period's re-run sees their current volumes).
- With B known: V = max(B − I, 0); when setting `common_property_cap` is true (the default) and the norm N
  and the common area S exist: V = min(V, N × S). Without B: V = N × S (month level: the norm valid on dn).
- Spread by area: the receivers are the run's accounts active on dn (an account opened during the month
  gets the full share, one closed before dn none). Account area = its premise's area / number of accounts
  active on dn in that premise (communal flats split equally); total = Σ area of the house's premises with
  an account active on dn. share = V × account area / total.
- Row: volume = round(V × area / total, 3), amount = round(V × area × tariff / total, 2) (money.py's half-up
  rule; as in compute.py the amount comes from the unrounded volume, and the one division comes last so an
  exact tie such as 56.375 rounds up), coefficient 1, days = the account's active days in the month;
  tariff of `common_cold` for the account's `tariff_group` (default 'population') valid on dn.
  Rows with share 0 are not written (a negative or zero V gives no rows).
- Problems go to `run_missing`: 'no_tariff' (share > 0 but no tariff), 'no_norm' (building meter data
  incomplete and no norm × common area to fall back on), 'no_area' (the house's premises have no area).

Shares are rounded per account; their sum may differ from V by a litre (no remainder distribution).
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import IV, settings

SERVICE_CODE = "common_cold"
INDIVIDUAL_METHODS = ("meter", "norm", "average")
TEMP_TABLES = ("run_odn_share", "run_odn_area", "run_odn_v", "run_odn_ind", "run_odn_bv", "run_odn_iv",
               "run_odn_bm", "run_odn_house")
_CREATED = re.compile(r"\s*CREATE TEMP TABLE (\w+)")

_HOUSES = (
    # houses of the run's accounts with common property: the active common_cold service and a building
    # cold-water meter living in the month or a norm (valid on dn) with the common area
    """CREATE TEMP TABLE run_odn_house ON COMMIT DROP AS
    SELECT * FROM (
      SELECT h.id AS house_id, h.common_area_m2 AS common_area, sv.id AS service_id,
             (SELECT n.volume FROM norms n WHERE n.service_id = sv.id AND n.improvement = coalesce(h.improvement, '')
                AND n.valid_from <= :dn ORDER BY n.valid_from DESC LIMIT 1) AS norm
      FROM houses h JOIN services sv ON sv.code = :service AND sv.active
      WHERE h.id IN (SELECT house_id FROM run_acc)) x
    WHERE (x.norm IS NOT NULL AND x.common_area IS NOT NULL)
       OR x.house_id IN (SELECT m.house_id FROM meters m JOIN services s ON s.id = m.service_id
                         WHERE m.kind = 'building' AND s.kind = 'cold_water' AND m.installed_on < :dn
                           AND (m.removed_on IS NULL OR m.removed_on >= :d1))"""
)
_STATEMENTS = [
    # building cold-water meters living in the month
    """CREATE TEMP TABLE run_odn_bm ON COMMIT DROP AS
    SELECT m.id AS meter_id, m.house_id, m.installed_on, m.removed_on, m.digits, m.reversible, m.initial_reading,
           least(m.failed_on, m.verified_until + 1) AS broken_from
    FROM meters m JOIN run_odn_house h ON h.house_id = m.house_id
    JOIN services s ON s.id = m.service_id AND s.kind = 'cold_water'
    WHERE m.kind = 'building' AND m.installed_on < :dn AND (m.removed_on IS NULL OR m.removed_on >= :d1)""",
    # reading intervals (prev, next] with their daily rate (compute.IV) from the readings that matter
    # for the month: the installation reading, the last accepted one before the month, those from d1 on
    IV.format(table="run_odn_iv", meters="run_odn_bm", source="""
           (SELECT meter_id, installed_on AS read_on, initial_reading AS value FROM run_odn_bm
            UNION ALL
            SELECT m.meter_id, x.read_on, x.value FROM run_odn_bm m
            CROSS JOIN LATERAL (SELECT rd.read_on, rd.value FROM readings rd
                                WHERE rd.meter_id = m.meter_id AND rd.status = 'accepted' AND rd.read_on < :d1
                                  AND rd.read_on >= m.installed_on
                                ORDER BY rd.read_on DESC LIMIT 1) x
            UNION ALL
            SELECT rd.meter_id, rd.read_on, rd.value FROM readings rd
            JOIN run_odn_bm m ON m.meter_id = rd.meter_id
            WHERE rd.status = 'accepted' AND rd.read_on >= :d1 AND rd.read_on >= m.installed_on)"""),
    # the house's metered volume of the month: known only when every day is covered by working meters
    """CREATE TEMP TABLE run_odn_bv ON COMMIT DROP AS
    SELECT b.house_id,
           CASE WHEN count(DISTINCT l.f + k) = :nd
                 AND bool_and(iv.rate IS NOT NULL AND (b.broken_from IS NULL OR l.f + k < b.broken_from))
                THEN sum(iv.rate) END AS volume
    FROM run_odn_bm b
    CROSS JOIN LATERAL (SELECT greatest(b.installed_on + 1, CAST(:d1 AS date)) AS f,
                               least(b.removed_on, CAST(:dn AS date)) AS t) l
    CROSS JOIN LATERAL generate_series(0, l.t - l.f) AS k
    LEFT JOIN run_odn_iv iv ON iv.meter_id = b.meter_id AND iv.prev_on < l.f + k AND iv.read_on >= l.f + k
    GROUP BY b.house_id""",
    # Σ individual cold-water volumes of all accounts of the house: the run's own, the others' as charged
    """CREATE TEMP TABLE run_odn_ind ON COMMIT DROP AS
    SELECT house_id, sum(volume) AS volume FROM (
      SELECT r.house_id, c.volume FROM run_charge c JOIN run_acc r USING (account_id)
      JOIN services s ON s.id = c.service_id
      WHERE s.kind = 'cold_water' AND c.method = ANY(:methods)
        AND r.house_id IN (SELECT house_id FROM run_odn_house)
      UNION ALL
      SELECT p.house_id, c.volume FROM run_odn_house h
      JOIN premises p ON p.house_id = h.house_id JOIN accounts a ON a.premise_id = p.id
      JOIN charges c ON c.account_id = a.id AND c.period >= :d1
      JOIN services s ON s.id = c.service_id
      WHERE s.kind = 'cold_water' AND NOT EXISTS (SELECT 1 FROM run_acc r WHERE r.account_id = a.id)
        AND ((c.period = :d1 AND c.corrects_period IS NULL AND c.method = ANY(:methods))
             OR (c.corrects_period = :d1 AND c.method = 'recalculation'))
    ) x GROUP BY house_id""",
    # V_odn per house
    """CREATE TEMP TABLE run_odn_v ON COMMIT DROP AS
    SELECT h.house_id, h.service_id,
           CASE WHEN bv.volume IS NULL THEN h.norm * h.common_area
                WHEN :cap AND h.norm IS NOT NULL AND h.common_area IS NOT NULL
                THEN least(greatest(bv.volume - coalesce(i.volume, 0), 0), h.norm * h.common_area)
                ELSE greatest(bv.volume - coalesce(i.volume, 0), 0) END AS volume
    FROM run_odn_house h
    LEFT JOIN run_odn_bv bv ON bv.house_id = h.house_id
    LEFT JOIN run_odn_ind i ON i.house_id = h.house_id
    WHERE bv.house_id IS NOT NULL OR (h.norm IS NOT NULL AND h.common_area IS NOT NULL)""",
    # premises of those houses with an account active on dn (the area base of the spread)
    """CREATE TEMP TABLE run_odn_area ON COMMIT DROP AS
    SELECT p.house_id, p.id AS premise_id, coalesce(p.area_m2, 0) AS area, count(*) AS accounts
    FROM run_odn_v v JOIN premises p ON p.house_id = v.house_id JOIN accounts a ON a.premise_id = p.id
    WHERE a.opened_on <= :dn AND (a.closed_on IS NULL OR a.closed_on >= :dn)
    GROUP BY p.house_id, p.id, p.area_m2""",
    # each receiving account's share and tariff
    """CREATE TEMP TABLE run_odn_share ON COMMIT DROP AS
    SELECT r.account_id, v.service_id, r.a_from, r.a_to - r.a_from + 1 AS days, tot.area AS total_area,
           pa.area / pa.accounts AS area,
           v.volume * pa.area AS num, nullif(pa.accounts * tot.area, 0) AS den, t.price AS tariff
    FROM run_acc r JOIN run_odn_v v ON v.house_id = r.house_id
    JOIN accounts a ON a.id = r.account_id
    JOIN run_odn_area pa ON pa.premise_id = a.premise_id
    JOIN (SELECT house_id, sum(area) AS area FROM run_odn_area GROUP BY house_id) tot ON tot.house_id = r.house_id
    LEFT JOIN account_parameters pt ON pt.account_id = r.account_id AND pt.kind = 'tariff_group'
         AND pt.valid_from <= :dn AND coalesce(pt.valid_to, 'infinity') >= :dn
    LEFT JOIN LATERAL (SELECT tf.price FROM tariffs tf WHERE tf.service_id = v.service_id
                         AND tf.tariff_group = coalesce(pt.value_text, 'population') AND tf.valid_from <= :dn
                       ORDER BY tf.valid_from DESC LIMIT 1) t ON true
    WHERE r.a_to = :dn""",
    """INSERT INTO run_charge(account_id, service_id, method, volume, tariff, coefficient, amount, days, seg_from, area)
    SELECT account_id, service_id, 'common', round(num / den, 3), tariff, 1, round(num * tariff / den, 2), days, a_from,
           area
    FROM run_odn_share WHERE num > 0 AND den > 0 AND tariff IS NOT NULL""",
    """INSERT INTO run_missing(account_id, service_id, problem)
    SELECT DISTINCT account_id, service_id,
           CASE WHEN den IS NULL THEN 'no_area' WHEN num IS NULL THEN 'no_norm' ELSE 'no_tariff' END
    FROM run_odn_share WHERE num IS NULL OR den IS NULL OR (num > 0 AND tariff IS NULL)""",
]


# the house-level figures of the run (what each 'common' row explains itself with: explain.py)
_KEEP = """INSERT INTO common_property_volumes(run_id, period, house_id, service_id, building_volume, individual_volume,
                                     norm, common_area, capped, volume, total_area)
    SELECT :run, :d1, v.house_id, v.service_id, bv.volume, coalesce(i.volume, 0), h.norm, h.common_area,
           bv.volume IS NOT NULL AND :cap AND h.norm IS NOT NULL AND h.common_area IS NOT NULL
             AND greatest(bv.volume - coalesce(i.volume, 0), 0) > h.norm * h.common_area,
           v.volume, (SELECT sum(a.area) FROM run_odn_area a WHERE a.house_id = v.house_id)
    FROM run_odn_v v JOIN run_odn_house h ON h.house_id = v.house_id
    LEFT JOIN run_odn_bv bv ON bv.house_id = v.house_id LEFT JOIN run_odn_ind i ON i.house_id = v.house_id
    WHERE v.volume IS NOT NULL"""  # a house whose volume is unknown is charged no common-property water: nothing to keep


async def add_common_property(conn: AsyncConnection, period: Period, cfg: dict | None = None, *,
                              run_id: int | None = None) -> None:
    """Add the month's common-property cold water ('common' rows) of the run's accounts to `run_charge`
    (and its problems to `run_missing`); call right after `compute()`, in the same transaction. With `run_id`,
    the houses' figures are kept in `common_property_volumes` under that run."""
    cfg = cfg if cfg is not None else await settings(conn)
    await conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}"))
    params = {"d1": period.first_day, "dn": period.last_day, "nd": period.days, "service": SERVICE_CODE,
              "methods": list(INDIVIDUAL_METHODS), "cap": bool(cfg.get("common_property_cap", True)), "run": run_id}
    for sql in (_HOUSES, *_STATEMENTS, *((_KEEP,) if run_id is not None else ())):
        await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        created = _CREATED.match(sql)
        if created:  # temp tables are never auto-analysed
            await conn.execute(text(f"ANALYZE {created.group(1)}"))
        if sql is _HOUSES and not (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM run_odn_house)"))).scalar():
            return  # no house of the run has common property this month
