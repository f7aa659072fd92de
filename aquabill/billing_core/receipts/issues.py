"""The archive of issued receipts (t0026 `receipt_issues`): what was issued to each account for a month, as
it was printed, so that reprinting an old month shows what the subscriber got then, whatever was recalculated
since.

- Issuing (`issue_receipts`) is one set-based statement per call: issue 1 for accounts without one for the
  month; for an account whose receipt now differs from its latest issue (the data as printed: a
  recalculation, a payment, new requisites…), the next issue, referring to the one it corrects, with the
  reason; an unchanged receipt is not issued again — so issuing twice adds nothing. Issues of one month are
  serialised by a transaction-level advisory lock (two printing jobs at once issue once), and the unique
  (account, month, issue_no) stays the last word.
- Issuing reads and writes only `receipt_issues`: a month's charges are never touched, closed or not.
  Issuing for a closed month is allowed (a reprint: nothing new unless the figures moved); a correction
  records the figures as they stand.
- The PDF itself is kept by the printing job (a file); the issue keeps its SHA-256 (`set_pdf_hash`).
"""

from __future__ import annotations

import json
import re
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts.assemble import Receipt

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
LOCK_KEY = "aquabill.receipt_issues"

# the reason of a correction, from what differs between the latest issue (l) and the receipt now (n)
_REASON = """
    CASE WHEN l.snapshot->'totals' IS DISTINCT FROM n.snapshot->'totals'
              OR l.snapshot->'penalty' IS DISTINCT FROM n.snapshot->'penalty'
              OR l.snapshot->'lines' IS DISTINCT FROM n.snapshot->'lines'
         THEN format('Исправленная квитанция: изменились суммы (перерасчёт, платежи или пени), к оплате было %s ₽, '
                     'стало %s ₽', replace(l.snapshot->>'due', '.', ','), replace(n.snapshot->>'due', '.', ','))
         WHEN l.snapshot->'payee' IS DISTINCT FROM n.snapshot->'payee' OR l.snapshot->>'qr' IS DISTINCT FROM
              n.snapshot->>'qr'
         THEN 'Исправленная квитанция: изменились реквизиты получателя платежа'
         WHEN l.snapshot->'account' IS DISTINCT FROM n.snapshot->'account'
         THEN 'Исправленная квитанция: изменились данные лицевого счёта (владелец, адрес, площадь)'
         ELSE 'Исправленная квитанция: изменился срок или текст квитанции' END"""

_ISSUE = f"""
    WITH n AS (
        SELECT x.account_id, CAST(x.snapshot AS jsonb) AS snapshot, x.due
        FROM unnest(CAST(:accounts AS integer[]), CAST(:snapshots AS text[]), CAST(:dues AS numeric[]))
             AS x(account_id, snapshot, due)
    ), l AS (
        SELECT DISTINCT ON (account_id) id, account_id, issue_no, snapshot FROM receipt_issues
        WHERE period = :p AND account_id = ANY(CAST(:accounts AS integer[]))
        ORDER BY account_id, issue_no DESC
    ), ins AS (
        INSERT INTO receipt_issues(account_id, period, issue_no, snapshot, due, corrects_id, reason, issued_by,
                                   batch_id)
        SELECT n.account_id, :p, coalesce(l.issue_no, 0) + 1, n.snapshot, n.due, l.id,
               CASE WHEN l.id IS NULL THEN '' ELSE coalesce(CAST(:reason AS text), {_REASON}) END, :user, :batch
        FROM n LEFT JOIN l USING (account_id)
        WHERE l.id IS NULL OR l.snapshot IS DISTINCT FROM n.snapshot
        ON CONFLICT (account_id, period, issue_no) DO NOTHING
        RETURNING id, account_id, issue_no, corrects_id
    )
    SELECT n.account_id, coalesce(i.id, l.id) AS id, coalesce(i.issue_no, l.issue_no) AS issue_no,
           i.id IS NOT NULL AS issued, i.corrects_id
    FROM n LEFT JOIN ins i USING (account_id) LEFT JOIN l USING (account_id)"""

_COLUMNS = ("id, account_id, to_char(period, 'YYYY-MM') AS period, issue_no, due, pdf_sha256, corrects_id, reason, "
            "issued_at, issued_by, batch_id")


def _issue(r: Any) -> dict[str, Any]:
    return {"id": r.id, "account_id": r.account_id, "period": r.period, "issue_no": r.issue_no,
            "due": str(r.due), "pdf_sha256": r.pdf_sha256, "corrects_id": r.corrects_id, "reason": r.reason,
            "issued_at": r.issued_at, "issued_by": r.issued_by,
            "batch_id": str(r.batch_id) if r.batch_id is not None else None}


