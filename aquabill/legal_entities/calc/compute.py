"""Set-based computation of legal entities' charges of a month into the temp table `lc_line` (a handful of
statements whatever the number of contracts: no query per contract or point).

Pipeline (temp tables, dropped at commit):
  lc_contract  contracts in scope: in force on some day of the month (and from their first version on) — active
               ones, and terminated ones up to their end day (the last month of a terminated contract is billed,
               and a closed month is recalculated for it too); drafts never
  lc_point     their points valid on those days [pf, pt], plus the points of their sub-subscribers (whose volume is
               deducted; computed, never billed here); not the outlets of a stormwater contract (kind
               'stormwater': billed by area × precipitation × runoff in lc_storm, never as sewage)
  lc_meter     commercial meters of those points with their window [wf, wt] in the month: a meter that replaces
               another (replaces_id) starts the day after its installation (that day is the old meter's); its
               initial reading counts from the day before its first day; it is faulty from
               least(failed_on, verified_until + 1)
  lc_iv        reading intervals (prev_on, read_on] of accepted readings taken before the meter became faulty
  lc_avg       per meter: the last usable reading and the average daily volume of the year before it (rules.py)
  lc_piece     the point's days by method: 'meter' (days covered by an interval), after the last reading
               'average' / 'capacity' (rules.gap_pieces), days without any meter: 'capacity' for a supply point,
               'sewage' (from the site's water) for a discharge point — and when its site has no supply point at
               all, 'capacity' of the outlet's pipe (reason 'no_water'; without a diameter it stays 'sewage' and
               is a problem)
  lc_base      the point's days cut where its tariff (service × tariff group) or the contract's version changes
  lc_seg       pieces × base segments with their volume; sewage from water; sub-subscribers' deductions
  lc_line      the lines with the tariff and the VAT mode of their first day, amount = round(volume × price, 2)
  lc_problem   contracts that cannot be billed (no diameter, no tariff, no precipitation, an outlet without a meter,
               without water on its site and without a diameter):
               none of their lines are kept, the run reports them
Volumes are m³ to the litre (round half-up, rules.round_volume); a meter interval split across segments is rounded
cumulatively so its parts add up to the readings' difference exactly (rules.meter_part).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.legal_entities.calc import rules

Progress = Callable[[float, str], Awaitable[None]]
TIMING = False  # print each statement's time (the bench sets it)
PI = "3.141592653589793"  # as Python's math.pi (rules.capacity_daily_m3)
CAPACITY = (f"round({PI} * (p.diameter_mm::numeric / 1000) ^ 2 / 4 * {rules.CAPACITY_SPEED_M_S} * "
            f"{rules.SECONDS_PER_DAY}, 3)")
TEMP_TABLES = ("lc_contract", "lc_point", "lc_meter", "lc_rd", "lc_iv", "lc_avg", "lc_piece", "lc_base", "lc_seg",
               "lc_ded", "lc_storm", "lc_line", "lc_problem")

STATEMENTS: list[tuple[str, str]] = [
    ("Договоры", """
    CREATE TEMP TABLE lc_contract ON COMMIT DROP AS
    SELECT k.id AS contract_id, greatest(k.valid_from, v.first_from, :d1) AS c_from,
           least(coalesce(k.valid_to, :dn), :dn) AS c_to
    FROM contracts k JOIN (SELECT contract_id, min(valid_from) AS first_from FROM contract_versions
                           GROUP BY contract_id) v ON v.contract_id = k.id
    WHERE k.status IN ('active', 'terminated') AND greatest(k.valid_from, v.first_from) <= :dn
      AND coalesce(k.valid_to, :dn) >= :d1 AND (CAST(:cid AS int) IS NULL OR k.id = :cid)"""),
    ("Точки подключения", """
    CREATE TEMP TABLE lc_point ON COMMIT DROP AS
    WITH own AS (
      SELECT p.id AS point_id, true AS in_scope, greatest(p.valid_from, c.c_from) AS pf,
             least(coalesce(p.valid_to, c.c_to), c.c_to) AS pt
      FROM contract_points p JOIN contract_objects o ON o.id = p.object_id
      JOIN lc_contract c ON c.contract_id = o.contract_id),
    subs AS (
      SELECT DISTINCT sp.id AS point_id, false AS in_scope, greatest(sp.valid_from, :d1) AS pf,
             least(coalesce(sp.valid_to, :dn), :dn) AS pt
      FROM contract_point_subs s JOIN own ON own.point_id = s.point_id
      JOIN contract_points sp ON sp.id = s.sub_point_id
      WHERE s.valid_from <= :dn AND coalesce(s.valid_to, :dn) >= :d1
        AND NOT EXISTS (SELECT 1 FROM own o2 WHERE o2.point_id = sp.id))
    SELECT p.id AS point_id, o.id AS object_id, o.contract_id, p.kind, p.name, p.diameter_mm, p.tariff_group,
           p.vat_included, p.metered, p.discharge_share, sv.id AS service_id, x.in_scope, x.pf, x.pt
    FROM (SELECT * FROM own UNION ALL SELECT * FROM subs) x
    JOIN contract_points p ON p.id = x.point_id JOIN contract_objects o ON o.id = p.object_id
    JOIN contracts k ON k.id = o.contract_id
    JOIN services sv ON sv.code = CASE p.kind WHEN 'supply' THEN 'cold_water' ELSE 'sewage' END
    WHERE x.pf <= x.pt
      -- a stormwater contract is billed by area × precipitation × runoff only (lc_storm): its outlets carry
      -- surface water, not sewage
      AND NOT (k.kind = 'stormwater' AND p.kind = 'discharge')"""),
    ("Приборы учёта", """
    CREATE TEMP TABLE lc_meter ON COMMIT DROP AS
    SELECT * FROM (
      SELECT m.id AS meter_id, m.serial, p.point_id, m.digits, m.reversible, m.initial_reading,
             m.installed_on + CASE WHEN m.replaces_id IS NULL THEN 0 ELSE 1 END AS m_from,
             greatest(p.pf, m.installed_on + CASE WHEN m.replaces_id IS NULL THEN 0 ELSE 1 END) AS wf,
             least(p.pt, coalesce(m.removed_on, p.pt)) AS wt,
             least(m.failed_on, m.verified_until + 1) AS broken_from,
             CASE WHEN m.failed_on IS NOT NULL AND m.failed_on <= coalesce(m.verified_until + 1, m.failed_on)
                  THEN 'failed' ELSE 'verification' END AS broken_why
      FROM meters m JOIN lc_point p ON p.point_id = m.contract_point_id
      WHERE m.kind = 'commercial') q
    WHERE wf <= wt"""),
    ("Показания", """
    CREATE TEMP TABLE lc_rd ON COMMIT DROP AS
    SELECT meter_id, read_on, max(value) AS value FROM (
      SELECT meter_id, m_from - 1 AS read_on, initial_reading AS value FROM lc_meter
      UNION ALL
      SELECT r.meter_id, r.read_on, r.value FROM readings r JOIN lc_meter m USING (meter_id)
      WHERE r.status = 'accepted' AND r.read_on >= m.m_from AND r.read_on >= CAST(:d1 AS date) - 400
        AND r.read_on < coalesce(m.broken_from, 'infinity')
      UNION ALL
      SELECT * FROM (
        SELECT DISTINCT ON (r.meter_id) r.meter_id, r.read_on, r.value FROM readings r JOIN lc_meter m USING (meter_id)
        WHERE r.status = 'accepted' AND r.read_on >= m.m_from AND r.read_on < CAST(:d1 AS date) - 400
          AND r.read_on < coalesce(m.broken_from, 'infinity')
        ORDER BY r.meter_id, r.read_on DESC) older) x
    GROUP BY meter_id, read_on"""),
    ("Интервалы показаний", """
    CREATE TEMP TABLE lc_iv ON COMMIT DROP AS
    SELECT meter_id, prev_on, prev_value, read_on, value,
           CASE WHEN value >= prev_value OR reversible THEN value - prev_value
                ELSE power(10::numeric, digits) - prev_value + value END AS diff,
           NOT (value >= prev_value OR reversible) AS rollover
    FROM (SELECT x.meter_id, x.read_on, x.value, m.digits, m.reversible,
                 lag(x.read_on) OVER w AS prev_on, lag(x.value) OVER w AS prev_value
          FROM lc_rd x JOIN lc_meter m USING (meter_id)
          WINDOW w AS (PARTITION BY x.meter_id ORDER BY x.read_on)) q
    WHERE prev_on IS NOT NULL"""),
    ("Среднесуточный объём", f"""
    CREATE TEMP TABLE lc_avg ON COMMIT DROP AS
    WITH l AS (
      SELECT m.meter_id, max(x.read_on) AS last_on,
             greatest((max(x.read_on) - interval '{rules.AVERAGE_BASIS_MONTHS} months')::date, m.m_from - 1)
               AS basis_from
      FROM lc_meter m JOIN lc_rd x USING (meter_id) GROUP BY m.meter_id, m.m_from),
    b AS (
      SELECT l.meter_id, sum(i.diff * (i.read_on - greatest(i.prev_on, l.basis_from)) / (i.read_on - i.prev_on))
               AS volume
      FROM l JOIN lc_iv i ON i.meter_id = l.meter_id AND i.read_on > l.basis_from AND i.read_on <= l.last_on
      GROUP BY l.meter_id)
    SELECT l.meter_id, l.last_on, l.basis_from, l.last_on - l.basis_from AS basis_days,
           round(coalesce(b.volume, 0), 3) AS basis_volume,
           CASE WHEN l.last_on > l.basis_from THEN round(coalesce(b.volume, 0) / (l.last_on - l.basis_from), 3)
           END AS avg_daily
    FROM l LEFT JOIN b USING (meter_id)"""),
    ("Способы расчёта по дням", f"""
    CREATE TEMP TABLE lc_piece ON COMMIT DROP AS
    SELECT m.point_id, m.meter_id, 'meter' AS method, '' AS reason,
           greatest(i.prev_on + 1, m.wf) AS f, least(i.read_on, m.wt) AS t,
           i.prev_on, i.prev_value, i.read_on, i.value, i.diff, i.rollover
    FROM lc_meter m JOIN lc_iv i USING (meter_id)
    WHERE i.read_on >= m.wf AND i.prev_on + 1 <= m.wt
    UNION ALL
    SELECT g.point_id, g.meter_id, CASE WHEN x.method = 'average' AND a.avg_daily IS NULL THEN 'capacity'
                                        ELSE x.method END,
           CASE WHEN x.method = 'average' AND a.avg_daily IS NULL THEN 'no_basis' ELSE x.reason END,
           x.f, x.t, NULL, NULL, NULL, NULL, NULL, NULL
    FROM (SELECT m.*, greatest(m.wf, a.last_on + 1) AS gf, a.last_on,
                 (a.last_on + interval '{rules.NO_READINGS_MONTHS} months')::date AS nr_end
          FROM lc_meter m JOIN lc_avg a USING (meter_id) WHERE a.last_on < m.wt) g
    JOIN lc_avg a USING (meter_id)
    CROSS JOIN LATERAL (VALUES
      ('average', 'no_readings', g.gf, least(g.wt, coalesce(g.broken_from - 1, g.wt), g.nr_end), true),
      ('capacity', 'no_readings_6m', greatest(g.gf, g.nr_end + 1), least(g.wt, coalesce(g.broken_from - 1, g.wt)),
       true),
      ('average', g.broken_why, greatest(g.gf, g.broken_from),
       least(g.wt, g.broken_from + {rules.AVERAGE_MAX_DAYS - 1}), g.broken_from IS NOT NULL),
      ('capacity', g.broken_why || '_60d', greatest(g.gf, g.broken_from + {rules.AVERAGE_MAX_DAYS}), g.wt,
       g.broken_from IS NOT NULL)
    ) AS x(method, reason, f, t, applies)
    WHERE x.applies AND x.f <= x.t
    UNION ALL
    SELECT point_id, NULL,
           CASE WHEN kind = 'supply' OR no_water AND diameter_mm IS NOT NULL THEN 'capacity' ELSE 'sewage' END,
           CASE WHEN kind = 'discharge' AND no_water THEN 'no_water' WHEN NOT metered THEN 'unmetered'
                ELSE 'no_meter' END, f, t,
           NULL, NULL, NULL, NULL, NULL, NULL
    FROM (SELECT p.point_id, p.kind, p.metered, p.diameter_mm, p.pf, p.pt, m.wf, m.wt,
                 lag(m.wt) OVER w AS prev_wt, lead(m.wf) OVER w AS next_wf,
                 NOT EXISTS (SELECT 1 FROM lc_point xp WHERE xp.object_id = p.object_id AND xp.kind = 'supply')
                   AS no_water
          FROM lc_point p LEFT JOIN lc_meter m ON m.point_id = p.point_id
          WINDOW w AS (PARTITION BY p.point_id ORDER BY m.wf)) q
    CROSS JOIN LATERAL (VALUES
      (CASE WHEN wf IS NULL THEN pf ELSE coalesce(prev_wt + 1, pf) END, CASE WHEN wf IS NULL THEN pt ELSE wf - 1 END),
      (CASE WHEN wf IS NOT NULL AND next_wf IS NULL THEN wt + 1 END, CASE WHEN wf IS NOT NULL THEN pt END)
    ) AS x(f, t)
    WHERE x.f <= x.t"""),
    ("Деление месяца", """
    CREATE TEMP TABLE lc_base ON COMMIT DROP AS
    SELECT point_id, day AS bs, coalesce(lead(day) OVER w - 1, pt) AS be FROM (
      SELECT point_id, pf AS day, pt FROM lc_point
      UNION
      SELECT p.point_id, t.valid_from, p.pt FROM lc_point p
      JOIN tariffs t ON t.service_id = p.service_id AND t.tariff_group = p.tariff_group
      WHERE t.valid_from > p.pf AND t.valid_from <= p.pt
      UNION
      SELECT p.point_id, v.valid_from, p.pt FROM lc_point p JOIN contract_versions v ON v.contract_id = p.contract_id
      WHERE v.valid_from > p.pf AND v.valid_from <= p.pt) x
    WINDOW w AS (PARTITION BY point_id ORDER BY day)"""),
    ("Объёмы", f"""
    CREATE TEMP TABLE lc_seg ON COMMIT DROP AS
    SELECT row_number() OVER () AS seg_id, q.*, q.e - q.s + 1 AS days,
           CASE q.method
             WHEN 'meter' THEN round(q.diff * (q.e - q.prev_on) / (q.read_on - q.prev_on), 3)
                             - round(q.diff * (q.s - 1 - q.prev_on) / (q.read_on - q.prev_on), 3)
             WHEN 'average' THEN round(a.avg_daily * (q.e - q.s + 1), 3)
             WHEN 'capacity' THEN round(q.cap_daily * (q.e - q.s + 1), 3)
           END AS volume,
           a.avg_daily, a.basis_from, a.last_on AS basis_to, a.basis_volume, a.basis_days
    FROM (SELECT pc.point_id, pc.meter_id, pc.method, pc.reason, greatest(pc.f, b.bs) AS s, least(pc.t, b.be) AS e,
                 pc.prev_on, pc.prev_value, pc.read_on, pc.value, pc.diff, pc.rollover, {CAPACITY} AS cap_daily
          FROM lc_piece pc JOIN lc_base b ON b.point_id = pc.point_id AND b.bs <= pc.t AND b.be >= pc.f
          JOIN lc_point p ON p.point_id = pc.point_id) q
    LEFT JOIN lc_avg a ON a.meter_id = q.meter_id AND q.method = 'average'"""),
    ("Водоотведение по объёму воды", """
    UPDATE lc_seg g SET volume = round(q.share * q.v, 3), supply_volume = round(q.v, 3), share = q.share,
                        has_supply = q.n > 0
    FROM (SELECT g2.seg_id, p.discharge_share AS share, count(xp.point_id) AS n,
                 coalesce(sum(x.volume * (least(x.e, g2.e) - greatest(x.s, g2.s) + 1) / x.days), 0) AS v
          FROM lc_seg g2 JOIN lc_point p ON p.point_id = g2.point_id
          LEFT JOIN lc_point xp ON xp.object_id = p.object_id AND xp.kind = 'supply'
          LEFT JOIN lc_seg x ON x.point_id = xp.point_id AND x.s <= g2.e AND x.e >= g2.s
          WHERE g2.method = 'sewage' GROUP BY g2.seg_id, p.discharge_share) q
    WHERE g.seg_id = q.seg_id"""),
    ("Субабоненты", """
    CREATE TEMP TABLE lc_ded ON COMMIT DROP AS
    WITH ov AS (
      SELECT p.point_id, s.sub_point_id, b.bs, greatest(x.s, b.bs, s.valid_from) AS s,
             least(x.e, b.be, coalesce(s.valid_to, x.e)) AS e, x.volume, x.days
      FROM lc_point p JOIN contract_point_subs s ON s.point_id = p.point_id AND s.sub_point_id IS NOT NULL
      JOIN lc_base b ON b.point_id = p.point_id
      JOIN lc_seg x ON x.point_id = s.sub_point_id AND x.s <= b.be AND x.e >= b.bs
      WHERE p.in_scope AND x.volume IS NOT NULL),
    d AS (
      SELECT point_id, sub_point_id, bs, min(s) AS s, max(e) AS e, round(sum(volume * (e - s + 1) / days), 3) AS raw
      FROM ov WHERE s <= e GROUP BY point_id, sub_point_id, bs),
    tot AS (SELECT point_id, sum(raw) AS v FROM d GROUP BY point_id),
    gross AS (SELECT point_id, sum(volume) AS v FROM lc_seg GROUP BY point_id)
    SELECT d.*, sp.name AS sub_point_name, g.v < t.v AS capped,
           CASE WHEN g.v >= t.v THEN d.raw ELSE trunc(d.raw * greatest(g.v, 0) / t.v, 3) END AS volume
    FROM d JOIN tot t USING (point_id) JOIN gross g USING (point_id) JOIN lc_point sp ON sp.point_id = d.sub_point_id
    WHERE d.raw > 0"""),
    ("Поверхностные сточные воды", """
    CREATE TEMP TABLE lc_storm ON COMMIT DROP AS
    WITH g AS (
      SELECT c.contract_id, c.c_from, c.c_to, coalesce(fp.tariff_group, 'other') AS tariff_group,
             coalesce(fp.vat_included, false) AS vat_included, sv.id AS service_id
      FROM lc_contract c CROSS JOIN (SELECT id FROM services WHERE code = 'stormwater') sv
      LEFT JOIN LATERAL (SELECT p.tariff_group, p.vat_included FROM contract_points p
                         JOIN contract_objects o ON o.id = p.object_id WHERE o.contract_id = c.contract_id
                         ORDER BY p.id LIMIT 1) fp ON true
      WHERE EXISTS (SELECT 1 FROM contract_versions v WHERE v.contract_id = c.contract_id
                    AND v.stormwater_area_m2 IS NOT NULL)),
    cuts AS (
      SELECT g.*, day, coalesce(lead(day) OVER (PARTITION BY g.contract_id ORDER BY day) - 1, g.c_to) AS e
      FROM g CROSS JOIN LATERAL (
        SELECT g.c_from AS day
        UNION SELECT v.valid_from FROM contract_versions v
              WHERE v.contract_id = g.contract_id AND v.valid_from > g.c_from AND v.valid_from <= g.c_to
        UNION SELECT t.valid_from FROM tariffs t WHERE t.service_id = g.service_id AND t.tariff_group = g.tariff_group
              AND t.valid_from > g.c_from AND t.valid_from <= g.c_to) d)
    SELECT c.contract_id, c.service_id, c.tariff_group, c.vat_included, c.day AS s, c.e, c.e - c.day + 1 AS days,
           v.stormwater_area_m2 AS area, v.runoff_coefficient AS coefficient, pr.mm,
           round(v.stormwater_area_m2 * pr.mm / 1000 * v.runoff_coefficient * (c.e - c.day + 1) / CAST(:nd AS int), 3) AS volume
    FROM cuts c
    CROSS JOIN LATERAL (SELECT * FROM contract_versions v WHERE v.contract_id = c.contract_id AND v.valid_from <= c.day
                        ORDER BY v.valid_from DESC LIMIT 1) v
    LEFT JOIN stormwater_precipitation pr ON pr.month = :d1
    WHERE v.stormwater_area_m2 IS NOT NULL"""),
    ("Начисления", """
    CREATE TEMP TABLE lc_line ON COMMIT DROP AS
    SELECT l.*, t.price, vv.vat_mode, round(l.volume * t.price, 2) AS amount
    FROM (
      SELECT p.contract_id, p.object_id, g.point_id, p.service_id, g.method, g.s, g.e, g.volume, p.tariff_group,
             p.vat_included,
             jsonb_strip_nulls(jsonb_build_object(
               'point', p.name, 'days', g.days, 'reason', nullif(g.reason, ''), 'meter_id', g.meter_id,
               'serial', m.serial, 'from_on', g.prev_on, 'from_value', g.prev_value, 'to_on', g.read_on,
               'to_value', g.value, 'diff', g.diff, 'interval_days', g.read_on - g.prev_on,
               'rollover', CASE WHEN g.rollover THEN true END,
               'avg_daily', g.avg_daily, 'basis_from', g.basis_from, 'basis_to', g.basis_to,
               'basis_volume', g.basis_volume, 'basis_days', g.basis_days,
               'diameter_mm', CASE WHEN g.method = 'capacity' THEN p.diameter_mm END,
               'capacity_daily', CASE WHEN g.method = 'capacity' THEN g.cap_daily END,
               'supply_volume', g.supply_volume, 'share', g.share)) AS details
      FROM lc_seg g JOIN lc_point p ON p.point_id = g.point_id LEFT JOIN lc_meter m ON m.meter_id = g.meter_id
      WHERE p.in_scope
      UNION ALL
      SELECT p.contract_id, p.object_id, d.point_id, p.service_id, 'sub_deduction', d.s, d.e, -d.volume,
             p.tariff_group, p.vat_included,
             jsonb_strip_nulls(jsonb_build_object('point', p.name, 'days', d.e - d.s + 1, 'sub_point_id', d.sub_point_id,
               'sub_point', d.sub_point_name, 'sub_contract', k.number, 'sub_volume', d.raw,
               'capped', CASE WHEN d.capped THEN true END))
      FROM lc_ded d JOIN lc_point p ON p.point_id = d.point_id JOIN lc_point sp ON sp.point_id = d.sub_point_id
      JOIN contracts k ON k.id = sp.contract_id
      WHERE d.volume > 0
      UNION ALL
      SELECT st.contract_id, NULL, NULL, st.service_id, 'stormwater', st.s, st.e, st.volume, st.tariff_group,
             st.vat_included,
             jsonb_build_object('days', st.days, 'month_days', CAST(:nd AS int), 'area_m2', st.area, 'mm', st.mm,
                                'coefficient', st.coefficient)
      FROM lc_storm st) l
    LEFT JOIN LATERAL (SELECT price FROM tariffs t WHERE t.service_id = l.service_id AND t.tariff_group = l.tariff_group
                       AND t.valid_from <= l.s ORDER BY t.valid_from DESC LIMIT 1) t ON true
    LEFT JOIN LATERAL (SELECT vat_mode FROM contract_versions v WHERE v.contract_id = l.contract_id
                       AND v.valid_from <= l.s ORDER BY v.valid_from DESC LIMIT 1) vv ON true"""),
    ("Проверка", """
    CREATE TEMP TABLE lc_problem ON COMMIT DROP AS
    SELECT DISTINCT contract_id, message FROM (
      SELECT l.contract_id, format('Точка «%s»: не указан диаметр трубы — объём по пропускной способности '
                                   'не определить', l.details->>'point') AS message
      FROM lc_line l WHERE l.method = 'capacity' AND l.volume IS NULL
      UNION ALL
      SELECT l.contract_id, format('Нет тарифа «%s» для группы «%s» на %s', s.name, l.tariff_group,
                                   to_char(l.s, 'DD.MM.YYYY'))
      FROM lc_line l JOIN services s ON s.id = l.service_id WHERE l.price IS NULL AND l.volume IS NOT NULL
      UNION ALL
      SELECT st.contract_id, format('Нет данных об осадках за %s: поверхностные сточные воды не рассчитаны',
                                    to_char(CAST(:d1 AS date), 'MM.YYYY'))
      FROM lc_storm st WHERE st.mm IS NULL
      UNION ALL
      SELECT l.contract_id, format('Точка «%s»: на объекте нет водопроводного ввода, а у выпуска нет прибора учёта '
                                   'и не указан диаметр трубы — объём стоков не определить', l.details->>'point')
      FROM lc_seg g JOIN lc_line l ON l.point_id = g.point_id AND l.method = 'sewage' WHERE g.has_supply = false
    ) x"""),
    ("Исключение договоров с ошибками", "DELETE FROM lc_line WHERE contract_id IN (SELECT contract_id FROM lc_problem)"),
]
# lc_seg gets the columns the sewage step fills
ADD_SEWAGE_COLUMNS = ("ALTER TABLE lc_seg ADD COLUMN supply_volume numeric, ADD COLUMN share numeric, "
                      "ADD COLUMN has_supply boolean")


async def compute(conn: AsyncConnection, first_day: date, last_day: date, *, contract_id: int | None = None,
                  progress: Progress | None = None, timing: bool = False) -> None:
    """Fill `lc_line` and `lc_problem` for the month [first_day, last_day] (inside the caller's transaction)."""
    for table in TEMP_TABLES:
        await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    await conn.execute(text("SET LOCAL jit = off"))
    params = {"d1": first_day, "dn": last_day, "nd": (last_day - first_day).days + 1, "cid": contract_id}
    for step, (name, sql) in enumerate(STATEMENTS, 1):
        started = time.perf_counter()
        await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        if sql.lstrip().startswith("CREATE TEMP TABLE lc_seg"):
            await conn.execute(text(ADD_SEWAGE_COLUMNS))
        if sql.lstrip().startswith("CREATE TEMP TABLE"):
            await conn.execute(text(f"ANALYZE {sql.split()[3]}"))  # temp tables are never auto-analysed
        if timing or TIMING:
            print(f"{time.perf_counter() - started:8.3f} s  {name}", flush=True)
        if progress is not None:
            await progress(5 + 75 * step / len(STATEMENTS), name)
