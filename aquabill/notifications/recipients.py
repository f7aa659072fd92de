"""Where an account can be reached, per channel, in one set-based query over the audience.

- e-mail: the account's own e-mail (when it looks like one), else the confirmed e-mail of a subscriber linked to
  it (a live link, an active subscriber);
- SMS and autocall: the account's phone as +7XXXXXXXXXX (billing_core/registry/phones.py), else the confirmed
  phone of a linked subscriber;
- Telegram / MAX: the chat of a linked subscriber with the bot whose notices are on (`bot_chats.notify`, the
  subscriber's «stop» turns it off), the most recently active one;
- inbox: the first linked active subscriber (its portal inbox).
Opt-outs (`notification_optouts`) are honoured: an account's opt-out on a channel (or on all: `channel` NULL)
drops that channel; an address's opt-out drops that address, and the next candidate is taken. One address per
channel and account; an account with none for the campaign's channels is kept as unreachable, with a note.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aquabill.billing_core.registry.phones import PHONE_SQL
from aquabill.notifications.audiences import Audience, audience_sql

EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ADDRESS = ("concat_ws(', ', concat_ws(' ', se.kind, se.name), concat_ws(' ', st.kind, st.name), 'д. ' || h.number, "
           "nullif('кв. ' || pr.number, 'кв. '))")
NO_ADDRESS = "Нет адресов для выбранных каналов"
OPTED_OUT = "Отказался от оповещений"


def _optout(value: str, channel: str) -> str:
    return (f"NOT EXISTS (SELECT 1 FROM notification_optouts o WHERE o.address = {value} "
            f"AND (o.channel IS NULL OR o.channel = '{channel}'))")


_LINKED = ("FROM subscriber_links l JOIN subscribers s ON s.id = l.subscriber_id "
           "WHERE l.account_id = a.id AND l.revoked_at IS NULL AND s.is_active")


def _email() -> str:
    return f"""(SELECT e.v FROM (
        SELECT lower(btrim(a.email)) AS v, 0 AS ord WHERE btrim(coalesce(a.email, '')) ~ '{EMAIL_RE}'
        UNION ALL SELECT s.email, 1 {_LINKED} AND s.email IS NOT NULL AND s.email_confirmed_at IS NOT NULL) e
        WHERE {_optout('e.v', 'email')} ORDER BY e.ord LIMIT 1)"""


def _phone(channel: str) -> str:
    own = PHONE_SQL.replace("phone", "a.phone")
    return f"""(SELECT f.v FROM (
        SELECT {own} AS v, 0 AS ord
        UNION ALL SELECT s.phone, 1 {_LINKED} AND s.phone IS NOT NULL AND s.phone_confirmed_at IS NOT NULL) f
        WHERE f.v IS NOT NULL AND {_optout('f.v', channel)} ORDER BY f.ord LIMIT 1)"""


def _chat(channel: str) -> str:
    return f"""(SELECT bc.chat_key FROM subscriber_links l JOIN subscribers s ON s.id = l.subscriber_id
        JOIN bot_chats bc ON bc.subscriber_id = s.id
        WHERE l.account_id = a.id AND l.revoked_at IS NULL AND s.is_active AND bc.channel = '{channel}' AND bc.notify
        AND {_optout('bc.chat_key', channel)} ORDER BY bc.updated_at DESC, bc.id DESC LIMIT 1)"""


def _inbox() -> str:
    return f"(SELECT l.subscriber_id::text {_LINKED} ORDER BY l.id LIMIT 1)"


ADDRESS_SQL = {"email": _email, "sms": lambda: _phone("sms"), "autocall": lambda: _phone("autocall"),
               "telegram": lambda: _chat("telegram"), "max": lambda: _chat("max"), "inbox": _inbox}


def resolved_sql(audience: Audience, channels: list[str], today: date) -> tuple[str, dict[str, Any]]:
    """`WITH …, resolved AS (account_id, number, holder, address, debt, debt_months, verification_date,
    addresses jsonb, channels text[], note)` — only the campaign's channels are looked up; `channels` keeps their
    order."""
    base, params = audience_sql(audience, today)
    cols = ",\n".join(
        f"CASE WHEN coalesce(opt.chs, '{{}}') && ARRAY['*', '{ch}']::text[] THEN NULL ELSE {ADDRESS_SQL[ch]()} END "
        f"AS a_{ch}" for ch in channels)
    pairs = ", ".join(f"'{ch}', x.a_{ch}" for ch in channels)
    reachable = ", ".join(f"CASE WHEN x.a_{ch} IS NOT NULL THEN '{ch}' END" for ch in channels)
    sql = base + f""",
opt AS (
    SELECT account_id, array_agg(coalesce(channel, '*'))::text[] AS chs FROM notification_optouts
    WHERE account_id IS NOT NULL GROUP BY 1
),
looked AS (
    SELECT c.account_id, a.number, a.holder, {ADDRESS} AS address, c.debt, c.debt_months, c.verification_date,
           coalesce(opt.chs, '{{}}') AS opted, {cols}
    FROM chosen c JOIN accounts a ON a.id = c.account_id JOIN premises pr ON pr.id = a.premise_id
    JOIN houses h ON h.id = pr.house_id JOIN streets st ON st.id = h.street_id
    JOIN settlements se ON se.id = st.settlement_id
    LEFT JOIN opt ON opt.account_id = c.account_id
),
resolved AS (
    SELECT x.account_id, x.number, x.holder, x.address, x.debt, x.debt_months, x.verification_date,
           jsonb_strip_nulls(jsonb_build_object({pairs})) AS addresses,
           array_remove(ARRAY[{reachable}]::text[], NULL) AS channels,
           CASE WHEN {' AND '.join(f'x.a_{ch} IS NULL' for ch in channels)}
                THEN CASE WHEN '*' = ANY(x.opted) THEN '{OPTED_OUT}' ELSE '{NO_ADDRESS}' END ELSE '' END AS note
    FROM looked x
)"""
    return sql, params


VARS = ("jsonb_build_object('holder', r.holder, 'account', r.number, 'address', r.address, "
        "'debt', r.debt::numeric(14, 2)::text, 'debt_months', r.debt_months, "
        "'verification_date', coalesce(to_char(r.verification_date, 'DD.MM.YYYY'), ''))")


def reach_select(channels: list[str]) -> str:
    """After `resolved_sql`: the audience's size, how many are reachable at all, per channel and by first
    channel."""
    per = ", ".join(f"count(*) FILTER (WHERE r.addresses ? '{ch}') AS reach_{ch}, "
                    f"count(*) FILTER (WHERE r.channels[1] = '{ch}') AS first_{ch}" for ch in channels)
    return f" SELECT count(*) AS total, count(*) FILTER (WHERE cardinality(r.channels) > 0) AS reachable, {per} " \
           "FROM resolved r"
