"""Penalties (пени, art. 155 part 14 of the Housing Code): the key-rate history, the federal rules as
overridable rows, deferrals for parts of the housing stock, penalty runs and the penalty rows.

penalty_charges.kind:
  accrual — written by a penalty run of `period` (re-running an open period replaces them); the amount is
            the cumulative penalty of the account × month of origin as of the end of `period`, rounded once,
            minus the accruals of earlier periods (so Σ accruals = the calculator's total, and a change of
            history — a late allocation, a storno of a payment — lands as a difference in the open period)
  storno  — reverses one accrual row (`storno_of`) in the open period; document: penalty_stornos
Penalty rows are bulk rows (like charges): no row triggers and no foreign keys; each names its run or its
storno document, both audited.

Revision ID: t0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from aquabill.billing_core.penalties.rates import KEY_RATES
from aquabill.billing_core.penalties.rules import FEDERAL_RULES
from aquabill.tenants.migrations.helpers import audit_table

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)
RATE = sa.Numeric(6, 2)

SETTINGS = [
    ("penalty_debt_scope", '"all_debts"'),  # all_debts | paid_debts_only (calc.PenaltyScope)
    ("penalty_rate_date", '"payment_day"'),  # payment_day | calculation_day | each_day (calc.RateDate)
]


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def upgrade() -> None:
    op.execute("INSERT INTO billing_settings(key, value) VALUES "
               + ", ".join(f"('{k}', '{v}')" for k, v in SETTINGS) + " ON CONFLICT (key) DO NOTHING")
    op.create_table(
        "key_rates",
        _id(),
        sa.Column("valid_from", sa.Date, nullable=False, unique=True),
        sa.Column("rate", RATE, nullable=False),  # percent per annum
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("rate >= 0 AND rate < 100", name="key_rates_rate"),
    )
    for r in KEY_RATES:
        op.execute(sa.text("INSERT INTO key_rates(valid_from, rate, source) VALUES (:d, :r, 'Банк России')")
                   .bindparams(d=r.valid_from, r=r.rate))
    op.create_table(
        "penalty_rules",
        _id(),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("date_from", sa.Date, nullable=False),
        sa.Column("date_to", sa.Date),  # inclusive; NULL: open-ended (not for a moratorium)
        sa.Column("rate", RATE),  # fixed / lower_of only
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("origin", sa.String(8), nullable=False, server_default="tenant"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.CheckConstraint("kind IN ('moratorium', 'fixed', 'lower_of')", name="penalty_rules_kind"),
        sa.CheckConstraint("origin IN ('federal', 'tenant')", name="penalty_rules_origin"),
        sa.CheckConstraint("(kind = 'moratorium') = (rate IS NULL) AND (kind <> 'moratorium' OR date_to IS NOT NULL)"
                           " AND (date_to IS NULL OR date_to >= date_from)", name="penalty_rules_shape"),
    )
    for m in FEDERAL_RULES.moratoria:
        op.execute(sa.text("INSERT INTO penalty_rules(kind, date_from, date_to, source, origin) "
                           "VALUES ('moratorium', :a, :b, :s, 'federal')").bindparams(a=m.start, b=m.end, s=m.source))
    for r in FEDERAL_RULES.rate_rules:
        op.execute(sa.text("INSERT INTO penalty_rules(kind, date_from, date_to, rate, source, origin) "
                           "VALUES (:k, :a, :b, :r, :s, 'federal')")
                   .bindparams(k=r.kind.value, a=r.start, b=r.end, r=r.rate, s=r.source))
    op.create_table(
        "penalty_deferrals",
        _id(),
        sa.Column("scope", sa.String(12), nullable=False),  # all | houses | improvement
        sa.Column("house_ids", ARRAY(sa.Integer)),
        sa.Column("improvement", sa.String(32)),
        sa.Column("date_from", sa.Date, nullable=False),
        sa.Column("date_to", sa.Date, nullable=False),  # inclusive
        sa.Column("reason", sa.Text, nullable=False),  # the decree / decision
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("scope IN ('all', 'houses', 'improvement')", name="penalty_deferrals_scope"),
        sa.CheckConstraint("(scope = 'houses') = (house_ids IS NOT NULL) "
                           "AND (scope = 'improvement') = (improvement IS NOT NULL)", name="penalty_deferrals_target"),
        sa.CheckConstraint("date_to >= date_from", name="penalty_deferrals_range"),
    )
    op.create_table(
        "penalty_runs",
        _id(),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="running"),
        sa.Column("job_id", sa.Uuid),
        sa.Column("settings", JSONB, nullable=False, server_default="{}"),
        sa.Column("accounts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("amount", MONEY, nullable=False, server_default="0"),
        sa.Column("stats", JSONB, nullable=False, server_default="{}"),
        sa.Column("created_by", sa.Integer),
        sa.Column("started_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", TS),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name="penalty_runs_status"),
        sa.CheckConstraint("extract(day FROM period) = 1", name="penalty_runs_period"),
    )
    op.create_table(
        "penalty_stornos",
        _id(),
        sa.Column("period", sa.Date, nullable=False),  # the open period the storno rows go to
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("amount", MONEY, nullable=False),  # Σ of the storno rows (negative)
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "penalty_charges",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("service_id", sa.Integer),  # NULL: the month's debt over all services
        sa.Column("month_of_origin", sa.Date, nullable=False),
        sa.Column("period", sa.Date, nullable=False),  # the month the penalty is charged in
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("days", sa.Integer, nullable=False, server_default="0"),  # days of delay at the period's end
        sa.Column("debt", MONEY, nullable=False, server_default="0"),  # unpaid debt at the period's end
        sa.Column("run_id", sa.Integer),
        sa.Column("storno_id", sa.Integer),  # penalty_stornos.id
        sa.Column("storno_of", sa.BigInteger),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('accrual', 'storno')", name="penalty_charges_kind"),
        sa.CheckConstraint("(kind = 'storno') = (storno_of IS NOT NULL) AND (kind = 'storno') = (storno_id IS NOT NULL)",
                           name="penalty_charges_storno"),
    )
    op.create_index("penalty_charges_period_account", "penalty_charges", ["period", "account_id"])
    op.create_index("penalty_charges_account", "penalty_charges", ["account_id", "month_of_origin"])
    op.execute("CREATE UNIQUE INDEX penalty_charges_storno_once ON penalty_charges(storno_of) "
               "WHERE storno_of IS NOT NULL")
    for table in ("key_rates", "penalty_rules", "penalty_deferrals", "penalty_runs", "penalty_stornos"):
        audit_table(table)
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, 'penalties', a FROM roles, unnest(ARRAY['view', 'edit']) a WHERE code = 'operator'")


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE resource = 'penalties'")
    for table in ("penalty_charges", "penalty_stornos", "penalty_runs", "penalty_deferrals", "penalty_rules",
                  "key_rates"):
        op.drop_table(table)
    op.execute("DELETE FROM billing_settings WHERE key IN ("
               + ", ".join(f"'{k}'" for k, _ in SETTINGS) + ")")
