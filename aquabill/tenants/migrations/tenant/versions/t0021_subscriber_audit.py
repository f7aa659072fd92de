"""Who changed a row when a subscriber did it: `audit_log.subscriber_id`.

The portal's (and the bots') transactions name the subscriber in the transaction-local setting
`aquabill.subscriber_id` (`platform/web/portal/context.py`), as staff transactions name the user in
`aquabill.user_id`. The new column takes it as its DEFAULT, so every writer of the log — the audit trigger
functions of t0001/t0013 (`audit_insert`, `audit_update`, `audit_delete`) and the by-reference insert of
t0015/t0018 (`audit_insert_ref`) — fills it with no change to their bodies (they name their columns and leave
this one out), and any later audit function does too. A PostgreSQL default is evaluated per inserted row;
the rows logged before this migration keep NULL (the default's value at the time of the ALTER is NULL: no
subscriber is set in a migration, and `current_setting` is stable, so no table rewrite).

The staff's audit journal shows such an entry's actor as «абонент #id» (`platform/audit.py`).

Revision ID: t0021
"""

from alembic import op

from aquabill.tenants.migrations.helpers import tenant_schema
from aquabill.tenants.naming import quote_schema

revision = "t0021"
down_revision = "t0020"
branch_labels = None
depends_on = None

SUBSCRIBER = "nullif(current_setting('aquabill.subscriber_id', true), '')::int"


def upgrade() -> None:
    s = quote_schema(tenant_schema())
    op.execute(f"ALTER TABLE {s}.audit_log ADD COLUMN subscriber_id integer DEFAULT {SUBSCRIBER}")


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    op.execute(f"ALTER TABLE {s}.audit_log DROP COLUMN subscriber_id")
