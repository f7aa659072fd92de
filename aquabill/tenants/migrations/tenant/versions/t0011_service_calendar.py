"""Working calendar of the tenant (SLA working time of requests) and calls lost with the AMI link.

working_calendar: dates that differ from the ordinary week (Monday–Friday working, Saturday and Sunday off):
  kind = 'holiday' — a non-working day (a public holiday or a day off transferred onto a weekday)
  kind = 'working' — a working day on a weekend (a transferred working Saturday)
Seeded with the Russian production calendar for 2025 and 2026 (art. 112 of the Labour Code plus the
government's decrees on the transfer of days off):
  2025 — Постановление Правительства РФ от 04.10.2024 № 1335 «О переносе выходных дней в 2025 году»:
         4 Jan → 2 May, 5 Jan → 31 Dec, 23 Feb → 8 May, 8 Mar → 13 Jun, Saturday 1 Nov → Monday 3 Nov
         (1 Nov 2025 is a working Saturday).
  2026 — the government's decree of 24.09.2025 on the transfer of days off in 2026 (its number was not
         verified when this was written): 3 Jan → 9 Jan, 4 Jan → 31 Dec; 23 Feb is a Monday; 8 Mar (Sunday)
         and 9 May (Saturday) move by art. 112 to 9 Mar and 11 May; no working Saturdays.
Holidays falling on a weekend are stored too (harmless, and the page shows the whole calendar).

calls.status gains 'lost': the call was still ringing or in progress when the link to the PBX (AMI) was
lost; its end is unknown, ended_at is the last event seen before the loss.

Revision ID: t0011
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0011"
down_revision = "t0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
FIXED = (("01-01", "Новогодние каникулы"), ("01-02", "Новогодние каникулы"), ("01-03", "Новогодние каникулы"),
         ("01-04", "Новогодние каникулы"), ("01-05", "Новогодние каникулы"), ("01-06", "Новогодние каникулы"),
         ("01-07", "Рождество Христово"), ("01-08", "Новогодние каникулы"),
         ("02-23", "День защитника Отечества"), ("03-08", "Международный женский день"),
         ("05-01", "Праздник Весны и Труда"), ("05-09", "День Победы"), ("06-12", "День России"),
         ("11-04", "День народного единства"))
TRANSFERRED = {
    2025: [("2025-05-02", "holiday", "Перенос с 4 января"), ("2025-12-31", "holiday", "Перенос с 5 января"),
           ("2025-05-08", "holiday", "Перенос с 23 февраля"), ("2025-06-13", "holiday", "Перенос с 8 марта"),
           ("2025-11-03", "holiday", "Перенос с 1 ноября"),
           ("2025-11-01", "working", "Рабочая суббота (перенос на 3 ноября)")],
    2026: [("2026-01-09", "holiday", "Перенос с 3 января"), ("2026-12-31", "holiday", "Перенос с 4 января"),
           ("2026-03-09", "holiday", "Перенос с 8 марта (воскресенье)"),
           ("2026-05-11", "holiday", "Перенос с 9 мая (суббота)")],
}


def seed_rows() -> list[tuple[str, str, str]]:
    rows = [(f"{year}-{md}", "holiday", note) for year in (2025, 2026) for md, note in FIXED]
    for extra in TRANSFERRED.values():
        rows.extend(extra)
    return rows


def upgrade() -> None:
    op.create_table(
        "working_calendar",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("day", sa.Date, nullable=False, unique=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("kind IN ('holiday', 'working')", name="working_calendar_kind"),
    )
    op.execute("INSERT INTO working_calendar(day, kind, note) VALUES "
               + ", ".join(f"(DATE '{d}', '{k}', '{n}')" for d, k, n in seed_rows()))
    audit_table("working_calendar")
    op.drop_constraint("calls_status", "calls", type_="check")
    op.create_check_constraint("calls_status", "calls",
                               "status IN ('answered', 'missed', 'abandoned', 'in_progress', 'lost')")


def downgrade() -> None:
    op.execute("UPDATE calls SET status = 'missed' WHERE status = 'lost'")
    op.drop_constraint("calls_status", "calls", type_="check")
    op.create_check_constraint("calls_status", "calls", "status IN ('answered', 'missed', 'abandoned', 'in_progress')")
    op.drop_table("working_calendar")
