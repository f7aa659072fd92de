"""Appeals (обращения): kinds, appeals, incoming mail (mailboxes polled over IMAP, messages stored as
received with their attachments) and telephonograms (other organisations' notices of outages by address).

appeals.source:  phone, email, visit, portal, bot, letter
appeals.status:
  new       — registered, nobody works on it yet
  in_work   — an operator works on it
  answered  — the applicant got an answer (answered_at)
  closed    — closed (closed_at)
appeals.call_id is plain (call records live in t0008; no foreign key on purpose).
mailboxes.secret: the IMAP password encrypted with the app's secret key (never audited, never returned).
mail_messages.raw: the message exactly as received (RFC 822 bytes); message_id is the Message-ID header
(or a digest of the raw bytes when the header is missing): a message is stored once per mailbox.
telephonogram_addresses: a house or a whole street affected (exactly one of them).

Revision ID: t0009
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
SOURCES = "'phone', 'email', 'visit', 'portal', 'bot', 'letter'"
STATUSES = "'new', 'in_work', 'answered', 'closed'"
TELEPHONOGRAM_KINDS = "'planned', 'emergency', 'info'"
KINDS = [("complaint", "Жалоба"), ("application", "Заявление"), ("consultation", "Консультация"),
         ("emergency", "Аварийное сообщение"), ("readings", "Показания"), ("other", "Прочее")]
AUDITED = ("appeal_kinds", "mailboxes", "mail_messages", "mail_attachments", "appeals", "telephonograms",
           "telephonogram_addresses")
HIDDEN = {"mailboxes": ("secret",), "mail_messages": ("raw",), "mail_attachments": ("content",)}


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "appeal_kinds",
        _id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.execute("INSERT INTO appeal_kinds(code, name) VALUES " + ", ".join(f"('{c}', '{n}')" for c, n in KINDS))
    op.create_table(
        "mailboxes",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("port", sa.Integer, nullable=False, server_default="993"),
        sa.Column("use_ssl", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False, server_default=""),  # encrypted password
        sa.Column("folder", sa.Text, nullable=False, server_default="INBOX"),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("kind_id", sa.Integer, sa.ForeignKey("appeal_kinds.id")),  # kind of the appeals it makes
        sa.Column("uid_validity", sa.BigInteger),
        sa.Column("last_uid", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_polled_at", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", TS),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name="mailboxes_port"),
    )
    op.create_table(
        "mail_messages",
        _id(),
        sa.Column("mailbox_id", sa.Integer, sa.ForeignKey("mailboxes.id"), nullable=False),
        sa.Column("uid", sa.BigInteger, nullable=False),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("from_addr", sa.Text, nullable=False, server_default=""),
        sa.Column("from_name", sa.Text, nullable=False, server_default=""),
        sa.Column("to_addr", sa.Text, nullable=False, server_default=""),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("sent_at", TS),
        sa.Column("received_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("body_text", sa.Text, nullable=False, server_default=""),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("mailbox_id", "message_id"),
    )
    op.create_index("mail_messages_received", "mail_messages", ["received_at"])
    op.create_table(
        "mail_attachments",
        _id(),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("mail_messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False, server_default=""),
        sa.Column("content_type", sa.Text, nullable=False, server_default="application/octet-stream"),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_index("mail_attachments_message", "mail_attachments", ["message_id"])
    op.execute("CREATE SEQUENCE appeal_numbers")
    op.create_table(
        "appeals",
        _id(),
        sa.Column("number", sa.String(32), nullable=False, unique=True,
                  server_default=sa.text("'О-' || lpad(nextval('appeal_numbers')::text, 6, '0')")),
        sa.Column("received_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("kind_id", sa.Integer, sa.ForeignKey("appeal_kinds.id"), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="new"),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("house_id", sa.Integer, sa.ForeignKey("houses.id")),
        sa.Column("premise_id", sa.Integer, sa.ForeignKey("premises.id")),
        sa.Column("address_text", sa.Text, nullable=False, server_default=""),
        sa.Column("applicant_name", sa.Text, nullable=False, server_default=""),
        sa.Column("applicant_phone", sa.String(32), nullable=False, server_default=""),
        sa.Column("applicant_email", sa.Text, nullable=False, server_default=""),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("result", sa.Text, nullable=False, server_default=""),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("call_id", sa.BigInteger),
        sa.Column("mail_message_id", sa.Integer, sa.ForeignKey("mail_messages.id")),
        sa.Column("answered_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(f"source IN ({SOURCES})", name="appeals_source"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="appeals_status"),
    )
    op.create_index("appeals_received", "appeals", ["received_at"])
    op.create_index("appeals_operator", "appeals", ["operator_id", "received_at"])
    op.create_index("appeals_house", "appeals", ["house_id", "received_at"])
    op.create_index("appeals_account", "appeals", ["account_id", "received_at"])
    op.create_index("appeals_kind", "appeals", ["kind_id", "received_at"])
    op.create_index("appeals_source", "appeals", ["source", "received_at"])
    op.create_index("appeals_status", "appeals", ["status", "received_at"])
    op.execute("CREATE INDEX appeals_call ON appeals(call_id) WHERE call_id IS NOT NULL")
    op.execute("CREATE UNIQUE INDEX appeals_mail_message ON appeals(mail_message_id) WHERE mail_message_id IS NOT NULL")
    op.create_table(
        "telephonograms",
        _id(),
        sa.Column("number", sa.String(32), nullable=False, server_default=""),
        sa.Column("received_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("from_org", sa.Text, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False, server_default="planned"),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("valid_from", TS, nullable=False),
        sa.Column("valid_to", TS),  # NULL: until cancelled
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint(f"kind IN ({TELEPHONOGRAM_KINDS})", name="telephonograms_kind"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="telephonograms_period"),
    )
    op.create_index("telephonograms_valid", "telephonograms", ["valid_from", "valid_to"])
    op.create_table(
        "telephonogram_addresses",
        _id(),
        sa.Column("telephonogram_id", sa.Integer, sa.ForeignKey("telephonograms.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("house_id", sa.Integer, sa.ForeignKey("houses.id")),
        sa.Column("street_id", sa.Integer, sa.ForeignKey("streets.id")),
        sa.CheckConstraint("(house_id IS NULL) <> (street_id IS NULL)", name="telephonogram_addresses_one"),
    )
    op.create_index("telephonogram_addresses_house", "telephonogram_addresses", ["house_id"])
    op.create_index("telephonogram_addresses_street", "telephonogram_addresses", ["street_id"])
    op.create_index("telephonogram_addresses_telephonogram", "telephonogram_addresses", ["telephonogram_id"])
    for table in AUDITED:
        audit_table(table, hidden=HIDDEN.get(table, ()))
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, 'appeals', a FROM roles, unnest(ARRAY['view', 'edit']) a WHERE code = 'operator'")


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE resource = 'appeals'")
    for table in ("telephonogram_addresses", "telephonograms", "appeals", "mail_attachments", "mail_messages",
                  "mailboxes", "appeal_kinds"):
        op.drop_table(table)
    op.execute("DROP SEQUENCE appeal_numbers")
