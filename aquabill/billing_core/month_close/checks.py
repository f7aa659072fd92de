"""The month-close checks as set-based SQL: each query finds the offending rows of a period, for the whole
tenant or for one division (the houses with that `division_id`), as a count and a sample of labels.

Scope notes: unidentified payments have no account, so that check is tenant-wide in every scope; billing
runs in the queue are passed in by the caller (labelled by `store.queued_runs`), and unfinished runs are
counted tenant-wide as well (a whole-tenant run touches every division).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.month_close.catalogue import (
    SAMPLE_SIZE,
    CheckConfig,
    CheckResult,
    Finding,
    evaluate,
    parameter_of,
)
from aquabill.billing_core.month_close.receipt_deadline import receipt_deadline
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts.batch import (
    _BALANCED,  # select_accounts' rule for closed accounts, reused
)

# accounts → houses of the scope (`{div}` is TRUE for the whole tenant)
_ACC = "JOIN premises pr ON pr.id = a.premise_id JOIN houses h ON h.id = pr.house_id"

# a moment as the tenant's local day (the notification settings' time zone, Moscow by default)
_LOCAL = ("CAST(timezone(coalesce((SELECT ns.timezone FROM notification_settings ns WHERE ns.id = 1), "
          "'Europe/Moscow'), {c}) AS date)")

# Each query yields `label` rows (one per offending object), ordered; {div} filters on the house `h`.
QUERIES: dict[str, str] = {
    "unbilled_accounts": f"""
        SELECT 'л/с ' || a.number AS label FROM accounts a {_ACC}
        WHERE a.opened_on <= :last AND (a.closed_on IS NULL OR a.closed_on >= :first) AND {{div}}
          AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.account_id = a.id AND c.period = :first)
        ORDER BY a.number""",
    "negative_volumes": f"""
        SELECT 'л/с ' || a.number || ' (' || s.name || ', ' || c.volume || ' м³)' AS label
        FROM charges c JOIN accounts a ON a.id = c.account_id {_ACC} JOIN services s ON s.id = c.service_id
        WHERE c.period = :first AND c.volume < 0 AND c.method NOT IN ('recalculation', 'storno') AND {{div}}
        ORDER BY a.number, c.id""",
    "overdue_verification": f"""
        SELECT 'ПУ № ' || m.serial || ' (л/с ' || a.number || ', поверка до '
               || to_char(m.verified_until, 'DD.MM.YYYY') || ')' AS label
        FROM meters m JOIN accounts a ON a.id = m.account_id {_ACC}
        WHERE m.kind <> 'building' AND m.verified_until < :first AND m.installed_on <= :last
          AND (m.removed_on IS NULL OR m.removed_on >= :first) AND {{div}}
          AND EXISTS (SELECT 1 FROM charges c WHERE c.account_id = m.account_id AND c.service_id = m.service_id
                      AND c.period = :first AND c.method = 'meter' AND c.corrects_period IS NULL)
        ORDER BY a.number, m.serial""",
    "unallocated_payments": f"""
        SELECT 'платёж № ' || pm.id || ' от ' || to_char(pm.paid_on, 'DD.MM.YYYY') || ', л/с ' || a.number
               || ': не распределено ' || (pm.amount - al.total) || ' руб.' AS label
        FROM payments pm JOIN accounts a ON a.id = pm.account_id {_ACC}
        CROSS JOIN LATERAL (SELECT coalesce(sum(x.amount), 0) AS total FROM payment_allocations x
                            WHERE x.payment_id = pm.id) al
        WHERE pm.status = 'identified' AND pm.paid_on <= :last AND pm.amount <> al.total AND {{div}}
        ORDER BY pm.paid_on, pm.id""",
    "old_unidentified_payments": """
        SELECT 'платёж № ' || pm.id || ' от ' || to_char(pm.paid_on, 'DD.MM.YYYY') || ' на ' || pm.amount
               || ' руб.' AS label
        FROM payments pm
        WHERE pm.status = 'unidentified' AND pm.paid_on <= :last AND pm.paid_on < CAST(:today AS date) - CAST(:days AS int)
        ORDER BY pm.paid_on, pm.id""",
    "unfinished_runs": """
        SELECT 'расчёт № ' || r.id || ' (выполняется с ' || to_char(r.started_at, 'DD.MM.YYYY HH24:MI') || ')'
               AS label
        FROM billing_runs r WHERE r.period = :first AND r.status = 'running' ORDER BY r.id""",
    # every account that gets a receipt for the month (receipts/batch.select_accounts' rule) has one issued
    # by the deadline (:deadline, month_close/receipt_deadline.py, in the tenant's local days) and, when it is
    # paperless by e-mail, a letter sent by then; 'portal' receipts count as delivered when issued. Months before
    # the tenant's first issued receipt are not judged (receipts were printed elsewhere then): it passes
    "receipts_delivered": f"""
        SELECT 'л/с ' || a.number || ': ' || CASE
               WHEN i.at IS NULL THEN 'квитанция не выставлена'
               WHEN {_LOCAL.format(c='i.at')} > :deadline THEN 'выставлена ' || to_char({_LOCAL.format(c='i.at')}, 'DD.MM.YYYY')
               WHEN m.at IS NULL THEN 'не отправлена по эл. почте'
               ELSE 'отправлена по эл. почте ' || to_char({_LOCAL.format(c='m.at')}, 'DD.MM.YYYY') END AS label
        FROM accounts a {_ACC}
        LEFT JOIN LATERAL (SELECT min(ri.issued_at) AS at FROM receipt_issues ri
                           WHERE ri.account_id = a.id AND ri.period = :first) i ON true
        LEFT JOIN LATERAL (SELECT min(d.sent_at) AS at FROM receipt_issues ri
                           JOIN campaign_recipients r ON r.receipt_issue_id = ri.id
                           JOIN campaign_deliveries d ON d.recipient_id = r.id
                           WHERE ri.account_id = a.id AND ri.period = :first AND d.status IN ('sent', 'delivered')
                           ) m ON a.receipt_delivery = 'email'
        WHERE (a.opened_on <= :last AND (a.closed_on IS NULL OR a.closed_on >= :first) OR a.id IN ({_BALANCED}))
          AND {{div}} AND EXISTS (SELECT 1 FROM receipt_issues f WHERE f.period <= :first)
          AND (i.at IS NULL OR {_LOCAL.format(c='i.at')} > :deadline
               OR a.receipt_delivery = 'email' AND (m.at IS NULL OR {_LOCAL.format(c='m.at')} > :deadline))
        ORDER BY a.number""",
}


async def load_config(conn: AsyncConnection) -> list[CheckConfig]:
    rows = await conn.execute(text(
        "SELECT code, name, enabled, blocking, parameter FROM close_checks ORDER BY position, id"))
    return [CheckConfig(r.code, r.name, r.enabled, r.blocking, r.parameter) for r in rows]


async def _alert_days(conn: AsyncConnection) -> int | None:
    raw = (await conn.execute(text(
        "SELECT value FROM billing_settings WHERE key = 'unidentified_alert_days'"))).scalar()
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


async def _find(conn: AsyncConnection, code: str, params: dict[str, Any], division_id: int | None) -> Finding:
    sql = QUERIES[code].format(div="h.division_id = :div" if division_id is not None else "TRUE")
    rows = (await conn.execute(text(
        f"SELECT label, count(*) OVER () AS n FROM ({sql}) q LIMIT {SAMPLE_SIZE}"),
        {**params, "div": division_id})).all()
    return Finding(code, rows[0].n if rows else 0, tuple(r.label for r in rows))


async def run_checks(conn: AsyncConnection, period: Period, *, division_id: int | None = None,
                     today: date, queued_runs: Sequence[str] = ()) -> list[CheckResult]:
    """Run the tenant's enabled checks for `period` (whole tenant, or one division). `queued_runs`: labels
    of the period's billing runs still waiting in the job queue (they count as unfinished runs)."""
    results = []
    for config in await load_config(conn):
        parameter = parameter_of(config, await _alert_days(conn)) if config.code == "old_unidentified_payments" \
            else config.parameter
        finding = None
        if config.enabled:
            params = {"first": period.first_day, "last": period.last_day, "today": today, "days": parameter or 0,
                      "t": period.next().first_day, "deadline": receipt_deadline(period.first_day)[0]}
            finding = await _find(conn, config.code, params, division_id)
            if config.code == "unfinished_runs" and queued_runs:
                sample = (finding.sample + tuple(queued_runs))[:SAMPLE_SIZE]
                finding = Finding(finding.code, finding.count + len(queued_runs), sample)
        results.append(evaluate(config, finding, parameter))
    return results
