"""The printing job end to end: every account of the month exactly once across the bundle files (pdfinfo pages,
pdftotext account numbers in order), the issues recorded with the file's hash and page; killed after a bundle
and run again it prints the rest, replacing a half-written file, and the files are those of an uninterrupted
run; two runs of one batch at once print it once; bad parameters fail the job with a clear message."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from aquabill.billing_core.receipts import select_accounts
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.receipts_print import progress_text, receipts_print
from aquabill.platform.printing.files import batch_dir
from tests.integration.printing.conftest import OPEN
from tests.unit.print.scan import pages
from tests.unit.print.scan import text as pdf_text

PARAMS = {"period": str(OPEN), "filter": {}, "bundle": 10}


@dataclass
class KilledAfter(JobContext):
    """Cancels its own task when the k-th bundle reports progress (the bundle is committed by then)."""
    kill_after: int = 0
    seen: int = 0

    async def progress(self, percent: float, message: str = "") -> None:
        await super().progress(percent, message)
        if message.startswith("Пачка"):
            self.seen += 1
            if self.seen == self.kill_after:
                asyncio.current_task().cancel()


async def _batch(tx, batch_id):
    async with tx() as conn:
        batch = (await conn.execute(text("SELECT * FROM print_batches WHERE id = :b"), {"b": batch_id})).one()
        bundles = (await conn.execute(text("SELECT * FROM print_bundles WHERE batch_id = :b ORDER BY no"),
                                      {"b": batch_id})).all()
        issues = (await conn.execute(text(
            "SELECT r.id, r.account_id, r.printed_bundle, r.printed_page, r.pdf_sha256, a.number FROM receipt_issues r "
            "JOIN accounts a ON a.id = r.account_id WHERE r.printed_batch = :b"), {"b": batch_id})).all()
    return batch, bundles, issues


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.pdf"))}


async def _check_printed(tx, town, ctx, batch_id, tmp_path):
    batch, bundles, issues = await _batch(tx, batch_id)
    async with tx() as conn:
        expected = await select_accounts(conn, OPEN)
        numbers = dict((await conn.execute(text("SELECT id, number FROM accounts"))).all())
    assert batch.status == "done" and batch.total == batch.done == len(expected)
    planned = [a for b in bundles for a in b.account_ids]
    assert planned == expected  # every account once, in address order
    folder = batch_dir(ctx.core.settings.var_dir, town.tenant.slug, batch_id)
    files = _files(folder)
    assert sorted(files) == [b.file_name for b in bundles]
    by_issue = {(i.printed_bundle, i.printed_page): i for i in issues}
    assert len(issues) == len(expected) and len({i.account_id for i in issues}) == len(expected)
    for b in bundles:
        pdf = files[b.file_name]
        assert hashlib.sha256(pdf).hexdigest() == b.sha256 and len(pdf) == b.bytes
        assert pages(pdf, tmp_path) == b.count == len(b.account_ids) == len(b.issue_ids)
        words = pdf_text(pdf, tmp_path)
        found = [n for n in re.findall(r"\b\d{8}\b", words) if n in set(numbers.values())]
        ordered = list(dict.fromkeys(found))
        assert ordered == [numbers[a] for a in b.account_ids], b.no
        for page, account in enumerate(b.account_ids, start=1):
            issue = by_issue[(b.no, page)]
            assert issue.account_id == account and issue.pdf_sha256 == b.sha256
    assert (folder / f"receipts-{OPEN}.csv").is_file() and (folder / f"receipts-{OPEN}.xml").is_file()
    assert not list(folder.glob(".*"))  # no temporary file left
    return files


async def test_prints_every_account_once_then_resumes_after_a_kill(town, tx, job_ctx, tmp_path):
    whole = await job_ctx(PARAMS)
    result = await receipts_print(whole, PARAMS)
    assert result["bundles"] == 10 and result["receipts"] == 91 and result["printed_now"] == 10
    reference = await _check_printed(tx, town, whole, whole.job_id, tmp_path)
    async with tx() as conn:
        job = (await conn.execute(text("SELECT message FROM jobs WHERE id = :j"), {"j": whole.job_id})).scalar()
    assert job == "Выгрузка для типографии (CSV, XML)"  # the last progress (the worker writes «Готово»)

    killed = await job_ctx(PARAMS, cls=KilledAfter, kill_after=3)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(receipts_print(killed, PARAMS))
    batch, bundles, _ = await _batch(tx, killed.job_id)
    assert batch.status == "printing" and batch.done == 30
    assert [b.no for b in bundles if b.done_at is not None] == [1, 2, 3]
    folder = batch_dir(killed.core.settings.var_dir, town.tenant.slug, killed.job_id)
    (folder / bundles[3].file_name).write_bytes(b"%PDF-1.4 half a bundle")  # killed while writing bundle 4
    async with tx() as conn:  # the plan is never made again: a new account after the kill is not printed
        await conn.execute(text("UPDATE accounts SET number = number WHERE id = 1"))

    again = JobContext(core=killed.core, tenant=killed.tenant, job_id=killed.job_id, user_id=1)
    result = await receipts_print(again, PARAMS)
    assert result["printed_now"] == 7 and result["issued_now"] == 0
    files = await _check_printed(tx, town, again, killed.job_id, tmp_path)
    assert files == reference  # byte for byte the files of the uninterrupted run


async def test_two_runs_of_one_batch_at_once_print_it_once(town, tx, job_ctx, tmp_path):
    params = {**PARAMS, "bundle": "house"}
    first = await job_ctx(params)
    second = JobContext(core=first.core, tenant=first.tenant, job_id=first.job_id, user_id=1)
    one, two = await asyncio.gather(receipts_print(first, params), receipts_print(second, params))
    assert sorted([one["printed_now"], two["printed_now"]]) == [0, one["bundles"]]
    batch, bundles, issues = await _batch(tx, first.job_id)
    assert len(bundles) == batch.bundles == one["bundles"] >= 2  # a bundle per house
    async with tx() as conn:
        houses = (await conn.execute(text(
            "SELECT b.no, count(DISTINCT p.house_id) FROM print_bundles b CROSS JOIN unnest(b.account_ids) x(a) "
            "JOIN accounts a ON a.id = x.a JOIN premises p ON p.id = a.premise_id WHERE b.batch_id = :b "
            "GROUP BY b.no"), {"b": first.job_id})).all()
    assert all(n == 1 for _, n in houses)
    await _check_printed(tx, town, first, first.job_id, tmp_path)


async def test_a_filter_and_resuming_by_batch_id(town, tx, job_ctx, tmp_path):
    params = {"period": str(OPEN), "filter": {"house_id": 2}, "bundle": "25"}
    ctx = await job_ctx(params)
    result = await receipts_print(ctx, params)
    async with tx() as conn:
        expected = await select_accounts(conn, OPEN, house_id=2)
    assert result["receipts"] == len(expected) > 0
    resumed = await job_ctx({"batch_id": str(ctx.job_id)})  # «Продолжить»: a new job, the same batch
    again = await receipts_print(resumed, {"batch_id": str(ctx.job_id)})
    assert again["batch_id"] == str(ctx.job_id) and again["printed_now"] == 0
    batch, _, _ = await _batch(tx, ctx.job_id)
    assert batch.job_id == resumed.job_id and batch.status == "done"


@pytest.mark.parametrize(("params", "message"), [
    ({"period": "2026-13", "filter": {}}, "Месяц печати"),
    ({"period": str(OPEN), "filter": {"house_id": "x"}}, "Дом"),
    ({"period": str(OPEN), "filter": {"house_id": 1, "street_id": 1}}, "Отбор"),
    ({"period": str(OPEN), "filter": {"delivery": "pigeon"}}, "Способ доставки"),
    ({"period": str(OPEN), "bundle": 0}, "Пачка"),
    ({"period": str(OPEN), "filter": {"house_id": 999999}}, "Нет лицевых счетов"),
])
async def test_bad_parameters_fail_clearly(town, job_ctx, params, message):
    ctx = await job_ctx(params)
    with pytest.raises(Exception, match=message):
        await receipts_print(ctx, params)


def test_progress_text():
    assert progress_text(12, 40, 4800) == "Пачка 12 из 40, 4\u00a0800 квитанций"
