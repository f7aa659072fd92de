"""Helpers shared by tenant migrations: the schema being migrated and the audit triggers."""

from __future__ import annotations

from alembic import op

from aquabill.tenants.naming import quote_schema


def tenant_schema() -> str:
    schema = op.get_context().version_table_schema
    if not schema:
        raise RuntimeError("tenant migrations run only through aquabill's migrator (version_table_schema unset)")
    return schema


def create_audit_functions() -> None:
    """Statement-level audit trigger functions with transition tables: set-based, cheap for bulk writes.

    Each records old and new rows as jsonb, the acting user from the transaction-local setting
    `aquabill.user_id`, and the time. TG_ARGV lists columns never written to the log (secrets).
    """
    s = quote_schema(tenant_schema())
    # TG_ARGV is NULL (not an empty array) when the trigger has no arguments
    hidden = "coalesce(TG_ARGV, '{}'::text[])"
    user = "nullif(current_setting('aquabill.user_id', true), '')::int"
    op.execute(f"""
CREATE FUNCTION {s}.audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {s}.audit_log(table_name, row_id, action, old_row, new_row, user_id)
  SELECT TG_TABLE_NAME, to_jsonb(n)->>'id', 'insert', NULL, to_jsonb(n) - {hidden}, {user}
  FROM new_rows n;
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION {s}.audit_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {s}.audit_log(table_name, row_id, action, old_row, new_row, user_id)
  SELECT TG_TABLE_NAME, o.j->>'id', 'update', o.j - {hidden}, n.j - {hidden}, {user}
  FROM (SELECT to_jsonb(x) AS j FROM old_rows x) o
  JOIN (SELECT to_jsonb(y) AS j FROM new_rows y) n ON n.j->'id' = o.j->'id'
  WHERE o.j - {hidden} IS DISTINCT FROM n.j - {hidden};
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION {s}.audit_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {s}.audit_log(table_name, row_id, action, old_row, new_row, user_id)
  SELECT TG_TABLE_NAME, to_jsonb(o)->>'id', 'delete', to_jsonb(o) - {hidden}, NULL, {user}
  FROM old_rows o;
  RETURN NULL;
END $$""")


