"""Paperless receipts by e-mail (#14): a campaign of kind 'receipts' sends each paperless account its issued
receipt of a month as a PDF; the month-close check «receipts issued and delivered by the deadline».

campaigns.kind                  'notice' (the notification center's, the default) or 'receipts'
campaigns.period                the month whose receipts a 'receipts' campaign sends (NULL for notices)
campaign_recipients.receipt_issue_id
                                the issue (`receipt_issues`) the recipient's letter carries: its id is the
                                letter's idempotency key, so a month sent twice sends each issue once and a
                                corrected issue (a new id) is sent again (notifications/receipt_mail.py)
close_checks 'receipts_delivered'
                                a warning (not blocking) check, enabled

Revision ID: t0029
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import tenant_schema
from aquabill.tenants.naming import quote_schema

revision = "t0029"
down_revision = "t0028"
branch_labels = None
depends_on = None

CHECK = ("receipts_delivered", "Квитанции выставлены и доставлены в срок")
OLD_CODES = ("unbilled_accounts", "negative_volumes", "overdue_verification", "unallocated_payments",
             "old_unidentified_payments", "unfinished_runs")


def _code_constraint() -> str | None:
    """The name the close_checks code CHECK got (t0007 named it `close_checks_code`; the naming convention may
    have prefixed it)."""
    return op.get_bind().execute(sa.text(
        "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'c' "
        "AND pg_get_constraintdef(oid) LIKE '%unbilled_accounts%'"),
        {"t": f"{quote_schema(tenant_schema())}.close_checks"}).scalar()


def _codes(codes: tuple[str, ...]) -> None:
    s = quote_schema(tenant_schema())
    name = _code_constraint()
    if name is not None:
        op.execute(f'ALTER TABLE {s}.close_checks DROP CONSTRAINT "{name}"')
    op.execute(f"ALTER TABLE {s}.close_checks ADD CONSTRAINT close_checks_code CHECK (code IN ("
               + ", ".join(f"'{c}'" for c in codes) + "))")


def upgrade() -> None:
    s = quote_schema(tenant_schema())
    op.add_column("campaigns", sa.Column("kind", sa.String(16), nullable=False, server_default="notice"))
    op.add_column("campaigns", sa.Column("period", sa.Date))
    op.execute(f"ALTER TABLE {s}.campaigns ADD CONSTRAINT campaigns_kind CHECK (kind IN ('notice', 'receipts') "
               "AND (kind = 'notice' OR period IS NOT NULL))")
    op.execute(f"CREATE INDEX campaigns_receipts ON {s}.campaigns(period, id) WHERE kind = 'receipts'")
    op.add_column("campaign_recipients", sa.Column("receipt_issue_id", sa.BigInteger,
                                                   sa.ForeignKey("receipt_issues.id")))
    op.execute(f"CREATE INDEX campaign_recipients_issue ON {s}.campaign_recipients(receipt_issue_id) "
               "WHERE receipt_issue_id IS NOT NULL")
    _codes((*OLD_CODES, CHECK[0]))
    op.execute(sa.text(f"INSERT INTO {s}.close_checks(code, name, enabled, blocking, parameter, position) "
                       f"SELECT :c, :n, true, false, NULL, coalesce(max(position), 0) + 1 FROM {s}.close_checks "
                       "ON CONFLICT (code) DO NOTHING").bindparams(c=CHECK[0], n=CHECK[1]))


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    op.execute(sa.text(f"DELETE FROM {s}.close_checks WHERE code = :c").bindparams(c=CHECK[0]))
    _codes(OLD_CODES)
    op.execute(f"DROP INDEX {s}.campaign_recipients_issue")
    op.drop_column("campaign_recipients", "receipt_issue_id")
    op.execute(f"DROP INDEX {s}.campaigns_receipts")
    op.execute(f"ALTER TABLE {s}.campaigns DROP CONSTRAINT campaigns_kind")
    op.drop_column("campaigns", "period")
    op.drop_column("campaigns", "kind")
