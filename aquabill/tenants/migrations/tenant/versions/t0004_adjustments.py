"""Adjustments of charges: one-off charge documents, installment agreements with their schedule, and the
link of a charge row to what produced it (`charges.source` + `source_id`).

charges.source / source_id:
  one_off   → one_off_charges.id          (the rows of a one-off charge document)
  storno    → charges.id                   (the row reversed; at most one storno per row: unique index)
  agreement → installment_agreements.id    (the debt moved into the agreement, and its return on cancel)
  schedule  → installment_schedule.id      (an instalment; posted at most once: unique index)

Revision ID: t0004
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "one_off_charges",
        _id(),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
        sa.Column("basis", sa.String(12), nullable=False),
        sa.Column("house_id", sa.Integer, sa.ForeignKey("houses.id")),  # NULL with area/residents: whole tenant
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),  # basis 'account' only
        sa.Column("total", MONEY),  # the amount spread (or charged to the one account)
        sa.Column("rate", sa.Numeric(12, 4)),  # or ₽ per m² / per person
        sa.Column("amount", MONEY, nullable=False),  # what was posted (= total when a total was given)
        sa.Column("accounts", sa.Integer, nullable=False),  # rows posted
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("basis IN ('area', 'residents', 'account')", name="one_off_charges_basis"),
        sa.CheckConstraint("(basis = 'account') = (account_id IS NOT NULL) "
                           "AND (basis <> 'account' OR house_id IS NULL)", name="one_off_charges_target"),
        sa.CheckConstraint("(total IS NULL) <> (rate IS NULL) AND (rate IS NULL OR basis <> 'account')",
                           name="one_off_charges_amount"),
        sa.CheckConstraint("extract(day FROM period) = 1", name="one_off_charges_period"),
    )
    op.create_index("one_off_charges_period", "one_off_charges", ["period"])
    op.create_table(
        "installment_agreements",
        _id(),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("signed_on", sa.Date, nullable=False),
        sa.Column("period", sa.Date, nullable=False),  # where the debt moves into the agreement
        sa.Column("debt", MONEY, nullable=False),
        sa.Column("months", sa.Integer, nullable=False),
        sa.Column("first_period", sa.Date, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="active"),
        sa.Column("cancelled_on", sa.Date),
        sa.Column("cancel_period", sa.Date),  # where the rest of the debt returned
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'cancelled')", name="installment_agreements_status"),
        sa.CheckConstraint("debt > 0 AND months BETWEEN 1 AND 120", name="installment_agreements_terms"),
        sa.CheckConstraint("first_period >= period AND extract(day FROM period) = 1 "
                           "AND extract(day FROM first_period) = 1", name="installment_agreements_periods"),
    )
    op.create_index("installment_agreements_account", "installment_agreements", ["account_id"])
    op.create_table(
        "installment_schedule",
        _id(),
        sa.Column("agreement_id", sa.Integer, sa.ForeignKey("installment_agreements.id"), nullable=False),
        # 1..months (not named `n`: the audit trigger functions alias their transition rows n and o)
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.UniqueConstraint("agreement_id", "period"),
        sa.CheckConstraint("amount > 0 AND extract(day FROM period) = 1", name="installment_schedule_amount"),
    )
    op.create_index("installment_schedule_period", "installment_schedule", ["period"])

    op.add_column("charges", sa.Column("source", sa.String(12)))
    op.add_column("charges", sa.Column("source_id", sa.BigInteger))
    op.create_check_constraint(
        "charges_source", "charges",
        "(source IS NULL) = (source_id IS NULL) AND source IN ('one_off', 'storno', 'agreement', 'schedule')")
    # a row is reversed at most once; an instalment is posted at most once (re-runs, concurrent runs)
    op.execute("CREATE UNIQUE INDEX charges_source_once ON charges(source, source_id) "
               "WHERE source IN ('storno', 'schedule')")
    op.execute("CREATE INDEX charges_source ON charges(source, source_id) WHERE source IN ('one_off', 'agreement')")
    for table in ("one_off_charges", "installment_agreements", "installment_schedule"):
        audit_table(table)


def downgrade() -> None:
    op.execute("DROP INDEX charges_source")
    op.execute("DROP INDEX charges_source_once")
    op.drop_constraint("charges_source", "charges")
    op.drop_column("charges", "source_id")
    op.drop_column("charges", "source")
    for table in ("installment_schedule", "installment_agreements", "one_off_charges"):
        op.drop_table(table)
