from tests.integration.penalties.conftest import penalty_tenant, tx  # noqa: F401  (the same small tenant)
