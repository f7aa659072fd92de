"""The notification center (#14): message templates, the tenant's sending rules, opt-outs, campaigns with their
recipients and per-channel deliveries.

notification_templates: a message (subject, plain-text body — a sandboxed Jinja template — and the autocall's
                        sound name); `code` names the seeded defaults. Changed by staff: audited.
notification_settings:  one row (absent: the defaults of notifications/settings.py): quiet hours in the
                        tenant's time zone, the price of one SMS part, rate limits per channel. Audited.
notification_optouts:   who does not want notices: an account (every address of it) or one address (e-mail,
                        +7 phone, messenger chat), on one channel or on all of them (`channel` NULL). Audited.
campaigns:              a mailing: title, a snapshot of the template (subject, body, sound), the audience filter
                        and the campaign's own fields (jsonb, e.g. an outage's dates and houses), the channels in
                        order and the mode ('first': the first channel a recipient can be reached by, the next
                        one when it fails for good; 'all': every channel), the rate limits, the state
                        (draft → running → done | cancelled; paused), the job that runs it. Audited.
campaign_recipients:    one row per account of the audience, written when the campaign starts (set-based): the
                        variables its message is rendered with, its address per channel and the channels it can
                        be reached by, opt-outs applied. Written by the campaign job: not audited.
campaign_deliveries:    one row per recipient × channel tried: status (pending → sending → sent, delivered,
                        answered, busy, no_answer, failed, skipped, unknown), attempts, the peer's answer. A row is
                        claimed ('sending', `claimed_at`) and committed before the peer is called; see
                        notifications/campaign_store.py for what happens to a claim whose worker died.
subscriber_inbox.dedupe_key: the delivery's idempotency key, so a resent notice lands once.

Revision ID: t0027
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0027"
down_revision = "t0026"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
CHANNELS = "'email', 'sms', 'telegram', 'max', 'autocall', 'inbox'"
DELIVERY = ("'pending', 'sending', 'sent', 'delivered', 'answered', 'busy', 'no_answer', 'failed', 'skipped', "
            "'unknown'")

# the defaults every tenant starts with (Russian texts; variables: notifications/templates.py)
TEMPLATES = [
    ("debt", "Напоминание о задолженности", "Задолженность по лицевому счёту {{ account }}",
     "{{ holder }}, по лицевому счёту {{ account }} ({{ address }}) задолженность {{ debt }} руб."
     "{% if debt_months > 1 %} за {{ debt_months }} мес.{% endif %} Пожалуйста, оплатите до {{ due_date }}. "
     "{{ tenant_name }}{% if tenant_phone %}, тел. {{ tenant_phone }}{% endif %}", "custom/aquabill-debt"),
    ("outage", "Плановое отключение воды", "Отключение воды {{ outage_from }}",
     "Уважаемые жители! {{ outage_from }}{% if outage_to %} – {{ outage_to }}{% endif %} по адресу {{ address }} "
     "будет отключено водоснабжение. {{ outage_text }} {{ tenant_name }}"
     "{% if tenant_phone %}, тел. {{ tenant_phone }}{% endif %}", "custom/aquabill-outage"),
    ("verification", "Срок поверки счётчика", "Истекает срок поверки счётчика",
     "{{ holder }}, срок поверки счётчика по адресу {{ address }} истекает {{ verification_date }}. "
     "Без поверки начисления будут по нормативу. {{ tenant_name }}"
     "{% if tenant_phone %}, тел. {{ tenant_phone }}{% endif %}", "custom/aquabill-verification"),
    ("receipt", "Квитанция готова", "Квитанция за {{ period }}",
     "{{ holder }}, квитанция за {{ period }} по лицевому счёту {{ account }} готова: к оплате {{ debt }} руб. "
     "до {{ due_date }}. Её можно посмотреть и оплатить в личном кабинете. {{ tenant_name }}", ""),
]


def upgrade() -> None:
    op.create_table(
        "notification_templates",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("code", sa.String(32), unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sound", sa.String(200), nullable=False, server_default=""),
        sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_by", sa.Integer),
    )
    audit_table("notification_templates")
    for code, title, subject, body, sound in TEMPLATES:
        op.execute(sa.text("INSERT INTO notification_templates(code, title, subject, body, sound) "
                           "VALUES (:c, :t, :s, :b, :snd)").bindparams(c=code, t=title, s=subject, b=body, snd=sound))

    op.create_table(
        "notification_settings",
        sa.Column("id", sa.Integer, primary_key=True, server_default="1"),
        sa.Column("quiet_from", sa.Time, nullable=False, server_default="21:00"),
        sa.Column("quiet_to", sa.Time, nullable=False, server_default="09:00"),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="Europe/Moscow"),
        sa.Column("sms_price", sa.Numeric(10, 2), nullable=False, server_default="3.50"),
        sa.Column("rates", JSONB, nullable=False, server_default="{}"),  # channel → messages per second
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_by", sa.Integer),
        sa.CheckConstraint("id = 1", name="notification_settings_one"),
        sa.CheckConstraint("sms_price >= 0", name="notification_settings_price"),
    )
    audit_table("notification_settings")

    op.create_table(
        "notification_optouts",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("address", sa.String(254)),
        sa.Column("channel", sa.String(16)),  # NULL: every channel
        sa.Column("reason", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("(account_id IS NULL) <> (address IS NULL)", name="notification_optouts_whom"),
        sa.CheckConstraint(f"channel IN ({CHANNELS})", name="notification_optouts_channel"),
    )
    op.execute("CREATE UNIQUE INDEX notification_optouts_one ON notification_optouts "
               "(coalesce(account_id, 0), coalesce(address, ''), coalesce(channel, ''))")
    op.execute("CREATE INDEX notification_optouts_address ON notification_optouts(address) WHERE address IS NOT NULL")
    audit_table("notification_optouts")

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("template_id", sa.Integer, sa.ForeignKey("notification_templates.id", ondelete="SET NULL")),
        sa.Column("subject", sa.String(200), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sound", sa.String(200), nullable=False, server_default=""),
        sa.Column("audience", JSONB, nullable=False, server_default="{}"),
        sa.Column("fields", JSONB, nullable=False, server_default="{}"),  # outage_from, outage_to, outage_text …
        sa.Column("channels", ARRAY(sa.String(16)), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False, server_default="first"),
        sa.Column("rates", JSONB, nullable=False, server_default="{}"),
        sa.Column("status", sa.String(12), nullable=False, server_default="draft"),
        sa.Column("recipients", sa.Integer, nullable=False, server_default="0"),
        sa.Column("job_id", UUID(as_uuid=True)),
        sa.Column("resume_at", TS),  # waiting for the end of the quiet hours
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.Column("started_at", TS),
        sa.Column("materialised_at", TS),
        sa.Column("finished_at", TS),
        sa.CheckConstraint("mode IN ('first', 'all')", name="campaigns_mode"),
        sa.CheckConstraint("status IN ('draft', 'running', 'paused', 'done', 'cancelled')", name="campaigns_status"),
        sa.CheckConstraint("cardinality(channels) BETWEEN 1 AND 6", name="campaigns_channels"),
    )
    op.create_index("campaigns_created", "campaigns", ["created_at"])
    audit_table("campaigns")

    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("vars", JSONB, nullable=False, server_default="{}"),
        sa.Column("addresses", JSONB, nullable=False, server_default="{}"),  # channel → address
        sa.Column("channels", ARRAY(sa.String(16)), nullable=False),  # reachable, in the campaign's order
        sa.Column("note", sa.String(200), nullable=False, server_default=""),  # why unreachable
        sa.UniqueConstraint("campaign_id", "account_id", name="campaign_recipients_one"),
    )

    op.create_table(
        "campaign_deliveries",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("recipient_id", sa.BigInteger, sa.ForeignKey("campaign_recipients.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("external_id", sa.String(128)),
        sa.Column("parts", sa.SmallInteger),
        sa.Column("cost", sa.Numeric(10, 2)),
        sa.Column("next_attempt_at", TS),  # NULL: due at once; a retry's time otherwise
        sa.Column("claimed_at", TS),
        sa.Column("sent_at", TS),
        sa.UniqueConstraint("campaign_id", "recipient_id", "channel", name="campaign_deliveries_one"),
        sa.CheckConstraint(f"channel IN ({CHANNELS})", name="campaign_deliveries_channel"),
        sa.CheckConstraint(f"status IN ({DELIVERY})", name="campaign_deliveries_status"),
    )
    op.execute("CREATE INDEX campaign_deliveries_due ON campaign_deliveries(campaign_id, channel, id) "
               "WHERE status = 'pending'")
    op.execute("CREATE INDEX campaign_deliveries_claimed ON campaign_deliveries(campaign_id, claimed_at) "
               "WHERE status = 'sending'")
    op.create_index("campaign_deliveries_status", "campaign_deliveries", ["campaign_id", "status"])
    op.create_index("campaign_deliveries_recipient", "campaign_deliveries", ["recipient_id"])

    op.add_column("subscriber_inbox", sa.Column("dedupe_key", sa.Text))
    op.execute("CREATE UNIQUE INDEX subscriber_inbox_dedupe ON subscriber_inbox(dedupe_key) "
               "WHERE dedupe_key IS NOT NULL")

    # who sends notices: the operators (the admin role has '*', the viewer '*' view)
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, 'notifications', a FROM roles, unnest(ARRAY['view', 'edit']) a WHERE code = 'operator'")


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE resource = 'notifications'")
    op.execute("DROP INDEX subscriber_inbox_dedupe")
    op.drop_column("subscriber_inbox", "dedupe_key")
    for table in ("campaign_deliveries", "campaign_recipients", "campaigns", "notification_optouts",
                  "notification_settings", "notification_templates"):
        op.drop_table(table)
