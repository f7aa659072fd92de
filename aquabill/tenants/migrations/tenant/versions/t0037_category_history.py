"""The dated 416-FZ penalty category of a counterparty (legal_entities/penalties.py, `category_on`).

counterparty_category_changes  one row per change of a counterparty's category: from `effective_from` it is
                               `category`, before it it was `previous`; a note, when and by whom it was written.
                               One change per counterparty and day; the unique index (counterparty_id,
                               effective_from) is also the lookup's: the accrual takes, per document, the
                               earliest change after its due day (penalty_store.py)
counterparties.penalty_category  unchanged: the latest category (in force since the latest change, or since ever)

Until now a change of the category repriced the whole history of the counterparty's debts (in the open month's
accrual). Existing counterparties get no rows: their category holds since ever, as it was computed so far.
Downgrading drops the history (the counterparties keep their latest category).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0037"
down_revision = "t0036"

CATEGORIES = "'management_company', 'hoa', 'other'"  # as counterparties_penalty_category (t0034)


def upgrade() -> None:
    op.create_table(
        "counterparty_category_changes",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("counterparty_id", sa.Integer, sa.ForeignKey("counterparties.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("previous", sa.String(20), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.CheckConstraint(f"previous IN ({CATEGORIES}) AND category IN ({CATEGORIES})",
                           name="counterparty_category_changes_category"),
        sa.CheckConstraint("previous <> category", name="counterparty_category_changes_a_change"),
        sa.UniqueConstraint("counterparty_id", "effective_from", name="counterparty_category_changes_once"),
    )
    audit_table("counterparty_category_changes")


def downgrade() -> None:
    op.drop_table("counterparty_category_changes")
