"""Requests and works: divisions (of t0007) get a head and a parent for escalations; executors with their territories, SLA routes with phases,
requests (заявки) with their journal and documents, works done and acts of completed works.

requests.status:
  new        — no executor yet (none found, or the phase names none)
  assigned   — an executor is assigned and has not accepted yet (reaction timer runs)
  in_work    — accepted by the executor
  done       — the last phase was completed
  closed     — closed (a paid request only after its act)
  cancelled  — cancelled

The SLA timer of the current phase: phase_started_at → phase_deadline (from route_phases.time_limit_minutes,
calendar or working time); reaction_deadline: by when the assignee must accept, else reassignment.
escalation_level counts escalations of the current phase (division head, then the parent division's head …).

work_acts.one_off_id: the one-off charge (basis 'account', service `paid_works`, created with the first act)
the act posted.
appeal_id is plain (appeals live in t0009; no foreign key on purpose).

Revision ID: t0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0010"
down_revision = "t0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)
KINDS = "'emergency', 'planned', 'paid'"
STATUSES = "'new', 'assigned', 'in_work', 'done', 'closed', 'cancelled'"
EVENTS = ("'created', 'assigned', 'reassigned', 'accepted', 'phase', 'overdue', 'escalated', 'document', "
          "'work', 'act', 'done', 'closed', 'cancelled', 'unassigned', 'no_reaction'")
AUDITED = ("executors", "executor_territories", "request_routes", "route_phases", "requests",
           "request_documents", "works", "work_acts")


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def _user(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey("users.id"))


def upgrade() -> None:
    # the divisions of t0007 (houses belong to one) are also the service divisions: a head who gets the
    # escalations of its overdue requests, and the next level up
    op.add_column("divisions", _user("head_user_id"))
    op.add_column("divisions", sa.Column("parent_id", sa.Integer, sa.ForeignKey("divisions.id")))
    op.create_table(
        "executors",
        _id(),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, unique=True),
        sa.Column("division_id", sa.Integer, sa.ForeignKey("divisions.id"), nullable=False),
        sa.Column("cap", sa.Integer, nullable=False, server_default="5"),  # open requests at most
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.CheckConstraint("cap BETWEEN 0 AND 1000", name="executors_cap"),
    )
    op.create_table(
        "executor_territories",
        _id(),
        sa.Column("executor_id", sa.Integer, sa.ForeignKey("executors.id", ondelete="CASCADE"), nullable=False),
        sa.Column("house_id", sa.Integer, sa.ForeignKey("houses.id")),
        sa.Column("street_id", sa.Integer, sa.ForeignKey("streets.id")),
        sa.CheckConstraint("(house_id IS NULL) <> (street_id IS NULL)", name="executor_territories_one"),
    )
    op.create_index("executor_territories_executor", "executor_territories", ["executor_id"])
    op.create_table(
        "request_routes",
        _id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="request_routes_kind"),
    )
    op.create_table(
        "route_phases",
        _id(),
        sa.Column("route_id", sa.Integer, sa.ForeignKey("request_routes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("time_limit_minutes", sa.Integer, nullable=False),
        sa.Column("working_time", sa.Boolean, nullable=False, server_default=sa.false()),  # 08–17 Mon–Fri
        sa.Column("reaction_minutes", sa.Integer),  # NULL: no reassignment on silence
        _user("executor_user_id"),
        sa.Column("division_id", sa.Integer, sa.ForeignKey("divisions.id")),
        sa.Column("required_documents", JSONB, nullable=False, server_default="[]"),  # ["Акт осмотра", …]
        sa.UniqueConstraint("route_id", "ordinal"),
        sa.CheckConstraint("time_limit_minutes > 0 AND (reaction_minutes IS NULL OR reaction_minutes > 0)",
                           name="route_phases_limits"),
        sa.CheckConstraint("jsonb_typeof(required_documents) = 'array'", name="route_phases_documents"),
    )
    op.execute("CREATE SEQUENCE request_numbers")
    op.execute("CREATE SEQUENCE work_act_numbers")
    op.create_table(
        "requests",
        _id(),
        sa.Column("number", sa.String(32), nullable=False, unique=True,
                  server_default=sa.text("'З-' || lpad(nextval('request_numbers')::text, 6, '0')")),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("route_id", sa.Integer, sa.ForeignKey("request_routes.id")),
        sa.Column("phase_id", sa.Integer, sa.ForeignKey("route_phases.id")),
        sa.Column("status", sa.String(12), nullable=False, server_default="new"),
        sa.Column("appeal_id", sa.Integer),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("house_id", sa.Integer, sa.ForeignKey("houses.id")),
        sa.Column("address_text", sa.Text, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        _user("assignee_user_id"),
        sa.Column("division_id", sa.Integer, sa.ForeignKey("divisions.id")),
        sa.Column("assigned_at", TS),
        sa.Column("reaction_deadline", TS),
        sa.Column("accepted_at", TS),
        sa.Column("phase_started_at", TS),
        sa.Column("phase_deadline", TS),
        sa.Column("overdue_at", TS),
        sa.Column("escalation_level", sa.Integer, nullable=False, server_default="0"),
        sa.Column("escalated_at", TS),
        _user("escalated_to_user_id"),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.Column("closed_at", TS),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="requests_kind"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="requests_status"),
    )
    op.create_index("requests_status", "requests", ["status", "phase_deadline"])
    op.create_index("requests_assignee", "requests", ["assignee_user_id", "status"])
    op.execute("CREATE INDEX requests_timers ON requests(phase_deadline) WHERE status IN ('new', 'assigned', 'in_work')")
    op.create_table(
        "request_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("user_id", sa.Integer),  # who acted (NULL: the system, e.g. the timers)
        sa.Column("to_user_id", sa.Integer),  # assigned / escalated to
        sa.Column("phase_id", sa.Integer),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint(f"kind IN ({EVENTS})", name="request_events_kind"),
    )
    op.create_index("request_events_request", "request_events", ["request_id", "id"])
    op.create_table(
        "request_documents",
        _id(),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("phase_id", sa.Integer, sa.ForeignKey("route_phases.id")),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False, server_default=""),
        sa.Column("content", sa.LargeBinary),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
    )
    op.create_index("request_documents_request", "request_documents", ["request_id"])
    op.create_table(
        "works",
        _id(),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("performed_on", sa.Date, nullable=False),
        sa.Column("labour_hours", sa.Numeric(8, 2), nullable=False, server_default="0"),
        sa.Column("labour_cost", MONEY, nullable=False, server_default="0"),
        # [{"name", "unit", "quantity", "price", "amount"}]
        sa.Column("materials", JSONB, nullable=False, server_default="[]"),
        sa.Column("materials_cost", MONEY, nullable=False, server_default="0"),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("labour_hours >= 0 AND labour_cost >= 0 AND materials_cost >= 0", name="works_amounts"),
    )
    op.create_index("works_request", "works", ["request_id"])
    op.create_table(
        "work_acts",
        _id(),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id"), nullable=False, unique=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True,
                  server_default=sa.text("'А-' || lpad(nextval('work_act_numbers')::text, 6, '0')")),
        sa.Column("act_date", sa.Date, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("one_off_id", sa.Integer, sa.ForeignKey("one_off_charges.id"), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("amount > 0", name="work_acts_amount"),
    )
    op.execute("""INSERT INTO request_routes(code, name, kind) VALUES
        ('emergency', 'Аварийная заявка', 'emergency'), ('planned', 'Плановая заявка', 'planned'),
        ('paid', 'Платная услуга', 'paid')""")
    op.execute("""INSERT INTO route_phases(route_id, ordinal, name, time_limit_minutes, reaction_minutes,
                                           required_documents)
        SELECT r.id, p.ordinal, p.name, p.minutes, p.reaction, CAST(p.docs AS jsonb)
        FROM request_routes r JOIN (VALUES
            ('emergency', 1, 'Выезд бригады', 120, 15, '[]'),
            ('emergency', 2, 'Устранение аварии', 480, NULL, '["Акт выполненных работ"]'),
            ('planned', 1, 'Выполнение работ', 4320, 60, '["Акт выполненных работ"]'),
            ('paid', 1, 'Выполнение работ', 4320, 60, '["Акт выполненных работ"]')
        ) p(route, ordinal, name, minutes, reaction, docs) ON p.route = r.code""")
    for table in AUDITED:
        audit_table(table, hidden=("content",) if table == "request_documents" else ())
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, 'requests', a FROM roles, unnest(ARRAY['view', 'edit']) a WHERE code = 'operator'")


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE resource = 'requests'")
    for table in ("work_acts", "works", "request_documents", "request_events", "requests", "route_phases",
                  "request_routes", "executor_territories", "executors"):
        op.drop_table(table)
    op.drop_column("divisions", "parent_id")
    op.drop_column("divisions", "head_user_id")
    op.execute("DROP SEQUENCE work_act_numbers")
    op.execute("DROP SEQUENCE request_numbers")
