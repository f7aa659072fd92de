"""Mass printing of receipts (#14): printing batches, their bundles (PDF files), and where each issued receipt
was printed.

print_batches   one printing of a month's receipts: `id` is the job that started it (a resumed printing keeps
                it; `job_id` is the job running it now), the month, the filter of accounts (jsonb: {} the
                whole tenant, {"house_id"}, {"street_id"}, {"delivery"}), how it is cut into bundles
                (`bundle_by` 'house' or 'count' of `bundle_size`), its state (planned → printing → done |
                failed), how many receipts in all and printed, the export files for print houses (CSV, XML:
                name and SHA-256), who started it and when it ended. Written by the printing job: the start
                is recorded by the job registry (who, when, the parameters); not audited.
print_bundles   the plan of a batch, made once: bundle `no` (1…), its title (the house's address or the range
                of addresses), the accounts in print order (`account_ids`; `count` of them, first and last),
                and once printed: the file's name, SHA-256, size and when, and the issues printed on its pages
                (`issue_ids`, in page order: the export reads them). Unique (batch, no).
receipt_issues.printed_batch / printed_bundle / printed_page
                where the issue was last printed (the bundle file and its page, 1-based).

Revision ID: t0028
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "t0028"
down_revision = "t0027"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "print_batches",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("job_id", UUID(as_uuid=True), nullable=False),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("filter", JSONB, nullable=False, server_default="{}"),
        sa.Column("bundle_by", sa.String(8), nullable=False),
        sa.Column("bundle_size", sa.Integer),
        sa.Column("status", sa.String(12), nullable=False, server_default="planned"),
        sa.Column("total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("bundles", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("csv_file", sa.Text),
        sa.Column("csv_sha256", sa.String(64)),
        sa.Column("xml_file", sa.Text),
        sa.Column("xml_sha256", sa.String(64)),
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", TS),
        sa.CheckConstraint("extract(day FROM period) = 1", name="print_batches_period"),
        sa.CheckConstraint("bundle_by IN ('house', 'count')", name="print_batches_bundle_by"),
        sa.CheckConstraint("(bundle_by = 'count') = (bundle_size IS NOT NULL) AND coalesce(bundle_size, 1) >= 1",
                           name="print_batches_bundle_size"),
        sa.CheckConstraint("status IN ('planned', 'printing', 'done', 'failed')", name="print_batches_status"),
        sa.CheckConstraint("done >= 0 AND done <= total", name="print_batches_done"),
    )
    op.create_index("print_batches_created", "print_batches", ["created_at"])
    op.create_table(
        "print_bundles",
        sa.Column("batch_id", UUID(as_uuid=True), sa.ForeignKey("print_batches.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("no", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("account_ids", ARRAY(sa.Integer), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_account_id", sa.Integer, nullable=False),
        sa.Column("last_account_id", sa.Integer, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("issue_ids", ARRAY(sa.BigInteger)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("bytes", sa.BigInteger),
        sa.Column("done_at", TS),
        sa.PrimaryKeyConstraint("batch_id", "no", name="print_bundles_pkey"),
        sa.CheckConstraint("no >= 1 AND count >= 1 AND count = cardinality(account_ids)", name="print_bundles_count"),
        sa.CheckConstraint("(done_at IS NULL) = (sha256 IS NULL)", name="print_bundles_done"),
    )
    op.add_column("receipt_issues", sa.Column("printed_batch", UUID(as_uuid=True)))
    op.add_column("receipt_issues", sa.Column("printed_bundle", sa.Integer))
    op.add_column("receipt_issues", sa.Column("printed_page", sa.Integer))
    op.create_index("receipt_issues_printed", "receipt_issues", ["printed_batch"],
                    postgresql_where=sa.text("printed_batch IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("receipt_issues_printed", "receipt_issues")
    for column in ("printed_page", "printed_bundle", "printed_batch"):
        op.drop_column("receipt_issues", column)
    op.drop_table("print_bundles")
    op.drop_table("print_batches")
