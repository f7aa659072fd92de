"""Paperless receipts by e-mail: a campaign of kind 'receipts' (t0029) sends each paperless account its issued
receipt of a month, the PDF attached — the notification center's runner does the sending (claims, retries,
bounces, statuses); this module says who gets what.

- The audience: accounts with `receipt_delivery = 'email'` that have an issued receipt for the month
  (billing_core/receipts/issues.py), each with the latest issue; the address is `receipt_email`, else the
  account's own e-mail (an account without either is kept as unreachable, with a note). Notification opt-outs
  do not apply: the receipt is how the subscriber chose to get the payment document, not a notice.
- Once per issue: the letter's idempotency key is the issue's id (`letter_key`), and an issue whose letter
  went out — or may have (sent, delivered, unknown), or is on its way (pending, sending) — in any receipts
  campaign is left out of a later one. So sending the month twice sends each receipt once; a corrected
  receipt (a new issue, a new id) is sent again; a failed letter (a bounce) goes out again with the next
  campaign of the month (after its address was corrected, say).
- One campaign of a month at a time: starting while one is open (draft, running, paused) gives that one
  (serialised by an advisory lock).
The text: «Квитанция за <месяц> — л/с <номер>», what to pay and by when (art. 155 ЖК РФ,
billing_core/penalties/rules.payment_due), the portal's address.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.penalties.rules import payment_due
from aquabill.billing_core.penalties.store import load_settings as load_penalty_settings
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts.requisites import load_requisites
from aquabill.notifications.recipients import ADDRESS, EMAIL_RE
from aquabill.notifications.settings import load_rules
from aquabill.notifications.templates import MessageTemplate, compile_template, month_name

KIND = "receipts"
LOCK_KEY = "aquabill.receipt_mail"
SUBJECT = "Квитанция за {{ period }} — л/с {{ account }}"
BODY = """Здравствуйте, {{ holder }}!

Квитанция за {{ period }} по лицевому счёту {{ account }} ({{ address }}) — во вложении, в формате PDF.
{% if debt > 0 %}К оплате: {{ debt }} руб. Оплатить без пеней можно до {{ due_date }} включительно.{% else %}\
Оплачивать в этом месяце ничего не нужно.{% endif %}

Оплатить онлайн, передать показания счётчиков и посмотреть историю платежей — в личном кабинете: {portal}

Это письмо отправлено автоматически, отвечать на него не нужно.
{{ tenant_name }}{% if tenant_phone %}, тел. {{ tenant_phone }}{% endif %}"""
NO_EMAIL = "Нет адреса электронной почты для квитанций"
# statuses of a delivery that mean the letter went out, may have, or is on its way: the issue is not sent again
TAKEN = ("pending", "sending", "sent", "delivered", "answered", "unknown")


def letter_key(issue_id: int) -> str:
    """The letter's idempotency key (and so its Message-ID): the receipt issue's."""
    return f"receipt:{issue_id}:email"


def body_template(portal_url: str) -> str:
    return BODY.replace("{portal}", portal_url.rstrip("/") + "/my")


# the accounts of the month to send to: paperless by e-mail, with an issue whose letter is not taken yet
_AUDIENCE = f"""
WITH latest AS (
    SELECT DISTINCT ON (account_id) id, account_id, issue_no, due FROM receipt_issues
    WHERE period = :p ORDER BY account_id, issue_no DESC
), aud AS (
    SELECT a.id AS account_id, a.number, a.holder, {ADDRESS} AS address, l.id AS issue_id, l.issue_no, l.due,
           CASE WHEN btrim(coalesce(a.receipt_email, '')) ~ '{EMAIL_RE}' THEN lower(btrim(a.receipt_email))
                WHEN btrim(coalesce(a.email, '')) ~ '{EMAIL_RE}' THEN lower(btrim(a.email)) END AS email
    FROM accounts a JOIN latest l ON l.account_id = a.id JOIN premises pr ON pr.id = a.premise_id
    JOIN houses h ON h.id = pr.house_id JOIN streets st ON st.id = h.street_id
    JOIN settlements se ON se.id = st.settlement_id
    WHERE a.receipt_delivery = 'email' AND NOT EXISTS (
        SELECT 1 FROM campaign_recipients r JOIN campaign_deliveries d ON d.recipient_id = r.id
        WHERE r.receipt_issue_id = l.id AND d.status = ANY(CAST(:taken AS text[])))
)"""


async def open_campaign(conn: AsyncConnection, period: Period) -> dict[str, Any] | None:
    """The month's receipts campaign not finished yet (draft, running, paused), if any."""
    row = (await conn.execute(text(
        "SELECT id, status FROM campaigns WHERE kind = :k AND period = :p AND status IN ('draft', 'running', "
        "'paused') ORDER BY id DESC LIMIT 1"), {"k": KIND, "p": period.first_day})).first()
    return dict(row._mapping) if row is not None else None


