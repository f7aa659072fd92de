"""Payments tests run on the billing tests' small tenant (one house, accounts 1–3)."""

from tests.integration.billing_core.conftest import billing_tenant, tx  # noqa: F401
