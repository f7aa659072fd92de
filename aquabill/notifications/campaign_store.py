"""Campaign rows: created from a checked draft, listed and read with their counts, moved between states, and
materialised — the audience's recipients with their addresses and the first deliveries written in one
set-based pass when the campaign job first runs (a second job finds it done and writes nothing)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.penalties.rules import payment_due
from aquabill.billing_core.penalties.store import load_settings as load_penalty_settings
from aquabill.billing_core.periods_guard import default_period
from aquabill.billing_core.receipts.requisites import load_requisites
from aquabill.billing_core.run.queries import latest_charged_period
from aquabill.notifications.audiences import Audience, check_places, parse_audience
from aquabill.notifications.campaigns import CampaignDraft
from aquabill.notifications.delivery_store import counts
from aquabill.notifications.recipients import VARS, resolved_sql
from aquabill.notifications.templates import month_name

COLUMNS = ("id, title, template_id, subject, body, sound, audience, fields, channels, mode, rates, status, recipients, "
           "job_id, resume_at, created_at, created_by, started_at, materialised_at, finished_at")


def _row(r) -> dict[str, Any]:
    d = dict(r._mapping)
    d["channels"] = list(d["channels"])
    return d


async def campaign_values(conn: AsyncConnection, tenant_name: str, fields: dict[str, str],
                          audience: Audience) -> dict[str, str]:
    """The campaign's own variables, fixed when it is created: the billing month (the latest with charges),
    its due date (art. 155 ЖК РФ, billing_core/penalties/rules.payment_due), the tenant's name and phone (the
    payee requisites), the outage's fields and the addresses of the filter's houses."""
    period = await latest_charged_period(conn) or await default_period(conn)
    due = payment_due(period.first_day, (await load_penalty_settings(conn))["due_day"]).on
    requisites = await load_requisites(conn)
    houses = await check_places(conn, audience)
    return {"period": month_name(period.first_day), "due_date": due.strftime("%d.%m.%Y"),
            "tenant_name": (requisites.name if requisites and requisites.name else tenant_name),
            "tenant_phone": requisites.phone if requisites else "",
            "outage_houses": "; ".join(houses[:50]) + (" и др." if len(houses) > 50 else ""), **fields}


async def create_campaign(conn: AsyncConnection, draft: CampaignDraft, *, tenant_name: str,
                          user_id: int | None) -> dict[str, Any]:
    if draft.template_id is not None and (await conn.execute(text(
            "SELECT 1 FROM notification_templates WHERE id = :i"), {"i": draft.template_id})).first() is None:
        raise NotFound("Шаблон не найден", field="template_id")
    values = await campaign_values(conn, tenant_name, draft.fields, draft.audience)
    row = (await conn.execute(text(f"""
        INSERT INTO campaigns(title, template_id, subject, body, sound, audience, fields, channels, mode, rates,
                              created_by)
        VALUES (:title, :tid, :subject, :body, :sound, CAST(:aud AS jsonb), CAST(:fields AS jsonb), :channels,
                :mode, CAST(:rates AS jsonb), :u)
        RETURNING {COLUMNS}"""), {
        "title": draft.title, "tid": draft.template_id, "subject": draft.template.subject,
        "body": draft.template.body, "sound": draft.template.sound, "aud": json.dumps(draft.audience.as_dict()),
        "fields": json.dumps(values), "channels": list(draft.channels), "mode": draft.mode,
        "rates": json.dumps(draft.rates), "u": user_id})).one()
    return _row(row)


async def get_campaign(conn: AsyncConnection, campaign_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (await conn.execute(text(f"SELECT {COLUMNS} FROM campaigns WHERE id = :i"
                                   + (" FOR UPDATE" if lock else "")), {"i": campaign_id})).first()
    if row is None:
        raise NotFound("Рассылка не найдена")
    return _row(row)


async def campaign_detail(conn: AsyncConnection, campaign_id: int) -> dict[str, Any]:
    c = await get_campaign(conn, campaign_id)
    per = await counts(conn, campaign_id)
    unreachable = (await conn.execute(text(
        "SELECT count(*) FROM campaign_recipients WHERE campaign_id = :c AND cardinality(channels) = 0"),
        {"c": campaign_id})).scalar_one()
    totals: dict[str, int] = {}
    for statuses in per.values():
        for s, n in statuses.items():
            totals[s] = totals.get(s, 0) + n
    cost = (await conn.execute(text("SELECT coalesce(sum(cost), 0) FROM campaign_deliveries WHERE campaign_id = :c"),
                               {"c": campaign_id})).scalar_one()
    return {**c, "counts": per, "totals": totals, "unreachable": unreachable, "cost": str(cost)}


async def list_campaigns(conn: AsyncConnection, *, limit: int = 20, offset: int = 0) -> tuple[list[dict], int]:
    rows = await conn.execute(text(f"""
        SELECT {', '.join('c.' + x.strip() for x in COLUMNS.split(','))},
               coalesce(d.done, 0) AS delivered, coalesce(d.failed, 0) AS failed, coalesce(d.open, 0) AS open,
               u.full_name AS author
        FROM campaigns c
        LEFT JOIN LATERAL (
            SELECT count(*) FILTER (WHERE status IN ('sent', 'delivered', 'answered')) AS done,
                   count(*) FILTER (WHERE status IN ('failed', 'busy', 'no_answer', 'skipped', 'unknown')) AS failed,
                   count(*) FILTER (WHERE status IN ('pending', 'sending')) AS open
            FROM campaign_deliveries WHERE campaign_id = c.id) d ON true
        LEFT JOIN users u ON u.id = c.created_by
        ORDER BY c.created_at DESC, c.id DESC LIMIT :l OFFSET :o"""), {"l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(*) FROM campaigns"))).scalar_one()
    return [_row(r) for r in rows], total


async def mark_started(conn: AsyncConnection, campaign_id: int, job_id) -> dict[str, Any]:
    """draft / paused / a running campaign whose job ended → running with this job."""
    c = await get_campaign(conn, campaign_id, lock=True)
    if c["status"] in ("done", "cancelled"):
        raise Conflict("Рассылка уже завершена" if c["status"] == "done" else "Рассылка отменена")
    await conn.execute(text(
        "UPDATE campaigns SET status = 'running', job_id = :j, started_at = coalesce(started_at, now()), "
        "resume_at = NULL WHERE id = :i"), {"i": campaign_id, "j": job_id})
    return {**c, "status": "running", "job_id": job_id}


async def job_active(conn: AsyncConnection, campaign_id: int) -> bool:
    """The campaign's job is queued or running (its worker alive as far as the job registry knows)."""
    return (await conn.execute(text(
        "SELECT 1 FROM campaigns c JOIN jobs j ON j.id = c.job_id WHERE c.id = :i "
        "AND j.status IN ('queued', 'running')"), {"i": campaign_id})).first() is not None


