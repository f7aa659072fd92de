"""Stuck jobs (platform/jobs/sweeper.py): a job left `queued` without its arq message is enqueued again and
runs once; one still queued past the deadline is failed and never runs; a `running` job whose worker died
(no heartbeat) is failed, while a live one is left alone — also with a real worker process killed mid-job.

The sweeps here pass their own thresholds (a fresh row counts as "old" at 0 s), so the worker's own
per-minute sweep, with the production thresholds, never touches these rows meanwhile."""

import asyncio
import os
import secrets
import sys
from dataclasses import replace
from datetime import timedelta

import pytest
from arq.jobs import Job
from sqlalchemy import text

from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.guard import WAITING, lock_run
from aquabill.platform.jobs import store
from aquabill.platform.jobs.registry import JOBS, job
from aquabill.platform.jobs.service import enqueue
from aquabill.platform.jobs.sweeper import DEAD, LOST, sweep_tenant
from aquabill.platform.keys import Keys
from aquabill.tenants.context import tenant_transaction
from tests.conftest import ROOT

NOW = timedelta(0)
COUNT_JOB = "test.sweep.count"


async def _row(core, tenant, job_id):
    async with tenant_transaction(core.engines, tenant) as conn:
        return await store.get(conn, job_id)


async def _until(core, tenant, job_id, done, limit_s: float = 60.0):
    async with asyncio.timeout(limit_s):
        while True:
            row = await _row(core, tenant, job_id)
            if done(row):
                return row
            await asyncio.sleep(0.1)


async def _queued_row(core, tenant, kind: str = COUNT_JOB):
    """A job row committed as `queued` whose enqueue never happened."""
    async with tenant_transaction(core.engines, tenant) as conn:
        return await store.create(conn, kind, "Тестовый счётчик", {}, None)


@pytest.fixture
def counting_job():
    """A job kind that counts its runs in Redis (registered for the test, in the worker's process too)."""

    @job(COUNT_JOB, "Тестовый счётчик", resource="jobs", action="view")
    async def count(ctx, params):
        return {"runs": await ctx.core.redis.incr(f"{ctx.core.keys.prefix}:test:runs:{ctx.job_id}")}

    yield
    JOBS.pop(COUNT_JOB, None)


async def test_a_queued_job_without_its_message_is_enqueued_again_and_runs_once(core, make_tenant, worker,
                                                                                 counting_job):
    t = await make_tenant()
    job_id = await _queued_row(core, t.tenant)
    assert await sweep_tenant(core, t.tenant, requeue_after=NOW) == {"failed": 0, "requeued": 1}
    # swept again at once: arq holds the job (waiting, running or its result), or it is done already
    assert await sweep_tenant(core, t.tenant, requeue_after=NOW) == {"failed": 0, "requeued": 0}
    row = await _until(core, t.tenant, job_id, lambda r: r.status in ("done", "failed"))
    assert await sweep_tenant(core, t.tenant, requeue_after=NOW) == {"failed": 0, "requeued": 0}
    assert row.status == "done" and row.result == {"runs": 1}


async def test_a_job_queued_past_the_deadline_is_failed_and_never_runs(core, make_tenant, worker, counting_job):
    t = await make_tenant()
    job_id = await _queued_row(core, t.tenant)
    assert await sweep_tenant(core, t.tenant, queued_deadline=NOW) == {"failed": 1, "requeued": 0}
    row = await _row(core, t.tenant, job_id)
    assert (row.status, row.error, row.message) == ("failed", LOST, "Ошибка") and row.finished_at
    # its message turns up after all (a late enqueue): the worker skips it
    assert await enqueue(core, t.tenant.id, job_id)
    outcome = await Job(str(job_id), core.redis, _queue_name=core.keys.queue).result(timeout=30)
    assert outcome == {"skipped": "job not found or already finished"}
    assert (await _row(core, t.tenant, job_id)).status == "failed"
    assert await core.redis.get(f"{core.keys.prefix}:test:runs:{job_id}") is None


async def test_a_running_job_without_heartbeat_is_failed_a_live_one_is_not(core, make_tenant):
    t = await make_tenant()
    dead, live = await _queued_row(core, t.tenant), await _queued_row(core, t.tenant)
    async with tenant_transaction(core.engines, t.tenant) as conn:
        for job_id in (dead, live):
            assert await store.mark_running(conn, job_id)
        await conn.execute(text("UPDATE jobs SET heartbeat_at = clock_timestamp() - interval '2 minutes' "
                                "WHERE id = :id"), {"id": dead})
        await conn.execute(text("UPDATE jobs SET started_at = started_at - interval '2 hours' WHERE id = :id"),
                           {"id": live})
        await store.beat(conn, live)
    assert await sweep_tenant(core, t.tenant, dead_after=timedelta(minutes=1)) == {"failed": 1, "requeued": 0}
    row = await _row(core, t.tenant, dead)
    assert (row.status, row.error) == ("failed", DEAD)
    assert (await _row(core, t.tenant, live)).status == "running"


async def test_a_job_of_a_killed_worker_is_failed(core, settings, make_tenant):
    """A real worker process (a queue of its own) runs a billing run that waits for another run's lock,
    beating its heartbeat; it is killed (SIGKILL): its job stays `running` with a stale heartbeat, and
    the sweep fails it."""
    t = await make_tenant()
    prefix = f"{settings.redis_prefix}x{secrets.token_hex(2)}"
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "AQUABILL_REDIS_PREFIX": prefix}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "aquabill.cli", "worker", env=env, cwd=ROOT)
    try:
        async with tenant_transaction(core.engines, t.tenant) as holder:
            await lock_run(holder, Scope())  # a tenant's billing run under way
            async with tenant_transaction(core.engines, t.tenant) as conn:
                job_id = await store.create(conn, "billing.run", "Расчёт начислений",
                                            {"period": "2024-04", "scope": "tenant"}, None)
            assert await enqueue(replace(core, keys=Keys(prefix)), t.tenant.id, job_id)
            row = await _until(core, t.tenant, job_id,
                               lambda r: r.status == "running" and r.message == WAITING)
            async with tenant_transaction(core.engines, t.tenant) as conn:
                assert (await conn.execute(text("SELECT heartbeat_at IS NOT NULL FROM jobs WHERE id = :id"),
                                           {"id": job_id})).scalar_one()
            # alive: the sweep leaves it alone
            assert await sweep_tenant(core, t.tenant) == {"failed": 0, "requeued": 0}
            proc.kill()
            await proc.wait()
        async with asyncio.timeout(60):  # let its last heartbeat age past the threshold used below
            while True:
                async with tenant_transaction(core.engines, t.tenant) as conn:
                    aged = (await conn.execute(text(
                        "SELECT clock_timestamp() - heartbeat_at > interval '2 seconds' FROM jobs WHERE id = :id"),
                        {"id": job_id})).scalar_one()
                if aged:
                    break
                await asyncio.sleep(0.2)
        assert (await _row(core, t.tenant, job_id)).status == "running"  # nobody is left to finish it
        assert await sweep_tenant(core, t.tenant, dead_after=timedelta(seconds=2)) == {"failed": 1, "requeued": 0}
        row = await _row(core, t.tenant, job_id)
        assert (row.status, row.error) == ("failed", DEAD)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
