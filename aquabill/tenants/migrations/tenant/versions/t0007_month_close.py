"""Month close: divisions (houses belong to one), per-division closing of a month, the tenant's set of
close checks, stored check results and the journal of closes / reopens.

A month is closed for an account when `periods.status = 'closed'` (whole tenant) or when the account's
house's division has a `period_divisions` row of that month with status 'closed'.

close_checks.code (the catalogue lives in billing_core/month_close/catalogue.py):
  unbilled_accounts, negative_volumes, overdue_verification, unallocated_payments,
  old_unidentified_payments (parameter: days), unfinished_runs
close_checks.blocking: a failed blocking check refuses the close; a failed non-blocking one is a warning
that the closer must accept.

Revision ID: t0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
AUDITED = ("divisions", "period_divisions", "close_checks", "close_check_runs", "period_closes")

# code, name, enabled, blocking, parameter, position
CHECKS = [
    ("unbilled_accounts", "Лицевые счета без начислений за период", True, True, None, 10),
    ("negative_volumes", "Отрицательные объёмы в начислениях", True, True, None, 20),
    ("overdue_verification", "Начисления по ИПУ с просроченной поверкой", True, False, None, 30),
    ("unallocated_payments", "Нераспределённые платежи", True, False, None, 40),
    ("old_unidentified_payments", "Невыясненные платежи старше N дней", True, False, 5, 50),
    ("unfinished_runs", "Незавершённые расчёты периода", True, True, None, 60),
]


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def _user(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey("users.id"))


def upgrade() -> None:
    op.create_table(
        "divisions",
        _id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.add_column("houses", sa.Column("division_id", sa.Integer, sa.ForeignKey("divisions.id")))
    op.create_index("houses_division", "houses", ["division_id"])
    op.add_column("periods", _user("closed_by"))
    op.create_table(
        "period_divisions",
        _id(),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("division_id", sa.Integer, sa.ForeignKey("divisions.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="closed"),
        sa.Column("closed_at", TS),
        _user("closed_by"),
        sa.UniqueConstraint("period", "division_id"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="period_divisions_status"),
        sa.CheckConstraint("extract(day FROM period) = 1", name="period_divisions_first_day"),
    )
    op.create_table(
        "close_checks",
        _id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("blocking", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("parameter", sa.Integer),  # e.g. days for old unidentified payments
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("code IN (" + ", ".join(f"'{c[0]}'" for c in CHECKS) + ")", name="close_checks_code"),
        sa.CheckConstraint("parameter IS NULL OR parameter BETWEEN 0 AND 3650", name="close_checks_parameter"),
    )
    op.execute("INSERT INTO close_checks(code, name, enabled, blocking, parameter, position) VALUES "
               + ", ".join(f"('{c}', '{n}', {e}, {b}, {'NULL' if p is None else p}, {pos})"
                           for c, n, e, b, p, pos in CHECKS))
    op.create_table(
        "close_check_runs",
        _id(),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("division_id", sa.Integer, sa.ForeignKey("divisions.id")),  # NULL: whole tenant
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("results", JSONB, nullable=False, server_default="[]"),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        _user("created_by"),
        sa.CheckConstraint("outcome IN ('pass', 'warn', 'block')", name="close_check_runs_outcome"),
    )
    op.create_index("close_check_runs_period", "close_check_runs", ["period", "division_id", "id"])
    op.create_table(
        "period_closes",
        _id(),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("division_id", sa.Integer, sa.ForeignKey("divisions.id")),  # NULL: whole tenant
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("check_run_id", sa.Integer, sa.ForeignKey("close_check_runs.id")),
        sa.Column("warnings_accepted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        _user("created_by"),
        sa.CheckConstraint("action IN ('close', 'reopen')", name="period_closes_action"),
    )
    op.create_index("period_closes_period", "period_closes", ["period", "id"])
    for table in AUDITED:
        audit_table(table)
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, 'periods', a FROM roles, unnest(ARRAY['view', 'edit']) a WHERE code = 'operator'")


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE resource = 'periods'")
    for table in ("period_closes", "close_check_runs", "close_checks", "period_divisions"):
        op.drop_table(table)
    op.drop_column("periods", "closed_by")
    op.drop_index("houses_division", "houses")
    op.drop_column("houses", "division_id")
    op.drop_table("divisions")
