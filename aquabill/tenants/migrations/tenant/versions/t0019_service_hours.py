"""The tenant's own working hours and time zone for SLA working time; more kinds of calendar days.

service_hours: one row (id = 1) per tenant schema — the time zone (IANA name) and the working day's start
  and end in that zone, Monday to Friday. Seeded with what every tenant had before: Europe/Moscow,
  08:00–17:00. Edited on the working-calendar page or `PUT /api/working-calendar/hours`.
working_calendar.kind gains:
  'weekend' — a Saturday or Sunday off, written when a year is loaded (`work_calendar.fill_year`); a year with
              weekend rows is "loaded" (the page says so), otherwise the ordinary week is assumed;
  'short'   — a pre-holiday working day shortened by one hour (art. 95 of the Labour Code).

Revision ID: t0019
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0019"
down_revision = "t0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_hours",
        sa.Column("id", sa.SmallInteger, primary_key=True, server_default="1"),
        sa.Column("zone", sa.Text, nullable=False, server_default="Europe/Moscow"),
        sa.Column("day_start", sa.Time, nullable=False, server_default="08:00"),
        sa.Column("day_end", sa.Time, nullable=False, server_default="17:00"),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_by", sa.Integer),
        sa.CheckConstraint("id = 1", name="service_hours_one_row"),
        sa.CheckConstraint("day_start < day_end", name="service_hours_day"),
        sa.CheckConstraint("length(zone) BETWEEN 1 AND 64", name="service_hours_zone"),
    )
    op.execute("INSERT INTO service_hours(id) VALUES (1)")
    audit_table("service_hours")
    op.drop_constraint("working_calendar_kind", "working_calendar", type_="check")
    op.create_check_constraint("working_calendar_kind", "working_calendar",
                               "kind IN ('holiday', 'working', 'weekend', 'short')")


def downgrade() -> None:
    op.execute("DELETE FROM working_calendar WHERE kind IN ('weekend', 'short')")
    op.drop_constraint("working_calendar_kind", "working_calendar", type_="check")
    op.create_check_constraint("working_calendar_kind", "working_calendar", "kind IN ('holiday', 'working')")
    op.drop_table("service_hours")