def audit_table(table: str, *, hidden: tuple[str, ...] = ()) -> None:
    """Attach the three audit triggers to a business table (it must have an `id` column)."""
    s = quote_schema(tenant_schema())
    args = ", ".join("'" + h + "'" for h in hidden)
    op.execute(f"CREATE TRIGGER audit_insert AFTER INSERT ON {s}.{table} REFERENCING NEW TABLE AS new_rows "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_insert({args})")
    op.execute(f"CREATE TRIGGER audit_update AFTER UPDATE ON {s}.{table} REFERENCING OLD TABLE AS old_rows "
               f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_update({args})")
    op.execute(f"CREATE TRIGGER audit_delete AFTER DELETE ON {s}.{table} REFERENCING OLD TABLE AS old_rows "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_delete({args})")


# ---- bulk-friendly variants (t0015) ----------------------------------------------------------------------

def create_audit_by_reference_function() -> None:
    """`audit_insert_ref`: an insert logged by reference — who, when, which row, but no copy of the row.

    For tables loaded in bulk (payments from a bank file): converting every new row to jsonb costs more
    than the insert itself. Nothing is lost: every later update or delete of the row is logged with its
    full old state, so the row as inserted is the old state of its first later entry, or else the row as
    it stands (`platform/web/audit_api.py` shows it so). Only for tables without hidden columns."""
    s = quote_schema(tenant_schema())
    user = "nullif(current_setting('aquabill.user_id', true), '')::int"
    op.execute(f"""
CREATE OR REPLACE FUNCTION {s}.audit_insert_ref() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {s}.audit_log(table_name, row_id, action, old_row, new_row, user_id)
  SELECT TG_TABLE_NAME, n.id::text, 'insert', NULL, NULL, {user} FROM new_rows n;
  RETURN NULL;
END $$""")


# Statement-level foreign keys hold only at READ COMMITTED: each check reads the parent (or child) table with a
# fresh snapshot taken after the lock it waited for. Under REPEATABLE READ or SERIALIZABLE the check would use
# the transaction's first snapshot and miss a parent deleted or a child inserted since: refuse such writers.
_READ_COMMITTED_ONLY = """
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'table "%" has foreign keys checked per statement, which hold only at READ COMMITTED: '
                    'refused in a % transaction', TG_TABLE_NAME, upper(current_setting('transaction_isolation'))
      USING ERRCODE = 'invalid_transaction_state', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
            HINT = 'Write it in a READ COMMITTED transaction (the service''s isolation level).';
  END IF;"""


def create_statement_fk_functions(*, fail_safe: bool = False) -> None:
    """Foreign keys checked once per statement instead of once per row (the same refusals).

    A row-level foreign key looks its parent up and locks it for every row: a bank file of 100,000
    payments costs four lookups and locks each. Instead:
    - `fk_check` (child, after INSERT and UPDATE): one anti-join of the statement's rows with the parent
      table; a missing parent refuses the statement;
    - `fk_guard_lock` (parent, before DELETE): locks the child table in SHARE mode, so a delete waits for
      the child writers in flight and holds new ones back until it ends;
    - `fk_guard` (parent, after DELETE): refuses to delete a parent still referenced (it sees every
      committed child: the writers before it have ended, later ones wait);
    - `fk_key_immutable`: a parent's id never changes.
    So a concurrent delete and insert cannot leave an orphan at READ COMMITTED, the service's isolation
    level (the children's writers never lock parent rows). Errors carry SQLSTATE 23503 and the name the
    foreign key had.

    `fail_safe` (t0017): `fk_check` and `fk_guard_lock` refuse a transaction that is not READ COMMITTED
    (SQLSTATE 25000), and `fk_truncate_guard` (see `statement_truncate_guard`) is created; without it, the
    functions as t0015 created them."""
    s = quote_schema(tenant_schema())
    guard = _READ_COMMITTED_ONLY if fail_safe else ""
    op.execute(f"""
CREATE OR REPLACE FUNCTION {s}.fk_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  col text := TG_ARGV[0]; parent text := TG_ARGV[1]; missing text;
BEGIN{guard}
  EXECUTE format('SELECT min(n.%1$I)::text FROM new_rows n WHERE n.%1$I IS NOT NULL AND NOT EXISTS '
                 '(SELECT 1 FROM %2$I.%3$I p WHERE p.id = n.%1$I)', col, TG_TABLE_SCHEMA, parent) INTO missing;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_ARGV[2]
      USING ERRCODE = 'foreign_key_violation', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
            CONSTRAINT = TG_ARGV[2],
            DETAIL = format('Key (%s)=(%s) is not present in table "%s".', col, missing, parent);
  END IF;
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE OR REPLACE FUNCTION {s}.fk_guard_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{guard}
  EXECUTE format('LOCK TABLE %I.%I IN SHARE MODE', TG_TABLE_SCHEMA, TG_ARGV[0]);
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE OR REPLACE FUNCTION {s}.fk_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  child text := TG_ARGV[0]; col text := TG_ARGV[1]; ref text;
BEGIN
  EXECUTE format('SELECT min(o.id)::text FROM old_rows o WHERE EXISTS (SELECT 1 FROM %I.%I c WHERE c.%I = o.id)',
                 TG_TABLE_SCHEMA, child, col) INTO ref;
  IF ref IS NOT NULL THEN
    RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "%"',
      TG_TABLE_NAME, TG_ARGV[2], child
      USING ERRCODE = 'foreign_key_violation', SCHEMA = TG_TABLE_SCHEMA, TABLE = child, CONSTRAINT = TG_ARGV[2],
            DETAIL = format('Key (id)=(%s) is still referenced from table "%s".', ref, child);
  END IF;
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE OR REPLACE FUNCTION {s}.fk_key_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the id of a row of "%" is referenced by other tables and cannot change', TG_TABLE_NAME
    USING ERRCODE = 'foreign_key_violation', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME;
END $$""")
    if fail_safe:
        _create_truncate_guard_function(s)


def _create_truncate_guard_function(s: str) -> None:
    """`fk_truncate_guard` (parent, after TRUNCATE): a truncated parent may not leave a child row pointing at
    it. It runs once every table of the statement is truncated, so a parent truncated together with its
    children (or a self-reference) passes, as with a row-level foreign key. A child writer in flight holds
    ACCESS SHARE on the parent from its `fk_check` until it ends, so TRUNCATE (ACCESS EXCLUSIVE) waits for
    it and then sees its rows; a writer whose check comes later finds the parent empty and is refused."""
    op.execute(f"""
CREATE OR REPLACE FUNCTION {s}.fk_truncate_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  child text := TG_ARGV[0]; col text := TG_ARGV[1]; ref text;
BEGIN{_READ_COMMITTED_ONLY}
  EXECUTE format('SELECT c.%1$I::text FROM %2$I.%3$I c WHERE c.%1$I IS NOT NULL LIMIT 1', col, TG_TABLE_SCHEMA, child)
    INTO ref;
  IF ref IS NOT NULL THEN
    RAISE EXCEPTION 'cannot truncate a table referenced in a foreign key constraint'
      USING ERRCODE = 'feature_not_supported', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
            CONSTRAINT = TG_ARGV[2],
            DETAIL = format('Table "%s" references "%s" (constraint "%s", key (%s)=(%s)).', child, TG_TABLE_NAME,
                            TG_ARGV[2], col, ref),
            HINT = format('Truncate table "%s" at the same time, or delete its rows first.', child);
  END IF;
  RETURN NULL;
END $$""")


def statement_foreign_key(child: str, column: str, parent: str) -> None:
    """Replace the row-level foreign key `{child}_{column}_fkey` (to `parent.id`) by the statement-level
    triggers of `create_statement_fk_functions` (same name, same refusals)."""
    s = quote_schema(tenant_schema())
    name = f"{child}_{column}_fkey"
    args = f"'{column}', '{parent}', '{name}'"
    op.execute(f"ALTER TABLE {s}.{child} DROP CONSTRAINT {name}")
    for event, ref in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "NEW TABLE AS new_rows")):
        op.execute(f"CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON {s}.{child} REFERENCING {ref} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.fk_check({args})")
    op.execute(f"CREATE TRIGGER {name}_lock BEFORE DELETE ON {s}.{parent} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.fk_guard_lock('{child}')")
    op.execute(f"CREATE TRIGGER {name}_guard AFTER DELETE ON {s}.{parent} REFERENCING OLD TABLE AS old_rows "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.fk_guard('{child}', '{column}', '{name}')")
    op.execute(f"CREATE OR REPLACE TRIGGER fk_key_immutable BEFORE UPDATE OF id ON {s}.{parent} FOR EACH ROW "
               f"WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION {s}.fk_key_immutable()")


def statement_truncate_guard(child: str, column: str, parent: str) -> None:
    """TRUNCATE of `parent` refused while rows of `child` reference it (`fk_truncate_guard`, created by
    `create_statement_fk_functions(fail_safe=True)`); a statement-level foreign key made after t0017 calls
    this right after `statement_foreign_key`."""
    s = quote_schema(tenant_schema())
    name = f"{child}_{column}_fkey"
    op.execute(f"CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON {s}.{parent} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.fk_truncate_guard('{child}', '{column}', '{name}')")


def row_foreign_key(child: str, column: str, parent: str) -> None:
    """Back from `statement_foreign_key` to the row-level foreign key (downgrade)."""
    s = quote_schema(tenant_schema())
    name = f"{child}_{column}_fkey"
    for suffix, table in (("insert", child), ("update", child), ("lock", parent), ("guard", parent),
                          ("truncate", parent)):
        op.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix} ON {s}.{table}")
    op.execute(f"DROP TRIGGER IF EXISTS fk_key_immutable ON {s}.{parent}")
    op.execute(f"ALTER TABLE {s}.{child} ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {s}.{parent}(id)")
