"""The printed UPD (and the act, the advance invoice and the correction document) of a document to a legal
entity: the form recommended by the FNS letter ММВ-20-3/96@ of 21.10.2013 (appendix 1: the invoice form of
Government Decree 1137 of 26.12.2011 with the shipment document's requisites added on the left and below),
A4 landscape, the table with columns 1–11.

- Status 1: invoice and shipment document (function СЧФДОП, and an advance invoice — an invoice only — is
  printed as an invoice without the shipment part); status 2: the shipment document only (the act, ДОП).
- The figures are the issued document's (its lines and totals, as stored); nothing is recomputed here.
- Same document → same bytes (`legal_pdf_common.Sheet`: invariant mode).
The input is plain data (`aquabill.legal_entities.issue.queries.print_data`).
"""

from __future__ import annotations

from typing import Any

from aquabill.channels.print.legal_pdf_common import Sheet, day, money, number

TITLES = {"upd": "Универсальный передаточный документ", "act": "Универсальный передаточный документ",
          "advance_invoice": "Счёт-фактура", "ukd": "Универсальный корректировочный документ"}
DASH = "—"


def _status(kind: str) -> str:
    return "2" if kind == "act" else "1"


def render_upd(data: dict[str, Any]) -> bytes:
    doc, seller, buyer = data["document"], data["seller"], data["buyer"]
    kind = doc["kind"]
    sheet = Sheet(landscape_page=True, title=f"{TITLES.get(kind, 'Документ')} № {doc['number']}")
    left, width = 10.0, sheet.width - 20.0
    y = 12.0
    below = sheet.para(left, y, TITLES.get(kind, "Документ"), 38, size=9, face="bold")
    if kind != "advance_invoice":
        sheet.rect(left, below, 36, 9)
        sheet.text(left + 2, below + 6, f"Статус: {_status(kind)}", size=9, face="bold")
        sheet.para(left + 2, below + 13, "1 — счёт-фактура и передаточный документ (акт); 2 — передаточный "
                   "документ (акт)", 34, size=6)
    x = left + 42
    head = "Корректировочный счёт-фактура" if kind == "ukd" else (
        "Счёт-фактура" if kind != "act" else "Передаточный документ (акт)")
    sheet.text(x, y, f"{head} № {doc['number']} от {day(doc['issued_on'])}", size=10, face="bold")
    sheet.text(x + 175, y, "(1)", size=7)
    rows = [("Исправление №", f"{DASH} от {DASH}", "(1а)")]
    if kind == "ukd" and doc.get("corrects"):
        c = doc["corrects"]
        rows.insert(0, ("К счёту-фактуре", f"№ {c['number']} от {day(c['issued_on'])}", "(1б)"))
    rows += [("Продавец", seller["name"], "(2)"), ("Адрес", seller["address"], "(2а)"),
             ("ИНН/КПП продавца", "/".join(p for p in (seller["inn"], seller["kpp"]) if p), "(2б)"),
             ("Грузоотправитель и его адрес", DASH, "(3)"), ("Грузополучатель и его адрес", DASH, "(4)"),
             ("К платёжно-расчётному документу", data.get("payment_ref") or f"№ {DASH} от {DASH}", "(5)"),
             ("Документ об отгрузке", f"№ п/п 1–{len(doc['lines'])} № {doc['number']} от {day(doc['issued_on'])}"
              if kind in ("upd", "act") else DASH, "(5а)"),
             ("Покупатель", buyer["name"], "(6)"), ("Адрес", buyer["address"], "(6а)"),
             ("ИНН/КПП покупателя", "/".join(p for p in (buyer["inn"], buyer["kpp"]) if p), "(6б)"),
             ("Валюта: наименование, код", "Российский рубль, 643", "(7)"),
             ("Идентификатор государственного контракта, договора (соглашения) (при наличии)", DASH, "(8)")]
    y += 5
    for label, value, ref in rows:
        sheet.text(x, y, label, size=7)
        end = sheet.para(x + 62, y, value, 110, size=7)
        sheet.line(x + 61, y + 1, x + 173, y + 1, 0.1)
        sheet.text(x + 175, y, ref, size=7)
        y = max(y + 3.6, end)
    y += 2
    widths = [8, 58, 12, 10, 12, 17, 22, 26, 14, 14, 22, 26, 12, 14, 10]
    scale = width / sum(widths)
    widths = [w * scale for w in widths]
    header = [["№ п/п", "Наименование товара (описание выполненных работ, оказанных услуг), имущественного права",
               "Код вида товара", "Ед. изм.: код", "условное обозначение (национальное)", "Количество (объём)",
               "Цена (тариф) за единицу измерения", "Стоимость товаров (работ, услуг), имущественных прав без "
               "налога — всего", "В том числе сумма акциза", "Налоговая ставка", "Сумма налога, предъявляемая "
               "покупателю", "Стоимость товаров (работ, услуг), имущественных прав с налогом — всего",
               "Страна происхождения: код", "краткое наименование", "Рег. номер декларации"],
              ["А", "1", "1а", "2", "2а", "3", "4", "5", "6", "7", "8", "9", "10", "10а", "11"]]
    body = []
    for ln in doc["lines"]:
        body.append([str(ln["line_no"]), ln["name"], DASH, ln.get("unit_code") or DASH, ln.get("unit_name") or DASH,
                     number(ln.get("quantity")), number(ln.get("price")),
                     money(ln["amount_net"]) if kind != "advance_invoice" else DASH, "без акциза", ln["vat_rate"],
                     money(ln["vat"]) if ln["vat_rate"] != "без НДС" else "без НДС", money(ln["amount"]), DASH, DASH,
                     DASH])
    exempt = all(ln["vat_rate"] == "без НДС" for ln in doc["lines"])
    body.append(["", "Всего к оплате", "", "", "", "", "",
                 money(doc["amount_net"]) if kind != "advance_invoice" else DASH, "X", "",
                 "без НДС" if exempt else money(doc["vat"]), money(doc["amount"]), "", "", ""])
    y = sheet.table(left, y, widths, header + body, size=6, header_rows=2,
                    aligns=["c", "l", "c", "c", "c", "r", "r", "r", "c", "c", "r", "r", "c", "c", "c"])
    y += 6
    signer = data["signer"]
    for label in ("Руководитель организации или иное уполномоченное лицо",
                  "Главный бухгалтер или иное уполномоченное лицо"):
        sheet.text(left, y, label, size=7)
        sheet.line(left + 80, y + 1, left + 120, y + 1, 0.1)
        sheet.text(left + 125, y, signer["short"], size=7)
        sheet.line(left + 124, y + 1, left + 175, y + 1, 0.1)
        y += 5
    if kind in ("upd", "act"):
        y += 2
        basis = f"Договор № {doc['contract_number']} от {day(doc['contract_signed_on'])}"
        for label, value in (("Основание передачи (сдачи) / получения (приёмки)", basis),
                             ("Данные о транспортировке и грузе", DASH),
                             ("Товар (груз) передал / услуги, результаты работ, права сдал",
                              f"{signer['position']}  ____________  {signer['short']}"),
                             ("Дата отгрузки, передачи (сдачи)", day(data.get("shipped_on") or doc["issued_on"])),
                             ("Товар (груз) получил / услуги, результаты работ, права принял",
                              "____________  ____________  ____________"),
                             ("Дата получения (приёмки)", "«____» ____________ 20___ г."),
                             ("Наименование экономического субъекта — составителя документа",
                              f"{seller['name']}, ИНН/КПП {seller['inn']}/{seller['kpp']}"),
                             ("Наименование экономического субъекта — составителя документа (покупатель)",
                              f"{buyer['name']}, ИНН/КПП {buyer['inn']}/{buyer['kpp']}")):
            sheet.text(left, y, label, size=7)
            y = max(y + 4, sheet.para(left + 110, y, value, width - 110, size=7))
    if doc.get("status") == "cancelled":
        sheet.text(sheet.width / 2, 8, f"АННУЛИРОВАН: {doc.get('cancel_reason', '')}", size=9, face="bold",
                   align="center")
    return sheet.finish()
