"""Incremental penalty state: the inputs of the closed form per account × month of origin, the changes
recorded since the last run, and per-account penalty totals.

penalty_state: one row per account × month of origin (every month with charges or allocations), as of the
  period and calculation date in penalty_state_meta: the net charges of the month posted up to that period
  (`debt_kop`, any sign), the allocations (kind 'charge') paid before the calculation date (`paid_kop`) and
  Σ kopecks × hundredths of the rule calendar's sums over the paid parts (`n300`, `n130`; clipped in
  payment order when paid > debt), and the account's deferral group `g`. Whole kopecks in bigint, like
  the run's arithmetic (exact, and an order of magnitude cheaper than numeric over tens of millions of rows).
penalty_deltas: changes of the inputs since then, written by statement-level triggers (transition tables,
  one row per key and statement): charges (+/− amount, with their posting period) and charge allocations
  (+/− amount with their payment and its paid_on; an update of payments.paid_on moves its allocations).
  Nothing is recorded while penalty_state_meta is empty (no penalty run yet).
penalty_state_meta: one row — the state's period, calculation date and the fingerprint of what the rule
  calendar depends on (settings, key rates, rules, deferrals); a different fingerprint forces a full rebuild.
penalty_accounts: Σ accrual rows and Σ all rows (accruals and storno) of penalty_charges per account, kept
  by triggers on penalty_charges, so a run diffs a million accounts without re-reading every penalty row.

penalty_charges.month_of_origin becomes nullable: a run now posts one row per account × period (NULL month);
the per-month breakdown is computed on demand for one account (penalties/detail.py).
Derived bulk tables (no ids, not audited): they are rebuilt by a full penalty run at any time.

Revision ID: t0012
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import tenant_schema
from aquabill.tenants.naming import quote_schema

revision = "t0012"
down_revision = "t0011"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def _trigger(s: str, table: str, name: str, func: str) -> None:
    op.execute(f"CREATE TRIGGER {name}_ins AFTER INSERT ON {s}.{table} REFERENCING NEW TABLE AS new_rows "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.{func}()")
    op.execute(f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {s}.{table} REFERENCING OLD TABLE AS old_rows "
               f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {s}.{func}()")
    op.execute(f"CREATE TRIGGER {name}_del AFTER DELETE ON {s}.{table} REFERENCING OLD TABLE AS old_rows "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.{func}()")


def upgrade() -> None:
    s = quote_schema(tenant_schema())
    op.alter_column("penalty_charges", "month_of_origin", nullable=True)
    op.execute(f"""CREATE TABLE {s}.penalty_state (
        account_id integer NOT NULL, m date NOT NULL, g integer NOT NULL DEFAULT 0,
        debt_kop bigint NOT NULL DEFAULT 0, paid_kop bigint NOT NULL DEFAULT 0,
        n300 bigint NOT NULL DEFAULT 0, n130 bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (account_id, m)) WITH (fillfactor = 85)""")
    op.execute(f"""CREATE TABLE {s}.penalty_deltas (
        account_id integer NOT NULL, m date NOT NULL, period date, paid_on date, payment_id bigint,
        amount numeric(14, 2) NOT NULL,
        CONSTRAINT penalty_deltas_kind CHECK ((period IS NULL) <> (paid_on IS NULL)))""")
    op.execute(f"""CREATE TABLE {s}.penalty_state_meta (
        id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1), period date NOT NULL, calc_date date NOT NULL,
        fingerprint text NOT NULL, built_at timestamptz NOT NULL DEFAULT now(), full_period date NOT NULL)""")
    op.execute(f"""CREATE TABLE {s}.penalty_accounts (
        account_id integer PRIMARY KEY, accrued numeric(16, 2) NOT NULL DEFAULT 0,
        net numeric(16, 2) NOT NULL DEFAULT 0)""")
    op.execute(f"INSERT INTO {s}.penalty_accounts(account_id, accrued, net) SELECT account_id, "
               f"coalesce(sum(amount) FILTER (WHERE kind = 'accrual'), 0), sum(amount) FROM {s}.penalty_charges "
               "GROUP BY 1")
    on = f"EXISTS (SELECT 1 FROM {s}.penalty_state_meta)"
    op.execute(f"""
