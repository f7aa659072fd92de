"""The printing batches and their bundles (t0028 `print_batches`, `print_bundles`): the plan written once, a
bundle marked printed with its file's hash together with the issues it prints, the lists the pages show."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import NotFound
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import set_pdf_hash
from aquabill.billing_core.registry.queries import HOUSE_ADDRESS
from aquabill.platform.printing.plan import Bundle

_BATCH = ("id, job_id, to_char(period, 'YYYY-MM') AS period, filter, bundle_by, bundle_size, status, total, done, "
          "bundles, error, csv_file, csv_sha256, xml_file, xml_sha256, created_by, created_at, finished_at, "
          "(SELECT coalesce(nullif(u.full_name, ''), u.login) FROM users u WHERE u.id = b.created_by) AS created_by_name")
_BUNDLE = ("batch_id, no, title, count, first_account_id, last_account_id, file_name, sha256, bytes, done_at, "
           "(SELECT number FROM accounts WHERE id = first_account_id) AS first_number, "
           "(SELECT number FROM accounts WHERE id = last_account_id) AS last_number")


def _batch(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["id"], d["job_id"] = str(d["id"]), str(d["job_id"])
    d["filter"] = d["filter"] if isinstance(d["filter"], dict) else json.loads(d["filter"] or "{}")
    return d


def _bundle(r: Any) -> dict[str, Any]:
    return {**dict(r._mapping), "batch_id": str(r.batch_id)}


async def account_houses(conn: AsyncConnection, ids: list[int]) -> list[tuple[int, int, str]]:
    """(account, house, house address) of the accounts, in the order given."""
    rows = await conn.execute(text(f"""
        SELECT a.id, h.id AS house_id, {HOUSE_ADDRESS} AS address
        FROM accounts a JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id
        JOIN streets st ON st.id = h.street_id JOIN settlements se ON se.id = st.settlement_id
        WHERE a.id = ANY(CAST(:ids AS integer[]))"""), {"ids": ids})
    found = {r.id: (r.id, r.house_id, r.address) for r in rows}
    return [found[i] for i in ids if i in found]


async def lock_batch(conn: AsyncConnection, schema: str, batch_id: UUID) -> None:
    """A session-level advisory lock on the batch (the tenant's schema and the batch id): a second printing of
    the same batch waits here until the first ends (or its connection dies)."""
    await conn.execute(text("SELECT pg_advisory_lock(hashtext(:s), hashtext(:b))"),
                       {"s": "aquabill.print:" + schema, "b": str(batch_id)})


async def unlock_batch(conn: AsyncConnection, schema: str, batch_id: UUID) -> None:
    await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:s), hashtext(:b))"),
                       {"s": "aquabill.print:" + schema, "b": str(batch_id)})


async def create_batch(conn: AsyncConnection, batch_id: UUID, *, job_id: UUID, period: Period,
                       filter_: dict[str, Any], by: str, size: int | None, bundles: list[Bundle],
                       user_id: int | None) -> None:
    """The batch and its whole plan, in one transaction (the plan is never recomputed)."""
    await conn.execute(text(
        "INSERT INTO print_batches(id, job_id, period, filter, bundle_by, bundle_size, status, total, bundles, "
        "created_by) VALUES (:id, :job, :p, CAST(:f AS jsonb), :by, :size, 'planned', :total, :n, :u)"),
        {"id": batch_id, "job": job_id, "p": period.first_day, "f": json.dumps(filter_, ensure_ascii=False),
         "by": by, "size": size, "total": sum(len(b.account_ids) for b in bundles), "n": len(bundles), "u": user_id})
    await conn.execute(text("""
        INSERT INTO print_bundles(batch_id, no, title, account_ids, count, first_account_id, last_account_id,
                                  file_name)
        SELECT :id, x.no, x.title, ids.a, cardinality(ids.a), ids.a[1], ids.a[cardinality(ids.a)], x.file_name
        FROM jsonb_to_recordset(CAST(:plan AS jsonb)) AS x(no integer, title text, ids jsonb, file_name text)
        CROSS JOIN LATERAL (SELECT ARRAY(SELECT CAST(v AS integer) FROM jsonb_array_elements_text(x.ids) v)
                            AS a) ids"""),
        {"id": batch_id, "plan": json.dumps([b.as_dict() for b in bundles], ensure_ascii=False)})


async def get_batch(conn: AsyncConnection, batch_id: UUID) -> dict[str, Any]:
    row = (await conn.execute(text(f"SELECT {_BATCH} FROM print_batches b WHERE id = :id"), {"id": batch_id})).first()
    if row is None:
        raise NotFound("Печать квитанций не найдена")
    return _batch(row)


async def find_batch(conn: AsyncConnection, batch_id: UUID) -> dict[str, Any] | None:
    try:
        return await get_batch(conn, batch_id)
    except NotFound:
        return None


async def list_batches(conn: AsyncConnection, *, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.execute(text(f"SELECT {_BATCH} FROM print_batches b ORDER BY created_at DESC, id "
                                   "LIMIT :l OFFSET :o"), {"l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(*) FROM print_batches"))).scalar_one()
    return [_batch(r) for r in rows], total


async def bundles_of(conn: AsyncConnection, batch_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.execute(text(f"SELECT {_BUNDLE} FROM print_bundles WHERE batch_id = :id ORDER BY no"),
                              {"id": batch_id})
    return [_bundle(r) for r in rows]


async def bundle(conn: AsyncConnection, batch_id: UUID, no: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"SELECT {_BUNDLE} FROM print_bundles WHERE batch_id = :id AND no = :no"),
                              {"id": batch_id, "no": no})).first()
    if row is None:
        raise NotFound(f"Пачка № {no} в этой печати не найдена")
    return _bundle(row)


async def pending_bundles(conn: AsyncConnection, batch_id: UUID) -> list[tuple[int, list[int], str]]:
    """(no, accounts, file name) of the bundles not printed yet, in order."""
    rows = await conn.execute(text("SELECT no, account_ids, file_name FROM print_bundles "
                                   "WHERE batch_id = :id AND done_at IS NULL ORDER BY no"), {"id": batch_id})
    return [(r.no, list(r.account_ids), r.file_name) for r in rows]


async def set_status(conn: AsyncConnection, batch_id: UUID, status: str, *, job_id: UUID | None = None,
                     error: str | None = None) -> None:
    await conn.execute(text(
        "UPDATE print_batches SET status = CAST(:s AS text), job_id = coalesce(CAST(:job AS uuid), job_id), "
        "error = CAST(:e AS text), finished_at = CASE WHEN CAST(:s AS text) IN ('done', 'failed') THEN now() END "
        "WHERE id = :id"),
        {"s": status, "job": job_id, "e": error, "id": batch_id})


async def bundle_printed(conn: AsyncConnection, batch_id: UUID, no: int, *, sha256: str, size: int,
                         issue_ids: list[int]) -> None:
    """The bundle's file is on disk: its hash and size, the issues it prints (their PDF hash, bundle and page),
    the batch's count — in the caller's transaction."""
    result = await conn.execute(text(
        "UPDATE print_bundles SET sha256 = :h, bytes = :n, done_at = now(), issue_ids = CAST(:ids AS bigint[]) "
        "WHERE batch_id = :b AND no = :no AND done_at IS NULL RETURNING count"),
        {"h": sha256, "n": size, "ids": issue_ids, "b": batch_id, "no": no})
    count = result.scalar()
    if count is None:
        return  # printed already (a printing that raced past the lock cannot reach here; kept idempotent)
    await conn.execute(text("UPDATE print_batches SET done = done + :c, status = 'printing' WHERE id = :b"),
                       {"c": count, "b": batch_id})
    await set_pdf_hash(conn, issue_ids, [sha256] * len(issue_ids))
    await conn.execute(text(
        "UPDATE receipt_issues r SET printed_batch = :b, printed_bundle = :no, printed_page = x.page "
        "FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS x(id, page) WHERE r.id = x.id"),
        {"b": batch_id, "no": no, "ids": issue_ids})


async def set_exports(conn: AsyncConnection, batch_id: UUID, files: dict[str, tuple[str, str]]) -> None:
    """{'csv': (name, sha256), 'xml': (…)} of the batch's export files."""
    await conn.execute(text(
        "UPDATE print_batches SET csv_file = :cf, csv_sha256 = :ch, xml_file = :xf, xml_sha256 = :xh WHERE id = :b"),
        {"b": batch_id, "cf": files["csv"][0], "ch": files["csv"][1], "xf": files["xml"][0], "xh": files["xml"][1]})


async def printed_snapshots(conn: AsyncConnection, batch_id: UUID, no: int) -> list[dict[str, Any]]:
    """The receipts of a printed bundle as issued (snapshots), in page order, with the issue number."""
    rows = await conn.execute(text("""
        SELECT ri.snapshot, ri.issue_no FROM print_bundles b
        CROSS JOIN LATERAL unnest(b.issue_ids) WITH ORDINALITY AS x(id, page)
        JOIN receipt_issues ri ON ri.id = x.id
        WHERE b.batch_id = :b AND b.no = :no ORDER BY x.page"""), {"b": batch_id, "no": no})
    out = []
    for r in rows:
        snap = r.snapshot if isinstance(r.snapshot, dict) else json.loads(r.snapshot)
        out.append({**snap, "issue_no": r.issue_no})
    return out


async def list_printings(conn: AsyncConnection, *, limit: int = 20, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The printings newest first, each with its job's state: a printing still in the queue (no plan yet) is
    listed by its job. `live_job`: the job whose events move its progress."""
    rows = await conn.execute(text("""
        SELECT j.id AS job, j.status AS job_status, j.progress, j.message, j.error AS job_error, j.params,
               j.created_at AS job_created, (SELECT coalesce(nullif(u.full_name, ''), u.login) FROM users u
               WHERE u.id = j.created_by) AS job_by, b.*, lj.status AS live_status, lj.progress AS live_progress,
               lj.message AS live_message, lj.error AS live_error
        FROM jobs j LEFT JOIN print_batches b ON b.id = j.id LEFT JOIN jobs lj ON lj.id = b.job_id
        WHERE j.kind = 'receipts.print' AND j.params->>'batch_id' IS NULL
        ORDER BY j.created_at DESC, j.id LIMIT :l OFFSET :o"""), {"l": limit, "o": offset})
    total = (await conn.execute(text(
        "SELECT count(*) FROM jobs WHERE kind = 'receipts.print' AND params->>'batch_id' IS NULL"))).scalar_one()
    out = []
    for r in rows:
        params = r.params if isinstance(r.params, dict) else json.loads(r.params or "{}")
        planned = r.id is not None
        job_status = r.live_status if planned and r.live_status else r.job_status
        out.append({
            "id": str(r.job), "planned": planned, "period": r.period.strftime("%Y-%m") if planned else params.get("period"),
            "filter": (r.filter if planned else params.get("filter")) or {},
            "bundle_by": r.bundle_by if planned else ("house" if params.get("bundle") == "house" else "count"),
            "bundle_size": r.bundle_size if planned else params.get("bundle"),
            "status": r.status if planned else ("failed" if r.job_status == "failed" else "planned"),
            "job_status": job_status, "live_job": str(r.job_id if planned else r.job),
            "active": job_status in ("queued", "running") and not (planned and r.status in ("done", "failed")),
            "progress": float((r.live_progress if planned else r.progress) or 0),
            "message": (r.live_message if planned else r.message) or "",
            "error": (r.error if planned else None) or (r.live_error if planned else r.job_error) or "",
            "total": r.total if planned else None, "done": r.done if planned else 0,
            "bundles": r.bundles if planned else None, "created_at": r.job_created, "created_by": r.job_by,
            "finished_at": r.finished_at if planned else None,
            "has_exports": bool(planned and r.csv_file and r.xml_file)})
    return out, total


async def printed_where(conn: AsyncConnection, issue_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Where each issue was last printed: {issue id: {batch, bundle, page}}."""
    rows = await conn.execute(text(
        "SELECT id, printed_batch, printed_bundle, printed_page FROM receipt_issues "
        "WHERE id = ANY(CAST(:ids AS bigint[])) AND printed_batch IS NOT NULL"), {"ids": issue_ids})
    return {r.id: {"batch": str(r.printed_batch), "bundle": r.printed_bundle, "page": r.printed_page} for r in rows}
