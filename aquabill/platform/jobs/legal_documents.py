"""Issuing a month's documents to legal entities as a background job (`legal.issue`): the UPDs / acts and
bills of every contract with charges posted to the month, and the UKDs of recalculated closed months
(`aquabill.legal_entities.issue.month.issue_month`), with progress over the WebSocket (`job.progress`).

The job `legal.intermediate` issues the bills of a month's intermediate payments
(`aquabill.legal_entities.issue.intermediate.issue_intermediate`), serialised by the same lock.

Importing this module also plugs the FNS XML renderer (`channels.fns_upd.issue_xml`) into the domain's port.
Two jobs of the same month at once are serialised by the issue's advisory lock; the second finds the documents
issued and issues nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd import issue_xml  # noqa: F401  (registers the XML renderer)
from aquabill.legal_entities.issue.intermediate import issue_intermediate
from aquabill.legal_entities.issue.month import issue_month
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job

LEGAL_ISSUE_JOB = "legal.issue"
LEGAL_INTERMEDIATE_JOB = "legal.intermediate"


def parse_month(raw: Any) -> date:
    """"2026-11" or "2026-11-01" → 2026-11-01; anything else is refused in Russian."""
    text = str(raw or "").strip()
    try:
        parts = [int(p) for p in text.split("-")]
        if len(parts) == 2 or (len(parts) == 3 and parts[2] == 1):
            return date(parts[0], parts[1], 1)
    except ValueError:
        pass
    raise Invalid("Период: ожидается месяц ГГГГ-ММ", field="period")


def job_params(period: date, issued_on: date | None = None, contract_id: int | None = None) -> dict[str, Any]:
    return {"period": period.isoformat(), "issued_on": issued_on.isoformat() if issued_on else None,
            "contract_id": contract_id}


@job(LEGAL_ISSUE_JOB, "Выставление документов юридическим лицам", resource="legal", action="edit")
async def legal_issue(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    period = parse_month(params.get("period"))
    issued_on = date.fromisoformat(params["issued_on"]) if params.get("issued_on") else None
    async with ctx.transaction() as conn:
        return await issue_month(conn, period, issued_on=issued_on, contract_id=params.get("contract_id"),
                                 user_id=ctx.user_id, progress=ctx.progress)


def _day(raw: Any) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        raise Invalid("Дата выставления: ожидается ГГГГ-ММ-ДД", field="issued_on") from None


@job(LEGAL_INTERMEDIATE_JOB, "Счета на промежуточные платежи юридических лиц", resource="legal", action="edit")
async def legal_intermediate(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    period = parse_month(params.get("period"))
    async with ctx.transaction() as conn:
        return await issue_intermediate(conn, period, issued_on=_day(params.get("issued_on")),
                                        user_id=ctx.user_id, progress=ctx.progress)
