"""Printing tests: the receipts tests' town (demo billing of 90 accounts, penalties, odd accounts) with the
payee's requisites, and a job context whose files go to a temporary folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from aquabill.billing_core.receipts import save_requisites
from aquabill.demo.payments import REQUISITES
from aquabill.platform.jobs import store
from aquabill.platform.jobs.context import JobContext
from aquabill.tenants.context import tenant_transaction
from tests.conftest import with_settings
from tests.integration.receipts.test_receipts_batch import CLOSED, OPEN, seed_town  # noqa: F401

JOB = "receipts.print"


async def seed_printing_town(conn, tenant=None) -> None:
    await seed_town(conn, tenant)
    await save_requisites(conn, REQUISITES)


@pytest.fixture(scope="module")
async def town(make_tenant):
    return await make_tenant(seed=seed_printing_town)


@pytest.fixture
def tx(core, town):
    def open_tx(user_id=None):
        return tenant_transaction(core.engines, town.tenant, user_id)

    return open_tx


@pytest.fixture
def job_ctx(core, settings, town, tmp_path):
    """make(params) → a JobContext of a new `receipts.print` job (its row in the registry), files under
    tmp_path; `cls` a JobContext subclass."""
    own = replace(core, settings=with_settings(settings, var_dir=tmp_path))

    async def make(params: dict, *, cls=JobContext, var_dir: Path | None = None, **kw):
        c = own if var_dir is None else replace(core, settings=with_settings(settings, var_dir=var_dir))
        async with tenant_transaction(core.engines, town.tenant, 1) as conn:
            job_id = await store.create(conn, JOB, "Печать квитанций", params, 1)
        return cls(core=c, tenant=town.tenant, job_id=job_id, user_id=1, **kw)

    return make
