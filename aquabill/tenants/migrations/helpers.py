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
