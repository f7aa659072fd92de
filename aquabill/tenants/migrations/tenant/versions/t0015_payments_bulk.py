"""Payments import, bulk-friendly: what a file of 100,000 payments costs beyond writing its rows.

- Foreign keys of payments (agent, file, account, service, storno_of) and of payment_allocations
  (payment) are checked once per statement (`helpers.statement_foreign_key`): the same refusals, constraint
  names and SQLSTATE, without a lookup and a lock per row.
- A payment's insert is audited by reference (`helpers.create_audit_by_reference_function`): who, when and
  which row; the row as inserted is shown from its first later audited state or the row itself.
- The received content of a payment file moves to `payment_file_contents` (written once, never
  changed, not audited: the file's row with its checksum is; compressed with lz4): updating a file's
  counters no longer converts the whole file to jsonb twice for the audit log.

Revision ID: t0015
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import (
    audit_table,
    create_audit_by_reference_function,
    create_statement_fk_functions,
    row_foreign_key,
    statement_foreign_key,
    tenant_schema,
)
from aquabill.tenants.naming import quote_schema

revision = "t0015"
down_revision = "t0014"
branch_labels = None
depends_on = None

FOREIGN_KEYS = [("payments", "agent_id", "payment_agents"), ("payments", "file_id", "payment_files"),
                ("payments", "account_id", "accounts"), ("payments", "service_id", "services"),
                ("payments", "storno_of", "payments"), ("payment_allocations", "payment_id", "payments")]


def _audit_triggers(table: str) -> None:
    s = quote_schema(tenant_schema())
    for action in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_{action} ON {s}.{table}")


def upgrade() -> None:
    s = quote_schema(tenant_schema())
    create_statement_fk_functions()
    for child, column, parent in FOREIGN_KEYS:
        statement_foreign_key(child, column, parent)
    create_audit_by_reference_function()
    op.execute(f"DROP TRIGGER audit_insert ON {s}.payments")
    op.execute(f"CREATE TRIGGER audit_insert AFTER INSERT ON {s}.payments REFERENCING NEW TABLE AS new_rows "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_insert_ref()")
    op.create_table(
        "payment_file_contents",
        sa.Column("file_id", sa.Integer, sa.ForeignKey("payment_files.id"), primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),  # as received
    )
    # lz4 compresses a registry about as well as the default and five times faster (where the server has it)
    op.execute(f"DO $$ BEGIN ALTER TABLE {s}.payment_file_contents ALTER COLUMN content SET COMPRESSION lz4; "
               "EXCEPTION WHEN feature_not_supported THEN NULL; END $$")
    op.execute(f"INSERT INTO {s}.payment_file_contents(file_id, content) SELECT id, content FROM {s}.payment_files")
    _audit_triggers("payment_files")
    op.drop_column("payment_files", "content")
    audit_table("payment_files")


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    _audit_triggers("payment_files")
    op.add_column("payment_files", sa.Column("content", sa.LargeBinary))
    op.execute(f"UPDATE {s}.payment_files f SET content = c.content FROM {s}.payment_file_contents c "
               "WHERE c.file_id = f.id")
    op.alter_column("payment_files", "content", nullable=False)
    op.drop_table("payment_file_contents")
    audit_table("payment_files", hidden=("content",))
    op.execute(f"DROP TRIGGER audit_insert ON {s}.payments")
    op.execute(f"CREATE TRIGGER audit_insert AFTER INSERT ON {s}.payments REFERENCING NEW TABLE AS new_rows "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_insert()")
    op.execute(f"DROP FUNCTION {s}.audit_insert_ref()")
    for child, column, parent in reversed(FOREIGN_KEYS):
        row_foreign_key(child, column, parent)
    for fn in ("fk_check", "fk_guard_lock", "fk_guard", "fk_key_immutable"):
        op.execute(f"DROP FUNCTION {s}.{fn}()")
