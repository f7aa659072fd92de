"""What adjustments record about who made them."""

# the acting user of the tenant transaction (set by tenant_transaction), for `created_by`
ACTING_USER = "nullif(current_setting('aquabill.user_id', true), '')::int"
