"""What the bot's buttons do, over the other areas' services: the subscriber's accounts and linking
(`subscribers.links`), balance and receipt (`billing_core`), the pay link (`subscribers.pay_links`), why the
bill is what it is (`billing_core.run.explain`), readings (`subscribers.readings`), appeals
(`contact_center.appeals`). Each returns the reply's text and buttons; the conversation decides the steps."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.payments.balances import account_balance
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts.assemble import build_receipt
from aquabill.billing_core.run.explain import explain_summary
from aquabill.billing_core.run.queries import latest_charged_period
from aquabill.contact_center.appeals.service import CREATED, create_appeal, event_data
from aquabill.subscribers import links, readings
from aquabill.subscribers.bot import keyboards as kb
from aquabill.subscribers.bot import texts
from aquabill.subscribers.bot.receipt_doc import receipt_file
from aquabill.subscribers.bot.types import MAX_TEXT, BotEnv, Document, Outcome, PhotoRef
from aquabill.subscribers.pay_links import pay_token

ZERO = Decimal("0.00")
Said = tuple[str, kb.Rows]


async def accounts(conn: AsyncConnection, subscriber_id: int) -> list[dict[str, Any]]:
    return await links.linked_accounts(conn, subscriber_id)


async def link(conn: AsyncConnection, subscriber_id: int, number: str, check: str, channel: str) -> dict[str, Any]:
    return await links.link_account(conn, subscriber_id, number, check, via=channel)


async def accounts_text(conn: AsyncConnection, subscriber_id: int) -> Said:
    found = await accounts(conn, subscriber_id)
    if not found:
        return texts.NO_ACCOUNTS + " " + texts.MENU_UNLINKED, kb.main_menu(linked=False, notify=False)
    lines = [f"• {a['number']} — {a.get('address') or '—'}" for a in found]
    return texts.ACCOUNTS + "\n" + "\n".join(lines), kb.accounts_list()


def pay_url(env: BotEnv, account_id: int) -> str:
    via = f"?via={env.channel}" if env.channel in ("telegram", "max") else ""
    return f"{env.base_url}/pay/{pay_token(env.pay_secret, env.tenant_slug, account_id)}{via}"


async def balance(conn: AsyncConnection, env: BotEnv, account: dict[str, Any]) -> Said:
    b = await account_balance(conn, account["id"])
    head = {"number": account["number"], "address": account.get("address") or "—"}
    if b.balance > 0:
        by_service: dict[str, Decimal] = {}
        for line in b.lines:
            by_service[line.service_name] = by_service.get(line.service_name, ZERO) + line.debt
        details = "\n".join(f"• {name} — {texts.money(amount)}" for name, amount in by_service.items())
        text = texts.BALANCE_DEBT.format(**head, amount=texts.money(b.balance)) + ("\n" + details if details else "")
    elif b.balance < 0:
        text = texts.BALANCE_CREDIT.format(**head, amount=texts.money(-b.balance))
    else:
        text = texts.BALANCE_ZERO.format(**head)
    period = await latest_charged_period(conn, account["id"])
    return text, kb.after_amount(account["id"], pay_url(env, account["id"]), str(period) if period else None)


async def receipt(conn: AsyncConnection, env: BotEnv,
                  account: dict[str, Any]) -> tuple[str, kb.Rows, Document | None]:
    """The latest month's receipt in brief, with the full receipt as a file."""
    period = await latest_charged_period(conn, account["id"])
    if period is None:
        return texts.RECEIPT_NONE.format(number=account["number"]), kb.back(), None
    r = await build_receipt(conn, account["id"], period)
    lines = [texts.RECEIPT_HEAD.format(month=texts.month_name(period.year, period.month), number=account["number"])]
    for line in r.lines:
        if line.code is None:  # the advance
            continue
        volume = f" ({texts.number(line.volume)} м³)" if line.volume is not None else ""
        lines.append(f"• {line.service}{volume}: {texts.money(line.charged + line.recalculated)}")
    if r.totals["paid"]:
        lines.append(f"Оплачено в месяце: {texts.money(r.totals['paid'])}")
    if r.penalty.get("closing"):
        lines.append(f"Пени: {texts.money(r.penalty['closing'])}")
    lines.append(f"\nК оплате: {texts.money(r.due)}")
    if r.pay_by_text:
        lines.append(r.pay_by_text)
    doc = await receipt_file(conn, env, r)
    return "\n".join(lines)[:MAX_TEXT], kb.after_amount(account["id"], pay_url(env, account["id"]), str(period)), doc


