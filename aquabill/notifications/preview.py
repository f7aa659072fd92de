"""The compose page's preview: how many accounts the filter gives, how many each channel reaches (and in mode
'first' how many go to each channel first), SMS parts and cost before sending, and three messages rendered for
real recipients. Nothing is written; the audience is counted with one query (recipients.reach_select)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.notifications.campaign_store import campaign_values
from aquabill.notifications.campaigns import CampaignDraft
from aquabill.notifications.recipients import VARS, reach_select, resolved_sql
from aquabill.notifications.settings import SendingRules
from aquabill.notifications.sms import sms_encoding, sms_parts
from aquabill.notifications.templates import compile_template, recipient_values

SAMPLES = 3


async def preview(conn: AsyncConnection, draft: CampaignDraft, *, tenant_name: str, today: date,
                  rules: SendingRules) -> dict[str, Any]:
    compiled = compile_template(draft.template)
    values = await campaign_values(conn, tenant_name, draft.fields, draft.audience)
    channels = list(draft.channels)
    sql, params = resolved_sql(draft.audience, channels, today)
    reach = (await conn.execute(text(sql + reach_select(channels)), params)).one()
    rows = await conn.execute(text(sql + f"""
        SELECT r.account_id, r.channels, {VARS} AS vars FROM resolved r
        ORDER BY cardinality(r.channels) = 0, r.number LIMIT {SAMPLES}"""), params)
    samples = []
    for r in rows:
        subject, body = compiled.render(recipient_values(r.vars, values))
        samples.append({"account_id": r.account_id, "account": r.vars["account"], "holder": r.vars["holder"],
                        "address": r.vars["address"], "channels": list(r.channels), "subject": subject,
                        "text": body, "sms_parts": sms_parts(body), "sms_encoding": sms_encoding(body)})
    per_channel = {ch: {"reach": getattr(reach, f"reach_{ch}"), "first": getattr(reach, f"first_{ch}")}
                   for ch in channels}
    sms = per_channel.get("sms", {"reach": 0, "first": 0})
    sms_messages = sms["first" if draft.mode == "first" else "reach"]  # more in mode 'first' when others fail
    parts = max((s["sms_parts"] for s in samples), default=0)
    return {
        "count": reach.total, "reachable": reach.reachable, "unreachable": reach.total - reach.reachable,
        "channels": per_channel, "mode": draft.mode, "samples": samples, "values": values,
        "sms": {"messages": sms_messages, "max_messages": sms["reach"], "parts": parts,
                "price": str(rules.sms_price), "cost": str(_cost(rules.sms_price, parts, sms_messages)),
                "max_cost": str(_cost(rules.sms_price, parts, sms["reach"]))},
    }


def _cost(price: Decimal, parts: int, messages: int) -> Decimal:
    """Parts of the longest sample × messages × the price of a part (an estimate: texts differ in length)."""
    return (price * parts * messages).quantize(Decimal("0.01"))