CREATE FUNCTION {s}.penalty_track_charges() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT {on} THEN RETURN NULL; END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO {s}.penalty_deltas(account_id, m, period, amount)
    SELECT account_id, coalesce(corrects_period, period), period, sum(amount) FROM new_rows
    GROUP BY 1, 2, 3 HAVING sum(amount) <> 0;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO {s}.penalty_deltas(account_id, m, period, amount)
    SELECT account_id, coalesce(corrects_period, period), period, -sum(amount) FROM old_rows
    GROUP BY 1, 2, 3 HAVING sum(amount) <> 0;
  END IF;
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION {s}.penalty_track_allocations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT {on} THEN RETURN NULL; END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO {s}.penalty_deltas(account_id, m, paid_on, payment_id, amount)
    SELECT n.account_id, n.month_of_origin, p.paid_on, n.payment_id, sum(n.amount)
    FROM new_rows n JOIN {s}.payments p ON p.id = n.payment_id
    WHERE n.kind = 'charge' AND n.month_of_origin IS NOT NULL GROUP BY 1, 2, 3, 4;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO {s}.penalty_deltas(account_id, m, paid_on, payment_id, amount)
    SELECT o.account_id, o.month_of_origin, p.paid_on, o.payment_id, -sum(o.amount)
    FROM old_rows o JOIN {s}.payments p ON p.id = o.payment_id
    WHERE o.kind = 'charge' AND o.month_of_origin IS NOT NULL GROUP BY 1, 2, 3, 4;
  END IF;
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION {s}.penalty_track_paid_on() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT {on} THEN RETURN NULL; END IF;
  INSERT INTO {s}.penalty_deltas(account_id, m, paid_on, payment_id, amount)
  SELECT pa.account_id, pa.month_of_origin, x.paid_on, pa.payment_id, x.sign * sum(pa.amount)
  FROM (SELECT n.id, o.paid_on AS old_on, n.paid_on AS new_on FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.paid_on <> n.paid_on) c
  JOIN {s}.payment_allocations pa ON pa.payment_id = c.id AND pa.kind = 'charge' AND pa.month_of_origin IS NOT NULL
  CROSS JOIN LATERAL (VALUES (c.old_on, -1), (c.new_on, 1)) x(paid_on, sign)
  GROUP BY pa.account_id, pa.month_of_origin, x.paid_on, pa.payment_id, x.sign;
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION {s}.penalty_track_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO {s}.penalty_accounts AS t (account_id, accrued, net)
    SELECT account_id, coalesce(sum(amount) FILTER (WHERE kind = 'accrual'), 0), sum(amount) FROM new_rows
    GROUP BY 1 ORDER BY 1
    ON CONFLICT (account_id) DO UPDATE SET accrued = t.accrued + excluded.accrued, net = t.net + excluded.net;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO {s}.penalty_accounts AS t (account_id, accrued, net)
    SELECT account_id, -coalesce(sum(amount) FILTER (WHERE kind = 'accrual'), 0), -sum(amount) FROM old_rows
    GROUP BY 1 ORDER BY 1
    ON CONFLICT (account_id) DO UPDATE SET accrued = t.accrued + excluded.accrued, net = t.net + excluded.net;
  END IF;
  RETURN NULL;
END $$""")
    _trigger(s, "charges", "penalty_track", "penalty_track_charges")
    _trigger(s, "payment_allocations", "penalty_track", "penalty_track_allocations")
    op.execute(f"CREATE TRIGGER penalty_track_upd AFTER UPDATE ON {s}.payments REFERENCING OLD TABLE AS old_rows "
               f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {s}.penalty_track_paid_on()")
    _trigger(s, "penalty_charges", "penalty_totals", "penalty_track_totals")


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    for table in ("charges", "payment_allocations", "penalty_charges"):
        for op_ in ("ins", "upd", "del"):
            name = "penalty_totals" if table == "penalty_charges" else "penalty_track"
            op.execute(f"DROP TRIGGER IF EXISTS {name}_{op_} ON {s}.{table}")
    op.execute(f"DROP TRIGGER IF EXISTS penalty_track_upd ON {s}.payments")
    for func in ("penalty_track_charges", "penalty_track_allocations", "penalty_track_paid_on",
                 "penalty_track_totals"):
        op.execute(f"DROP FUNCTION IF EXISTS {s}.{func}()")
    for table in ("penalty_accounts", "penalty_state_meta", "penalty_deltas", "penalty_state"):
        op.execute(f"DROP TABLE {s}.{table}")
    op.execute(f"UPDATE {s}.penalty_charges SET month_of_origin = period WHERE month_of_origin IS NULL")
    op.alter_column("penalty_charges", "month_of_origin", nullable=False)