def _snapshot(receipt: Receipt) -> str:
    return json.dumps(receipt.as_dict(), ensure_ascii=False, sort_keys=True)


async def issue_receipts(conn: AsyncConnection, period: Period, receipts: list[Receipt], *,
                         batch_id: UUID | None = None, user_id: int | None = None,
                         reason: str | None = None) -> list[dict[str, Any]]:
    """Issue the month's receipts (see the module's docstring); `reason` replaces the computed reason of the
    corrections. Returns, per receipt in the order given, `account_id`, the issue it now has (`id`,
    `issue_no`), whether this call `issued` it and what it `corrects`."""
    if not receipts:
        return []
    if any(r.period != period for r in receipts):
        raise Invalid(f"Квитанции другого периода, чем {period}", field="period")
    latest = {r.account["id"]: r for r in receipts}  # an account given twice: its last receipt
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k), :m)"),
                       {"k": LOCK_KEY, "m": period.year * 100 + period.month})
    rows = await conn.execute(text(_ISSUE), {
        "accounts": list(latest), "snapshots": [_snapshot(r) for r in latest.values()],
        "dues": [r.due for r in latest.values()], "p": period.first_day, "user": user_id, "batch": batch_id,
        "reason": reason.strip()[:2000] if reason and reason.strip() else None})
    got = {r.account_id: {"account_id": r.account_id, "id": r.id, "issue_no": r.issue_no, "issued": r.issued,
                          "corrects_id": r.corrects_id} for r in rows}
    return [got[r.account["id"]] for r in receipts]


async def set_pdf_hash(conn: AsyncConnection, issue_ids: list[int], sha256s: list[str]) -> int:
    """Record the SHA-256 (hex) of each issue's rendered PDF; returns how many issues changed."""
    if len(issue_ids) != len(sha256s):
        raise Invalid("Число выпусков и хешей PDF не совпадает")
    hashes = [h.strip().lower() for h in sha256s]
    bad = next((h for h in hashes if not SHA256_RE.match(h)), None)
    if bad is not None:
        raise Invalid(f"Хеш PDF должен быть SHA-256 (64 шестнадцатеричных знака): «{bad[:70]}»", field="pdf_sha256")
    if not issue_ids:
        return 0
    result = await conn.execute(text(
        "UPDATE receipt_issues r SET pdf_sha256 = x.h "
        "FROM unnest(CAST(:ids AS bigint[]), CAST(:hs AS text[])) AS x(id, h) "
        "WHERE r.id = x.id AND r.pdf_sha256 IS DISTINCT FROM x.h"), {"ids": issue_ids, "hs": hashes})
    return result.rowcount


async def issued_receipt(conn: AsyncConnection, account_id: int, period: Period,
                         issue_no: int | None = None) -> dict[str, Any]:
    """The receipt as issued (its snapshot, `Receipt.as_dict()` form: `Receipt.from_dict` makes it a Receipt
    again) with the issue itself under `issue`; the latest issue unless `issue_no` is given."""
    row = (await conn.execute(text(
        f"SELECT {_COLUMNS}, snapshot FROM receipt_issues WHERE account_id = :a AND period = :p "
        "AND (CAST(:n AS integer) IS NULL OR issue_no = :n) ORDER BY issue_no DESC LIMIT 1"),
        {"a": account_id, "p": period.first_day, "n": issue_no})).first()
    if row is None:
        which = f" (выпуск № {issue_no})" if issue_no is not None else ""
        raise NotFound(f"Квитанция за {period.first_day:%m.%Y}{which} по этому лицевому счёту не выпускалась")
    snapshot = row.snapshot if isinstance(row.snapshot, dict) else json.loads(row.snapshot)
    return {**snapshot, "issue": _issue(row)}


async def issues_of(conn: AsyncConnection, account_id: int, *, limit: int = 120) -> list[dict[str, Any]]:
    """The account's issued receipts, newest month and issue first (the card's history)."""
    rows = await conn.execute(text(
        f"SELECT {_COLUMNS}, (SELECT coalesce(nullif(u.full_name, ''), u.login) FROM users u "
        "WHERE u.id = ri.issued_by) AS issued_by_name FROM receipt_issues ri WHERE account_id = :a "
        "ORDER BY period DESC, issue_no DESC LIMIT :l"), {"a": account_id, "l": limit})
    return [{**_issue(r), "issued_by_name": r.issued_by_name} for r in rows]