async def pay(conn: AsyncConnection, env: BotEnv, account: dict[str, Any]) -> Said:
    b = await account_balance(conn, account["id"])
    url = pay_url(env, account["id"])
    if b.balance > 0:
        return texts.PAY.format(number=account["number"], amount=texts.money(b.balance)), kb.pay_link(url)
    return texts.PAY_NOTHING.format(number=account["number"]), kb.pay_link(url)


async def why(conn: AsyncConnection, subscriber_id: int, account_arg: str, period_arg: str) -> Said:
    """The explanation of a month's bill, for one of the subscriber's own accounts."""
    owned = {str(a["id"]): a for a in await accounts(conn, subscriber_id)}
    account = owned.get(account_arg)
    if account is None:
        raise NotFound("Лицевой счёт не найден")
    try:
        period = Period.parse(period_arg)
    except ValueError as exc:
        raise Invalid("Месяц не распознан") from exc
    summary = await explain_summary(conn, account["id"], period)
    return (summary or texts.EXPLAIN_NONE)[:MAX_TEXT], kb.back()


# ---- readings -----------------------------------------------------------------------------------------------

async def reading_start(conn: AsyncConnection, env: BotEnv, account_id: int) -> tuple[str | None, list[dict]]:
    """(why readings are not taken today, or None; the account's meters)."""
    refusal = readings.window_refusal(env.today, await readings.reading_days(conn))
    if refusal:
        return refusal, []
    return None, await readings.account_meters(conn, account_id, env.today)


async def meter(conn: AsyncConnection, env: BotEnv, account_id: int, meter_id: int) -> dict[str, Any] | None:
    return next((m for m in await readings.account_meters(conn, account_id, env.today) if m["id"] == meter_id), None)


def meter_question(m: dict[str, Any], position: int, total: int) -> str:
    when = f" от {texts.day(m['last_read_on'])}" if m.get("last_read_on") else ""
    last = texts.number(m["last_value"]) if m.get("last_value") is not None else "нет"
    return texts.READING_ASK.format(position=f"{position} из {total}" if total > 1 else "", service=m["service_name"],
                                    serial=m["serial"], last=last, when=when).replace("Счётчик : ", "Счётчик: ")


async def submit(conn: AsyncConnection, env: BotEnv, subscriber_id: int, account_id: int, meter_id: int,
                 raw: str, photo: PhotoRef | None) -> dict[str, Any]:
    """Submit a reading (with the photo the subscriber sent for it, fetched from the messenger)."""
    data: bytes | None = None
    if photo is not None and env.fetch_photo is not None:
        try:
            data = await env.fetch_photo(photo)
        except Exception as exc:  # the messenger did not give the file: say so, keep the conversation
            raise Invalid("Не удалось получить фото. Отправьте его ещё раз или введите показание без фото",
                          field="photo") from exc
    # its refusals come before it writes (the reading itself is stored in a savepoint of its own)
    return await readings.submit_reading(
        conn, subscriber_id=subscriber_id, account_id=account_id, meter_id=meter_id, value=raw,
        today=env.today, source="bot", photo=data, photo_type=photo.mime_type if photo else None)


# ---- appeals ------------------------------------------------------------------------------------------------

async def appeal(conn: AsyncConnection, subscriber_id: int, account_id: int | None, raw: str, phone: str,
                 out: Outcome) -> dict[str, Any]:
    """Register the question as an appeal (source 'bot'); its event is published after the commit."""
    values: dict[str, Any] = {"source": "bot", "subject": raw.strip().splitlines()[0][:200], "text": raw[:10_000],
                              "account_id": account_id, "subscriber_id": subscriber_id}
    if phone:
        values["applicant_phone"] = phone
    created = await create_appeal(conn, values, user_id=None)  # its refusals come before it writes
    out.events.append((CREATED, event_data(created)))
    return created
