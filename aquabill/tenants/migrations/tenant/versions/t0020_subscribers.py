"""Subscribers (абоненты) as users of their own doors: the portal and the messenger bots.

subscribers:        a person (not staff) with their own login. Registered on the portal by e-mail or phone,
                    or created by a messenger bot for its chat (then neither e-mail nor phone is known).
                    `password_hash` is never audited. `preferred_channel` is where notices go first.
subscriber_codes:   one-time secrets: e-mail confirmation links, phone codes, password reset links. Only a
                    hash is stored; `attempts` counts wrong tries of a code.
subscriber_links:   a subscriber's personal accounts. A link is revoked (by the subscriber or by staff on the
                    account card), never deleted; one live link per subscriber × account.
link_attempts:      every attempt to link an account (ok or not), by actor ('subscriber:<id>'), for limits.
subscriber_inbox:   the portal's notifications inbox.
billing_settings:   'portal_reading_days' [first, last] day of the month readings are taken on the portal and
                    by the bots; 'portal_link_check' — what proves an account is one's own: 'receipt_amount'
                    (the total of the last receipt) or 'surname' (the first three letters of the holder's).

Revision ID: t0020
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0020"
down_revision = "t0019"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
CHANNELS = "'portal', 'email', 'sms', 'telegram', 'max'"


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(16)),
        sa.Column("full_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("password_hash", sa.Text),
        sa.Column("email_confirmed_at", TS),
        sa.Column("phone_confirmed_at", TS),
        sa.Column("paperless", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("preferred_channel", sa.String(16), nullable=False, server_default="portal"),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", TS),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_via", sa.String(16), nullable=False, server_default="portal"),
        sa.CheckConstraint(f"preferred_channel IN ({CHANNELS})", name="subscribers_channel"),
        sa.CheckConstraint("created_via IN ('portal', 'telegram', 'max', 'staff')", name="subscribers_via"),
        sa.CheckConstraint("email IS NULL OR email = lower(email)", name="subscribers_email_lower"),
        sa.CheckConstraint("phone IS NULL OR phone ~ '^\\+7[0-9]{10}$'", name="subscribers_phone"),
    )
    op.create_index("subscribers_email", "subscribers", ["email"], unique=True,
                    postgresql_where=sa.text("email IS NOT NULL"))
    op.create_index("subscribers_phone", "subscribers", ["phone"], unique=True,
                    postgresql_where=sa.text("phone IS NOT NULL"))
    audit_table("subscribers", hidden=("password_hash",))

    op.create_table(
        "subscriber_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.LargeBinary, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("purpose IN ('confirm_email', 'confirm_phone', 'reset')", name="subscriber_codes_purpose"),
    )
    op.create_index("subscriber_codes_hash", "subscriber_codes", ["code_hash"], unique=True)
    op.create_index("subscriber_codes_owner", "subscriber_codes", ["subscriber_id", "purpose"])

    op.create_table(
        "subscriber_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_via", sa.String(16), nullable=False, server_default="portal"),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_by", sa.Integer),  # the staff user; NULL with revoked_at set = the subscriber
        sa.Column("revoked_reason", sa.String(200), nullable=False, server_default=""),
        sa.CheckConstraint("created_via IN ('portal', 'telegram', 'max', 'staff')", name="subscriber_links_via"),
    )
    op.create_index("subscriber_links_live", "subscriber_links", ["subscriber_id", "account_id"], unique=True,
                    postgresql_where=sa.text("revoked_at IS NULL"))
    op.create_index("subscriber_links_account", "subscriber_links", ["account_id"])
    audit_table("subscriber_links")

    op.create_table(
        "link_attempts",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
    )
    op.create_index("link_attempts_actor", "link_attempts", ["actor", "at"])

    op.create_table(
        "subscriber_inbox",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("kind", sa.String(32), nullable=False, server_default="info"),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("read_at", TS),
    )
    op.create_index("subscriber_inbox_owner", "subscriber_inbox", ["subscriber_id", "created_at"])

    op.execute("INSERT INTO billing_settings(key, value) VALUES "
               "('portal_reading_days', '[15, 25]'), ('portal_link_check', '\"receipt_amount\"')")


def downgrade() -> None:
    op.execute("DELETE FROM billing_settings WHERE key IN ('portal_reading_days', 'portal_link_check')")
    for t in ("subscriber_inbox", "link_attempts", "subscriber_links", "subscriber_codes", "subscribers"):
        op.drop_table(t)
