"""Receipts as documents (#14): how each account gets its receipt, the archive of issued receipts, the
tenant's receipt layout.

accounts.receipt_delivery   'paper' (printed and delivered, the default), 'email' (paperless: the PDF by
                            e-mail), 'portal' (paperless: in the personal account only)
accounts.receipt_email      where the e-mail goes; NULL: the account's own `email`
receipt_issues              one issued receipt of an account for a month: the data as printed
                            (`snapshot`, Receipt.as_dict()), its sum to pay, the PDF's SHA-256 once rendered
                            (the PDF files are kept by the printing job). A corrected receipt is a new issue
                            (issue_no + 1) referring to the one it corrects, with the reason. Unique per
                            account × month × issue_no. The account is checked per statement (bulk inserts,
                            as payments: t0015); the insert is audited by reference, later changes in full
                            without the snapshot (never changed).
receipt_layout              one row: the texts printed on every receipt (header, footer, notes) and the
                            logo (PNG, ≤ 200 KB; audited by its SHA-256, not its bytes).

Revision ID: t0026
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from aquabill.tenants.migrations.helpers import (
    audit_table,
    statement_foreign_key,
    statement_truncate_guard,
    tenant_schema,
)
from aquabill.tenants.naming import quote_schema

revision = "t0026"
down_revision = "t0025"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ACCOUNT_KEY = ("receipt_issues", "account_id", "accounts")


def upgrade() -> None:
    s = quote_schema(tenant_schema())
    # a constant default: a catalogue change only; the check is validated apart (no long exclusive lock)
    op.add_column("accounts", sa.Column("receipt_delivery", sa.String(8), nullable=False, server_default="paper"))
    op.add_column("accounts", sa.Column("receipt_email", sa.Text))
    op.execute(f"ALTER TABLE {s}.accounts ADD CONSTRAINT accounts_receipt_delivery "
               "CHECK (receipt_delivery IN ('paper', 'email', 'portal')) NOT VALID")
    op.execute(f"ALTER TABLE {s}.accounts VALIDATE CONSTRAINT accounts_receipt_delivery")

    op.create_table(
        "receipt_issues",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("issue_no", sa.Integer, nullable=False),
        sa.Column("snapshot", JSONB, nullable=False),
        sa.Column("due", sa.Numeric(14, 2), nullable=False),
        sa.Column("pdf_sha256", sa.String(64)),
        sa.Column("corrects_id", sa.BigInteger, sa.ForeignKey("receipt_issues.id")),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("issued_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("issued_by", sa.Integer),
        sa.Column("batch_id", UUID(as_uuid=True)),
        sa.UniqueConstraint("account_id", "period", "issue_no", name="receipt_issues_number"),
        sa.CheckConstraint("extract(day FROM period) = 1", name="receipt_issues_period"),
        sa.CheckConstraint("issue_no >= 1", name="receipt_issues_issue_no"),
        sa.CheckConstraint("(issue_no = 1) = (corrects_id IS NULL)", name="receipt_issues_corrects"),
    )
    op.create_index("receipt_issues_period", "receipt_issues", ["period"])
    op.execute(f"CREATE INDEX receipt_issues_batch ON {s}.receipt_issues(batch_id) WHERE batch_id IS NOT NULL")
    statement_foreign_key(*ACCOUNT_KEY)
    statement_truncate_guard(*ACCOUNT_KEY)
    op.execute(f"CREATE TRIGGER audit_insert AFTER INSERT ON {s}.receipt_issues REFERENCING NEW TABLE AS new_rows "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_insert_ref()")
    op.execute(f"CREATE TRIGGER audit_update AFTER UPDATE ON {s}.receipt_issues REFERENCING OLD TABLE AS old_rows "
               f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_update('snapshot')")
    op.execute(f"CREATE TRIGGER audit_delete AFTER DELETE ON {s}.receipt_issues REFERENCING OLD TABLE AS old_rows "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_delete('snapshot')")

    op.create_table(
        "receipt_layout",
        sa.Column("id", sa.Integer, primary_key=True, server_default="1"),
        sa.Column("header_text", sa.Text, nullable=False, server_default=""),
        sa.Column("footer_text", sa.Text, nullable=False, server_default=""),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("logo_png", sa.LargeBinary),
        sa.Column("logo_sha256", sa.String(64)),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_by", sa.Integer),
        sa.CheckConstraint("id = 1", name="receipt_layout_one"),
        sa.CheckConstraint("octet_length(logo_png) <= 204800", name="receipt_layout_logo_size"),
    )
    op.execute(f"INSERT INTO {s}.receipt_layout(id) VALUES (1)")  # the one row, blank, before the audit
    audit_table("receipt_layout", hidden=("logo_png",))


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    child, column, parent = ACCOUNT_KEY
    for suffix in ("lock", "guard", "truncate"):  # the parent's triggers (the child's go with its table)
        op.execute(f"DROP TRIGGER IF EXISTS {child}_{column}_fkey_{suffix} ON {s}.{parent}")
    op.drop_table("receipt_layout")
    op.drop_table("receipt_issues")
    op.execute(f"ALTER TABLE {s}.accounts DROP CONSTRAINT accounts_receipt_delivery")
    op.drop_column("accounts", "receipt_email")
    op.drop_column("accounts", "receipt_delivery")
