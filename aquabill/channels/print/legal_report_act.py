"""The reconciliation act (акт сверки взаимных расчётов) as an A4 PDF, in the usual two-sided layout: the
date and document columns and «По данным <supplier>» (debit, credit) filled, «По данным <counterparty>» left
empty for the counterparty to fill in and sign; the opening balance, the turnover, the closing balance and
«в пользу …» to the kopeck; then the penalties block (if any) and the signatures."""

from __future__ import annotations

from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table

from aquabill.channels.print.legal_report_common import money, p, render, styles, table_style

WIDTHS = (7, 17, 80, 22, 22, 7, 17, 61, 22, 22)  # mm: 277 within the margins


def _balance_row(s, label: str, value, *, our: bool = True) -> list:
    debit = money(value) if value > 0 else ""
    credit = money(-value) if value < 0 else ""
    return [p("", s["cell"]), p("", s["cell"]), p(label, s["head"]), p(debit, s["num"]), p(credit, s["num"]),
            p("", s["cell"]), p("", s["cell"]), p(label, s["head"]), p("", s["num"]), p("", s["num"])]


def act_pdf(act: dict[str, Any]) -> bytes:
    s = styles()
    supplier, party = act["supplier"], act["counterparty"]["name"]
    contract = act["contract"]
    story = [
        p("Акт сверки взаимных расчётов", s["title"]),
        p(f"за период с {act['date_from']:%d.%m.%Y} по {act['date_to']:%d.%m.%Y} между {supplier} и {party} "
          f"по договору № {contract['number']} от {contract['signed_on']:%d.%m.%Y}", s["text"]),
        p("Мы, нижеподписавшиеся, составили настоящий акт сверки в том, что состояние взаимных расчётов по данным "
          "учёта следующее:", s["small"]),
        Spacer(1, 2 * mm),
    ]
    head = [[p(f"По данным {supplier}, руб.", s["head"])] + [p("", s["head"])] * 4 +
            [p(f"По данным {party}, руб.", s["head"])] + [p("", s["head"])] * 4,
            [p(t, s["head"]) for t in ("№", "Дата", "Документ", "Дебет", "Кредит",
                                       "№", "Дата", "Документ", "Дебет", "Кредит")]]
    rows = [_balance_row(s, "Сальдо начальное", act["opening"])]
    for no, r in enumerate(act["rows"], start=1):
        rows.append([p(no, s["cell"]), p(f"{r['on']:%d.%m.%Y}", s["cell"]), p(r["text"], s["cell"]),
                     p(money(r["debit"]) if r["debit"] else "", s["num"]),
                     p(money(r["credit"]) if r["credit"] else "", s["num"]),
                     p("", s["cell"]), p("", s["cell"]), p("", s["cell"]), p("", s["num"]), p("", s["num"])])
    rows.append([p("", s["cell"]), p("", s["cell"]), p("Обороты за период", s["head"]),
                 p(money(act["debit"]), s["num"]), p(money(act["credit"]), s["num"]),
                 p("", s["cell"]), p("", s["cell"]), p("Обороты за период", s["head"]), p("", s["num"]),
                 p("", s["num"])])
    rows.append(_balance_row(s, "Сальдо конечное", act["closing"]))
    table = Table(head + rows, colWidths=[w * mm for w in WIDTHS], repeatRows=2)
    style = table_style(2)
    style.add("SPAN", (0, 0), (4, 0))
    style.add("SPAN", (5, 0), (9, 0))
    table.setStyle(style)
    story += [table, Spacer(1, 3 * mm),
              p(f"По данным {supplier} на {act['date_to']:%d.%m.%Y}: {act['closing_text']}", s["text"])]
    pen = act.get("penalties")
    if pen and (pen["rows"] or pen["opening"] or pen["paid"]):
        story += [Spacer(1, 2 * mm), p("Пени (Федеральный закон № 416-ФЗ), руб.", s["text"])]
        pen_rows = [[p(t, s["head"]) for t in ("Дата", "Основание", "Начислено", "Оплачено")],
                    [p("", s["cell"]), p("Сальдо начальное", s["head"]), p(money(pen["opening"]), s["num"]),
                     p("", s["num"])]]
        for r in pen["rows"]:
            pen_rows.append([p(f"{r['on']:%d.%m.%Y}", s["cell"]), p(r["text"], s["cell"]), p(money(r["debit"]), s["num"]),
                             p("", s["num"])])
        pen_rows.append([p("", s["cell"]), p("Обороты за период", s["head"]), p(money(pen["accrued"]), s["num"]),
                         p(money(pen["paid"]), s["num"])])
        pen_rows.append([p("", s["cell"]), p("Сальдо конечное", s["head"]), p(money(pen["closing"]), s["num"]),
                         p("", s["num"])])
        t = Table(pen_rows, colWidths=[20 * mm, 120 * mm, 30 * mm, 30 * mm])
        t.setStyle(table_style(1))
        story.append(t)
    story += [Spacer(1, 8 * mm)]
    signs = Table([[p(f"От {supplier}", s["text"]), p(f"От {party}", s["text"])],
                   [p("____________________ / ____________________", s["text"]),
                    p("____________________ / ____________________", s["text"])],
                   [p("М. П.", s["small"]), p("М. П.", s["small"])]], colWidths=[138 * mm, 138 * mm])
    story.append(signs)
    return render(story, pagesize=landscape(A4), title="Акт сверки взаимных расчётов")
