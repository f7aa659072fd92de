"""The sales ledger (книга продаж) as a landscape A4 PDF: the header of the form (Government Decree 1137 of
26.12.2011, appendix 5: «Книга продаж», the seller, its INN/KPP, the period) and the table with the columns of
`aquabill.legal_entities.reports.sales_ledger.COLUMNS`, the totals row «Всего» last; the header repeats on
every sheet."""

from __future__ import annotations

from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table

from aquabill.channels.print.legal_report_common import money, p, render, styles, table_style
from aquabill.legal_entities.reports.sales_ledger import COLUMNS, MONEY_KEYS

# column widths in mm (277 mm of a landscape A4 within the margins)
WIDTHS = (8, 10, 22, 22, 26, 21, 20, 18, 8, 17, 16, 14, 13, 11, 14, 13, 11, 13)


def ledger_pdf(ledger: dict[str, Any], *, seller: str, seller_ids: str) -> bytes:
    s = styles()
    story = [p("Книга продаж", s["title"]),
             p(f"Продавец: {seller}", s["text"]),
             p(f"ИНН/КПП продавца: {seller_ids}", s["text"]),
             p(f"Продажа за период с {ledger['date_from']:%d.%m.%Y} по {ledger['date_to']:%d.%m.%Y}", s["text"]),
             Spacer(1, 2 * mm)]
    head = [[p(col, s["head"]) for _, col, _ in COLUMNS], [p(title, s["head"]) for _, _, title in COLUMNS]]
    body = []
    for r in ledger["rows"]:
        body.append([p(money(r[key]) if key in MONEY_KEYS else r[key], s["num"] if key in MONEY_KEYS else s["cell"])
                     for key, _, _ in COLUMNS])
    totals = ledger["totals"]
    blanks = len(COLUMNS) - len(MONEY_KEYS) - 1  # the columns before «Всего» under the money columns
    body.append([p("", s["cell"])] * blanks + [p("Всего", s["head"])] + [p(money(totals[k]), s["num"]) for k in MONEY_KEYS])
    table = Table(head[::-1] + body, colWidths=[w * mm for w in WIDTHS], repeatRows=2)
    table.setStyle(table_style(2, total_row=True))
    story.append(table)
    excluded = ledger["excluded"]
    if excluded["ukd_decrease"] or excluded["act"]:
        story += [Spacer(1, 2 * mm), p(
            f"Не регистрируются в книге продаж: корректировочных документов на уменьшение — "
            f"{excluded['ukd_decrease']} (регистрируются в книге покупок), актов без НДС — {excluded['act']}.",
            s["small"])]
    story.append(p("Ставка 22 % — в графах 14 и 17, ставка 20 % — в графах 14а и 17а (форма в редакции постановления "
                   "Правительства РФ от 23.01.2026 № 26).", s["small"]))
    return render(story, pagesize=landscape(A4), title="Книга продаж")
