"""Every row a person writes carries who and when: audit of charges written by people, a hash of payments inserted by reference; the penalty change log on while the first penalty run works.

- `charges` gets the audit triggers (old/new rows as jsonb, user, time), except for the billing run's own
  statements: its posting sets the transaction-local `aquabill.charges_audit` = 'run' around them and the
  triggers' WHEN clause skips them (as t0016 does for the penalty totals). So a storno, a one-off charge,
  an installment row — anything not written by the run's posting — is logged with its user; the run's
  rows carry their `run_id` (billing_runs is audited: who started the run, when). The run's insert costs
  what it did: the rows are already captured for the penalty-tracking triggers' transition tables (one
  capture per statement and table, shared by every trigger that references it), and a false WHEN clause
  is one check per statement.
- A payment's insert, logged by reference (t0015: no copy of the row), keeps the SHA-256 of the row as
  inserted in `audit_log.row_hash`, so the row shown for it later (the old state of the row's next
  entry, or the row as it stands) can be checked against it (`audit_row_digest`; the audit API's
  `verified`). The digest is of the row's text form with the trailing NULL columns left out (a column
  added to the table later does not change it), in UTC and ISO dates.
- Before the first penalty run has committed, the penalty-tracking triggers (t0012) record nothing —
  unless a penalty run holds the lock `/penalty_log` (`penalty_log_off`): the run no longer locks the
  tables (payments go on during it), so what commits while the first run works is recorded for the next.

Revision ID: t0018
"""

from alembic import op

from aquabill.tenants.migrations.helpers import create_audit_by_reference_function, tenant_schema
from aquabill.tenants.naming import quote_schema

revision = "t0018"
down_revision = "t0017"
branch_labels = None
depends_on = None

SKIP_RUN = "WHEN (current_setting('aquabill.charges_audit', true) IS DISTINCT FROM 'run') "
AUDIT_EVENTS = [("insert", "INSERT", "NEW TABLE AS new_rows"),
                ("update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                ("delete", "DELETE", "OLD TABLE AS old_rows")]
CANONICAL = "SET timezone = 'UTC' SET datestyle = 'ISO, YMD'"  # the digest's text form of dates and times
TRACKING = ("penalty_track_charges", "penalty_track_allocations", "penalty_track_paid_on")


def _tracking_guard(s: str, *, log: bool) -> str:
    """The first line of t0012's tracking functions, or its replacement."""
    if log:
        return f"IF {s}.penalty_log_off() THEN RETURN NULL; END IF;"
    return f"IF NOT EXISTS (SELECT 1 FROM {s}.penalty_state_meta) THEN RETURN NULL; END IF;"


def _replace_in_function(s: str, function: str, old: str, new: str) -> None:
    """Rewrite one line of a trigger function's body in place (the rest of t0012's body is kept as is)."""
    op.execute(f"""DO $patch$
DECLARE def text := pg_get_functiondef('{s}.{function}()'::regprocedure);
BEGIN
  IF position($o${old}$o$ IN def) = 0 THEN
    RAISE EXCEPTION 'function {function}: the line to replace is not in its body';
  END IF;
  EXECUTE replace(def, $o${old}$o$, $n${new}$n$);
END $patch$""")


def upgrade() -> None:
    schema = tenant_schema()
    s = quote_schema(schema)
    for name, event, tables in AUDIT_EVENTS:
        op.execute(f"CREATE TRIGGER audit_{name} AFTER {event} ON {s}.charges REFERENCING {tables} "
                   f"FOR EACH STATEMENT {SKIP_RUN}EXECUTE FUNCTION {s}.audit_{name}()")

    op.execute(f"ALTER TABLE {s}.audit_log ADD COLUMN row_hash bytea")
    # a plain SQL expression: inlined into the trigger's statement (no call per row)
    op.execute(f"""CREATE FUNCTION {s}.row_digest(r anyelement) RETURNS bytea LANGUAGE sql STABLE AS
$$ SELECT sha256(convert_to(rtrim(r::text, ',)'), 'UTF8')) $$""")
    op.execute(f"""
CREATE FUNCTION {s}.audit_row_digest(tbl regclass, r jsonb) RETURNS bytea LANGUAGE plpgsql STABLE {CANONICAL} AS $$
DECLARE d bytea;
BEGIN
  EXECUTE format('SELECT {s}.row_digest(jsonb_populate_record(NULL::%s, $1))', tbl) INTO d USING r;
  RETURN d;
EXCEPTION WHEN data_exception THEN  -- a logged state that no longer fits the table's columns: no digest
  RETURN NULL;
END $$""")
    user = "nullif(current_setting('aquabill.user_id', true), '')::int"
    op.execute(f"""
CREATE OR REPLACE FUNCTION {s}.audit_insert_ref() RETURNS trigger LANGUAGE plpgsql {CANONICAL} AS $$
BEGIN
  INSERT INTO {s}.audit_log(table_name, row_id, action, old_row, new_row, user_id, row_hash)
  SELECT TG_TABLE_NAME, n.id::text, 'insert', NULL, NULL, {user}, {s}.row_digest(n) FROM new_rows n;
  RETURN NULL;
END $$""")

    lock = "hashtext(" + "'" + schema.replace("'", "''") + "/penalty_log'), 0"
    op.execute(f"""
CREATE FUNCTION {s}.penalty_log_off() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM {s}.penalty_state_meta) THEN RETURN false; END IF;
  -- no penalty run has committed: nothing to record unless one is running (it holds the lock exclusively
  -- from before it reads the tables until it commits, and waits for the holders of a shared one)
  IF NOT pg_try_advisory_xact_lock_shared({lock}) THEN RETURN false; END IF;
  -- a run that held the lock has committed: its state is seen by this new statement's snapshot
  RETURN NOT EXISTS (SELECT 1 FROM {s}.penalty_state_meta);
END $$""")
    for function in TRACKING:
        _replace_in_function(s, function, _tracking_guard(s, log=False), _tracking_guard(s, log=True))


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    for function in TRACKING:
        _replace_in_function(s, function, _tracking_guard(s, log=True), _tracking_guard(s, log=False))
    op.execute(f"DROP FUNCTION {s}.penalty_log_off()")
    create_audit_by_reference_function()  # t0015's version, without the digest
    op.execute(f"DROP FUNCTION {s}.audit_row_digest(regclass, jsonb)")
    op.execute(f"DROP FUNCTION {s}.row_digest(anyelement)")
    op.execute(f"ALTER TABLE {s}.audit_log DROP COLUMN row_hash")
    for name, _event, _tables in AUDIT_EVENTS:
        op.execute(f"DROP TRIGGER audit_{name} ON {s}.charges")