async def create_receipt_campaign(conn: AsyncConnection, period: Period, *, tenant_name: str, portal_url: str,
                                  user_id: int | None) -> tuple[int, bool]:
    """(the campaign's id, whether it was created now): the month's open receipts campaign when there is one,
    else a new draft. The caller starts its job (the notification center's `notifications.campaign`)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k), :m)"),
                       {"k": LOCK_KEY, "m": period.year * 100 + period.month})
    existing = await open_campaign(conn, period)
    if existing is not None:
        return existing["id"], False
    due = payment_due(period.first_day, (await load_penalty_settings(conn))["due_day"]).on
    requisites = await load_requisites(conn)
    rules = await load_rules(conn)
    template = MessageTemplate(SUBJECT, body_template(portal_url))
    compile_template(template)  # a wrong portal address cannot break the template: checked all the same
    fields = {"period": month_name(period.first_day), "due_date": due.strftime("%d.%m.%Y"),
              "tenant_name": requisites.name if requisites and requisites.name else tenant_name,
              "tenant_phone": requisites.phone if requisites and requisites.phone else ""}
    row = (await conn.execute(text("""
        INSERT INTO campaigns(title, subject, body, audience, fields, channels, mode, rates, created_by, kind,
                              period)
        VALUES (:title, :subject, :body, '{}', CAST(:fields AS jsonb), ARRAY['email'], 'all', CAST(:rates AS jsonb),
                :u, :k, :p)
        RETURNING id"""), {
        "title": f"Квитанции за {month_name(period.first_day)} по электронной почте", "subject": template.subject,
        "body": template.body, "fields": json.dumps(fields, ensure_ascii=False),
        "rates": json.dumps({"email": rules.rates.get("email", 50)}), "u": user_id, "k": KIND,
        "p": period.first_day})).one()
    return row.id, True


async def campaign_kind(conn: AsyncConnection, campaign_id: int) -> tuple[str, Period | None]:
    row = (await conn.execute(text("SELECT kind, period FROM campaigns WHERE id = :i"), {"i": campaign_id})).first()
    if row is None:
        return "", None
    return row.kind, Period(row.period.year, row.period.month) if row.period is not None else None


async def materialise_receipts(conn: AsyncConnection, campaign_id: int) -> int | None:
    """`campaign_store.materialise` for a receipts campaign: its recipients (with their issue) and their
    e-mail deliveries, once; None when already done."""
    c = (await conn.execute(text(
        "UPDATE campaigns SET materialised_at = now() WHERE id = :i AND materialised_at IS NULL AND kind = :k "
        "RETURNING period"), {"i": campaign_id, "k": KIND})).first()
    if c is None:
        return None
    inserted = (await conn.execute(text(_AUDIENCE + """
        INSERT INTO campaign_recipients(campaign_id, account_id, vars, addresses, channels, note, receipt_issue_id)
        SELECT :cid, account_id,
               jsonb_build_object('holder', holder, 'account', number, 'address', address,
                                  'debt', due::numeric(14, 2)::text, 'issue_id', issue_id, 'issue_no', issue_no),
               CASE WHEN email IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('email', email) END,
               CASE WHEN email IS NULL THEN ARRAY[]::varchar[] ELSE ARRAY['email']::varchar[] END,
               CASE WHEN email IS NULL THEN :no_email ELSE '' END, issue_id
        FROM aud
        ON CONFLICT (campaign_id, account_id) DO NOTHING"""),
        {"p": c.period, "taken": list(TAKEN), "cid": campaign_id, "no_email": NO_EMAIL})).rowcount
    await conn.execute(text(
        "INSERT INTO campaign_deliveries(campaign_id, recipient_id, channel, address) "
        "SELECT r.campaign_id, r.id, 'email', r.addresses ->> 'email' FROM campaign_recipients r "
        "WHERE r.campaign_id = :c AND r.addresses ? 'email' "
        "ON CONFLICT (campaign_id, recipient_id, channel) DO NOTHING"), {"c": campaign_id})
    await conn.execute(text("UPDATE campaigns SET recipients = :n WHERE id = :i"), {"i": campaign_id, "n": inserted})
    return inserted


async def month_summary(conn: AsyncConnection, period: Period) -> dict[str, int]:
    """The page's figures for the month: paperless accounts (by e-mail, in the portal only), those by e-mail
    with / without an issued receipt and without an address, and of the issued ones those whose latest issue
    was sent (sent, delivered), failed, is on its way or waits to be sent."""
    row = (await conn.execute(text(f"""
        WITH latest AS (
            SELECT DISTINCT ON (account_id) id, account_id FROM receipt_issues WHERE period = :p
            ORDER BY account_id, issue_no DESC
        ), acc AS (
            SELECT a.id, a.receipt_delivery AS how, l.id AS issue_id,
                   btrim(coalesce(a.receipt_email, '')) ~ '{EMAIL_RE}' OR btrim(coalesce(a.email, '')) ~ '{EMAIL_RE}'
                       AS has_email,
                   (SELECT array_agg(d.status) FROM campaign_recipients r JOIN campaign_deliveries d
                    ON d.recipient_id = r.id WHERE r.receipt_issue_id = l.id) AS statuses
            FROM accounts a LEFT JOIN latest l ON l.account_id = a.id
            WHERE a.receipt_delivery IN ('email', 'portal') AND (a.status = 'open' OR l.id IS NOT NULL)
        )
        SELECT count(*) FILTER (WHERE how = 'email') AS email,
               count(*) FILTER (WHERE how = 'portal') AS portal,
               count(*) FILTER (WHERE how = 'email' AND issue_id IS NOT NULL) AS issued,
               count(*) FILTER (WHERE how = 'email' AND issue_id IS NULL) AS not_issued,
               count(*) FILTER (WHERE how = 'email' AND NOT has_email) AS no_email,
               count(*) FILTER (WHERE how = 'email' AND statuses && ARRAY['sent', 'delivered']::varchar[]) AS sent,
               count(*) FILTER (WHERE how = 'email' AND NOT coalesce(statuses && ARRAY['sent', 'delivered']::varchar[],
                                false) AND statuses && ARRAY['pending', 'sending']::varchar[]) AS in_work,
               count(*) FILTER (WHERE how = 'email' AND NOT coalesce(statuses && ARRAY['sent', 'delivered', 'pending',
                                'sending', 'unknown']::varchar[], false) AND 'failed' = ANY(statuses)) AS failed,
               count(*) FILTER (WHERE how = 'email' AND issue_id IS NOT NULL AND has_email
                                AND statuses IS NULL) AS to_send
        FROM acc"""), {"p": period.first_day})).one()
    return dict(row._mapping)


async def month_campaigns(conn: AsyncConnection, period: Period, *, limit: int = 20) -> list[dict[str, Any]]:
    """The month's receipts campaigns, newest first, with their counts of recipients by outcome."""
    rows = await conn.execute(text("""
        SELECT c.id, c.title, c.status, c.recipients, c.created_at, c.started_at, c.finished_at,
               coalesce(d.ok, 0) AS sent, coalesce(d.failed, 0) AS failed, coalesce(d.open, 0) AS open
        FROM campaigns c LEFT JOIN LATERAL (
            SELECT count(*) FILTER (WHERE status IN ('sent', 'delivered')) AS ok,
                   count(*) FILTER (WHERE status IN ('failed', 'skipped', 'unknown')) AS failed,
                   count(*) FILTER (WHERE status IN ('pending', 'sending')) AS open
            FROM campaign_deliveries WHERE campaign_id = c.id) d ON true
        WHERE c.kind = :k AND c.period = :p ORDER BY c.id DESC LIMIT :l"""),
        {"k": KIND, "p": period.first_day, "l": limit})
    return [dict(r._mapping) for r in rows]


async def count_to_send(conn: AsyncConnection, period: Period) -> tuple[int, int]:
    """(receipts a new campaign of the month would send, of the accounts it would take those without an
    address)."""
    row = (await conn.execute(text(_AUDIENCE + " SELECT count(*) FILTER (WHERE email IS NOT NULL) AS n, "
                                   "count(*) FILTER (WHERE email IS NULL) AS no_email FROM aud"),
                              {"p": period.first_day, "taken": list(TAKEN)})).one()
    return row.n, row.no_email


async def latest_issued_period(conn: AsyncConnection) -> Period | None:
    day = (await conn.execute(text("SELECT max(period) FROM receipt_issues"))).scalar()
    return Period(day.year, day.month) if day is not None else None
