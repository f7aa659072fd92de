"""The subscribers' portal: meter photos kept with readings, appeals filed by a subscriber.

reading_photos:          a photo of the meter sent with a reading from the portal or a bot: at most one per
                         reading; the bytes are never audited. The size limit (5 MB) and the accepted formats
                         (JPEG, PNG, WebP, HEIC, recognised by their first bytes) are checked in
                         `subscribers/readings.py`; the CHECK only bounds what the table takes.
appeals.subscriber_id:   the subscriber who filed the appeal (portal or bot); NULL for every other appeal.
                         The portal lists a subscriber's appeals by it and shows the staff's answer (`result`).
appeal_answered trigger: when staff mark a subscriber's appeal answered (or closed without an answer
                         first), a notice goes to that subscriber's inbox (`subscriber_inbox`, kind 'appeal').

Revision ID: t0022
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import audit_table, tenant_schema
from aquabill.tenants.naming import quote_schema

revision = "t0022"
down_revision = "t0021"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MAX_PHOTO_BYTES = 8 * 1024 * 1024  # the table's bound; the code refuses above 5 MB with a clear message


def upgrade() -> None:
    op.create_table(
        "reading_photos",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("reading_id", sa.BigInteger, sa.ForeignKey("readings.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id", ondelete="SET NULL")),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("bytes", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/heic')",
                           name="reading_photos_type"),
        sa.CheckConstraint(f"size BETWEEN 1 AND {MAX_PHOTO_BYTES}", name="reading_photos_size"),
    )
    audit_table("reading_photos", hidden=("bytes",))

    op.add_column("appeals", sa.Column("subscriber_id", sa.Integer,
                                       sa.ForeignKey("subscribers.id", ondelete="SET NULL")))
    op.execute("CREATE INDEX appeals_subscriber ON appeals(subscriber_id, received_at) "
               "WHERE subscriber_id IS NOT NULL")

    s = quote_schema(tenant_schema())
    op.execute(f"""
CREATE FUNCTION {s}.appeal_answered_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {s}.subscriber_inbox(subscriber_id, account_id, kind, title, body)
  VALUES (NEW.subscriber_id, NEW.account_id, 'appeal', 'Ответ на обращение ' || NEW.number,
          CASE WHEN NEW.result <> '' THEN NEW.result
               ELSE 'Обращение рассмотрено. Подробности — в разделе «Обращения».' END);
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE TRIGGER appeal_answered AFTER UPDATE OF status ON {s}.appeals FOR EACH ROW
WHEN (NEW.subscriber_id IS NOT NULL AND NEW.status IN ('answered', 'closed')
      AND OLD.status NOT IN ('answered', 'closed'))
EXECUTE FUNCTION {s}.appeal_answered_notice()""")


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    op.execute(f"DROP TRIGGER appeal_answered ON {s}.appeals")
    op.execute(f"DROP FUNCTION {s}.appeal_answered_notice()")
    op.drop_index("appeals_subscriber", "appeals")
    op.drop_column("appeals", "subscriber_id")
    op.drop_table("reading_photos")
