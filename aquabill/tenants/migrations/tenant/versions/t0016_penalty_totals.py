"""Penalty totals per account (penalty_accounts, t0012) updated in place by the penalty run.

A run posts one row per account; the trigger's upsert of a million totals (aggregate, then ON CONFLICT
per row) cost more than the run's own pass. The run now keeps the totals itself — one UPDATE for the rows
it removes (a re-run of an open period) and one for the rows it posts, an INSERT for new accounts — and
tells the trigger so with the transaction-local setting `aquabill.penalty_totals` = 'run' (the triggers'
WHEN clause skips those statements; every other write to penalty_charges, a storno, goes through the trigger as
before). The table keeps free room in its pages (fillfactor 45), so a run's update stays on the page (no
index entry per account).

Revision ID: t0016
"""

from alembic import op

from aquabill.tenants.migrations.helpers import tenant_schema
from aquabill.tenants.naming import quote_schema

revision = "t0016"
down_revision = "t0015"
branch_labels = None
depends_on = None


# the trigger function (t0012) stays; its three triggers get (or lose) a WHEN clause
SKIP = "WHEN (current_setting('aquabill.penalty_totals', true) IS DISTINCT FROM 'run') "
EVENTS = [("ins", "INSERT", "NEW TABLE AS new_rows"), ("upd", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
          ("del", "DELETE", "OLD TABLE AS old_rows")]


def _triggers(s: str, *, skip: bool) -> None:
    for suffix, event, tables in EVENTS:
        op.execute(f"DROP TRIGGER penalty_totals_{suffix} ON {s}.penalty_charges")
        op.execute(f"CREATE TRIGGER penalty_totals_{suffix} AFTER {event} ON {s}.penalty_charges REFERENCING {tables} "
                   f"FOR EACH STATEMENT {SKIP if skip else ''}EXECUTE FUNCTION {s}.penalty_track_totals()")


def _rewrite(s: str, fillfactor: int) -> None:
    op.execute(f"ALTER TABLE {s}.penalty_accounts SET (fillfactor = {fillfactor})")
    op.execute(f"CREATE TEMP TABLE penalty_accounts_copy ON COMMIT DROP AS SELECT * FROM {s}.penalty_accounts")
    op.execute(f"TRUNCATE {s}.penalty_accounts")
    op.execute(f"INSERT INTO {s}.penalty_accounts SELECT * FROM penalty_accounts_copy ORDER BY account_id")
    op.execute("DROP TABLE penalty_accounts_copy")


def upgrade() -> None:
    s = quote_schema(tenant_schema())
    _triggers(s, skip=True)
    _rewrite(s, 45)


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    _triggers(s, skip=False)
    _rewrite(s, 100)
