"""Receipts (ЕПД): the payee's requisites printed on every receipt and put into its payment QR
(GOST R 56042: Name, PersonalAcc, BankName, BIC, CorrespAcc; PayeeINN, KPP), one row per tenant.

Revision ID: t0014
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0014"
down_revision = "t0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payee_requisites",
        sa.Column("id", sa.Integer, primary_key=True, server_default="1"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("inn", sa.String(12), nullable=False, server_default=""),
        sa.Column("kpp", sa.String(9), nullable=False, server_default=""),
        sa.Column("personal_acc", sa.String(20), nullable=False),
        sa.Column("bank_name", sa.Text, nullable=False),
        sa.Column("bic", sa.String(9), nullable=False),
        sa.Column("corresp_acc", sa.String(20), nullable=False, server_default="0"),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("phone", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("id = 1", name="payee_requisites_single"),
    )
    audit_table("payee_requisites")
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, 'receipts', a FROM roles, unnest(ARRAY['view', 'edit']) a WHERE code = 'operator'")


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE resource = 'receipts'")
    op.drop_table("payee_requisites")
