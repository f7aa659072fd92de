"""Tenant registry (control schema), provisioning, per-schema migrations, tenant→database map."""