async def pause(conn: AsyncConnection, campaign_id: int) -> None:
    c = await get_campaign(conn, campaign_id, lock=True)
    if c["status"] != "running":
        raise Conflict("Приостановить можно только идущую рассылку")
    await conn.execute(text("UPDATE campaigns SET status = 'paused' WHERE id = :i"), {"i": campaign_id})


async def cancel(conn: AsyncConnection, campaign_id: int) -> int:
    """Cancel: what is still waiting is skipped (what is being sent right now finishes). How many skipped."""
    c = await get_campaign(conn, campaign_id, lock=True)
    if c["status"] in ("done", "cancelled"):
        raise Conflict("Рассылка уже завершена" if c["status"] == "done" else "Рассылка уже отменена")
    await conn.execute(text("UPDATE campaigns SET status = 'cancelled', finished_at = now(), resume_at = NULL "
                            "WHERE id = :i"), {"i": campaign_id})
    return (await conn.execute(text(
        "UPDATE campaign_deliveries SET status = 'skipped', detail = 'Рассылка отменена' "
        "WHERE campaign_id = :i AND status = 'pending'"), {"i": campaign_id})).rowcount


async def set_resume(conn: AsyncConnection, campaign_id: int, resume_at, job_id) -> None:
    await conn.execute(text("UPDATE campaigns SET resume_at = :r, job_id = coalesce(:j, job_id) "
                            "WHERE id = :i AND status = 'running'"), {"i": campaign_id, "r": resume_at, "j": job_id})


async def finish_if_done(conn: AsyncConnection, campaign_id: int) -> bool:
    return (await conn.execute(text(
        "UPDATE campaigns SET status = 'done', finished_at = now(), resume_at = NULL WHERE id = :i "
        "AND status = 'running' AND materialised_at IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM campaign_deliveries WHERE campaign_id = :i AND status IN ('pending', 'sending')) "
        "RETURNING id"), {"i": campaign_id})).first() is not None


