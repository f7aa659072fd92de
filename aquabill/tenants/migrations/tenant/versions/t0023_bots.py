"""Messenger bots (Telegram, MAX): a tenant's bot per channel, its chats with their conversation state, and
the updates already handled.

bot_settings:  one row per channel ('telegram' | 'max'): the bot token sealed with the app's secret key
               (platform/secret_box.py; the sealing happens in the channels code, the table stores the
               sealed text), the SHA-256 (hex) of the webhook secret the messenger sends back in its header
               (the secret itself is handed to the messenger once and never stored), enabled, the bot's
               username as the messenger reports it, the last error of the webhook set-up. Changed by
               staff: audited (token and secret hash never written to the log).
bot_chats:     one row per (channel, chat): the subscriber the bot created for that chat on first contact,
               the conversation's state (jsonb: the step and what it has collected), notification opt-in.
               Written on every message by the bot itself: not audited (the subscriber's links, readings
               and appeals it leads to are, in their own tables).
bot_updates:   the updates already handled (Telegram `update_id`, MAX `mid` / `callback_id`), so a repeated
               delivery is answered once; rows older than a few days are pruned by the bots' runtime.

Revision ID: t0023
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0023"
down_revision = "t0022"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
CHANNEL = "channel IN ('telegram', 'max')"


def upgrade() -> None:
    op.create_table(
        "bot_settings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False, unique=True),
        sa.Column("token_sealed", sa.Text, nullable=False, server_default=""),
        sa.Column("webhook_secret_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("username", sa.String(64), nullable=False, server_default=""),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_by", sa.Integer),
        sa.CheckConstraint(CHANNEL, name="bot_settings_channel"),
    )
    audit_table("bot_settings", hidden=("token_sealed", "webhook_secret_hash"))

    op.create_table(
        "bot_chats",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_key", sa.String(64), nullable=False),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", JSONB, nullable=False, server_default="{}"),
        sa.Column("notify", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("channel", "chat_key", name="bot_chats_chat"),
        sa.CheckConstraint(CHANNEL, name="bot_chats_channel"),
    )
    op.create_index("bot_chats_subscriber", "bot_chats", ["subscriber_id"])

    op.create_table(
        "bot_updates",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("update_key", sa.String(128), nullable=False),
        sa.Column("received_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "update_key", name="bot_updates_pkey"),
    )
    op.create_index("bot_updates_received", "bot_updates", ["received_at"])


def downgrade() -> None:
    for t in ("bot_updates", "bot_chats", "bot_settings"):
        op.drop_table(t)
