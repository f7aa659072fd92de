"""The month's receipt as a file the bot sends: the PDF the portal gives (the issued receipt when the month
was issued; rendered by the runtime, `BotEnv.receipt_pdf`), or where the runtime renders none a small
self-contained HTML file (opens in any phone browser) with the same figures as the staff receipt
(`billing_core.receipts.build_receipt`), one line per service."""

from __future__ import annotations

from html import escape
from typing import Any

from aquabill.billing_core.receipts.assemble import Receipt
from aquabill.subscribers.bot import texts
from aquabill.subscribers.bot.types import BotEnv, Document

_STYLE = ("body{font-family:sans-serif;margin:1em;max-width:40em}table{border-collapse:collapse;width:100%}"
          "td,th{border-bottom:1px solid #ddd;padding:.3em;text-align:left}td.n,th.n{text-align:right}"
          ".due{font-size:1.3em;font-weight:bold}")


def receipt_document(r: Receipt, tenant_name: str) -> Document:
    month = texts.month_name(r.period.year, r.period.month)
    rows = []
    for line in r.lines:
        volume = texts.number(line.volume) if line.volume is not None else ""
        rows.append(f"<tr><td>{escape(line.service)}</td><td class=n>{volume}</td>"
                    f"<td class=n>{texts.money(line.opening)}</td><td class=n>{texts.money(line.charged)}</td>"
                    f"<td class=n>{texts.money(line.recalculated)}</td><td class=n>{texts.money(line.paid)}</td>"
                    f"<td class=n>{texts.money(line.closing)}</td></tr>")
    penalty = (f"<p>Пени: {texts.money(r.penalty['closing'])}</p>" if r.penalty.get("closing") else "")
    payee = f"<p>Получатель: {escape(r.payee.name)}</p>" if r.payee else ""
    html = (
        f"<!doctype html><html lang=ru><meta charset=utf-8><title>Квитанция за {month}</title>"
        f"<style>{_STYLE}</style><h1>{escape(tenant_name)}</h1>"
        f"<h2>Квитанция за {month}</h2>"
        f"<p>Лицевой счёт {escape(str(r.account['number']))}<br>{escape(r.account.get('holder') or '')}<br>"
        f"{escape(r.account.get('address') or '')}</p>{payee}"
        "<table><tr><th>Услуга</th><th class=n>Объём, м³</th><th class=n>Долг на начало</th>"
        "<th class=n>Начислено</th><th class=n>Перерасчёт</th><th class=n>Оплачено</th><th class=n>Итого</th></tr>"
        + "".join(rows) + f"</table>{penalty}<p class=due>К оплате: {texts.money(r.due)}</p>"
        f"<p>{escape(r.pay_by_text)}</p></html>")
    return Document(f"kvitanciya-{r.period}-{r.account['id']}.html", html.encode(), "text/html")


async def receipt_file(conn: Any, env: BotEnv, r: Receipt) -> Document:
    """The receipt's PDF when the runtime renders one, else its HTML document."""
    if env.receipt_pdf is None:
        return receipt_document(r, env.tenant_name)
    pdf = await env.receipt_pdf(conn, r.account["id"], r.period)
    return Document(f"kvitanciya-{r.period}-{r.account['id']}.pdf", pdf, "application/pdf")