async def materialise(conn: AsyncConnection, campaign_id: int, today: date) -> int | None:
    """Write the recipients and first deliveries once; None when the campaign already has them (or is gone)."""
    # a campaign of kind 'receipts' (paperless receipts by e-mail) has its own audience
    from aquabill.notifications import receipt_mail  # imported here: receipt_mail uses this package's modules

    if (await receipt_mail.campaign_kind(conn, campaign_id))[0] == receipt_mail.KIND:
        return await receipt_mail.materialise_receipts(conn, campaign_id)
    c = (await conn.execute(text(
        "UPDATE campaigns SET materialised_at = now() WHERE id = :i AND materialised_at IS NULL "
        "RETURNING audience, channels, mode"), {"i": campaign_id})).first()
    if c is None:
        return None
    channels = list(c.channels)
    sql, params = resolved_sql(parse_audience(c.audience), channels, today)
    inserted = (await conn.execute(text(sql + f"""
        INSERT INTO campaign_recipients(campaign_id, account_id, vars, addresses, channels, note)
        SELECT :cid, r.account_id, {VARS}, r.addresses, r.channels, r.note FROM resolved r
        ON CONFLICT (campaign_id, account_id) DO NOTHING"""), {**params, "cid": campaign_id})).rowcount
    first = "SELECT r.campaign_id, r.id, r.channels[1], r.addresses ->> r.channels[1] FROM campaign_recipients r " \
            "WHERE r.campaign_id = :c AND cardinality(r.channels) > 0"
    every = "SELECT r.campaign_id, r.id, ch, r.addresses ->> ch FROM campaign_recipients r, unnest(r.channels) ch " \
            "WHERE r.campaign_id = :c"
    await conn.execute(text("INSERT INTO campaign_deliveries(campaign_id, recipient_id, channel, address) "
                            + (first if c.mode == "first" else every)
                            + " ON CONFLICT (campaign_id, recipient_id, channel) DO NOTHING"), {"c": campaign_id})
    await conn.execute(text("UPDATE campaigns SET recipients = :n WHERE id = :i"), {"i": campaign_id, "n": inserted})
    return inserted


RECIPIENT_FILTERS = ("unreachable", "pending", "sending", "sent", "delivered", "answered", "busy", "no_answer",
                     "failed", "skipped", "unknown")


async def recipients_page(conn: AsyncConnection, campaign_id: int, *, status: str = "", channel: str = "",
                          limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of recipients (by account number) with their deliveries; `status` keeps those with a delivery in
    that status (or 'unreachable': none), `channel` those with a delivery on that channel."""
    if status and status not in RECIPIENT_FILTERS:
        raise Invalid("Неизвестное состояние доставки", field="status")
    conds, params = ["r.campaign_id = :c"], {"c": campaign_id, "l": limit, "o": offset}
    if status == "unreachable":
        conds.append("cardinality(r.channels) = 0")
    elif status or channel:
        sub = ["d.recipient_id = r.id"]
        if status:
            sub.append("d.status = :st")
            params["st"] = status
        if channel:
            sub.append("d.channel = :ch")
            params["ch"] = channel
        conds.append(f"EXISTS (SELECT 1 FROM campaign_deliveries d WHERE {' AND '.join(sub)})")
    where = " AND ".join(conds)
    rows = await conn.execute(text(f"""
        SELECT r.id, r.account_id, r.vars ->> 'account' AS number, r.vars ->> 'holder' AS holder,
               r.vars ->> 'address' AS address, r.channels, r.note,
               coalesce((SELECT jsonb_agg(jsonb_build_object('channel', d.channel, 'address', d.address,
                          'status', d.status, 'attempts', d.attempts, 'detail', d.detail, 'parts', d.parts,
                          'cost', d.cost, 'sent_at', d.sent_at) ORDER BY d.id)
                         FROM campaign_deliveries d WHERE d.recipient_id = r.id), '[]') AS deliveries
        FROM campaign_recipients r WHERE {where}
        ORDER BY r.vars ->> 'account', r.id LIMIT :l OFFSET :o"""), params)
    total = (await conn.execute(text(f"SELECT count(*) FROM campaign_recipients r WHERE {where}"), params)).scalar_one()
    return [{**dict(r._mapping), "channels": list(r.channels)} for r in rows], total
