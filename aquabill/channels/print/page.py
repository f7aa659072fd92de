"""What an A4 receipt page shows and where, in the order of the sample payment document of the Ministry of
Construction (Приказ Минстроя России от 26.01.2018 № 43/пр, примерная форма платёжного документа):
1 — payer and provider, 2 — information for paying the payee (requisites, sum to pay, QR, barcode),
3 — the calculation by service, 4 — reference information (due date, penalties, the tenant's notes).

`static_part` draws what every page of one payee and layout shares (drawn once per document into a form);
`receipt_part` draws one receipt's figures. Millimetres from the top-left corner (see ink.py).
"""

from __future__ import annotations

from decimal import Decimal

from aquabill.billing_core.receipts import PayeeRequisites, Receipt
from aquabill.channels.print import code128
from aquabill.channels.print.ink import Ink
from aquabill.channels.print.layout import ReceiptLayout
from aquabill.channels.print.qr import QrTooLong, payment_qr
from aquabill.channels.print.texts import money, month, tariff, volume

L, R, W = 10.0, 200.0, 190.0
LOGO_BOX = (L, 8.0, 30.0, 15.0)  # x, y, width, height
# the calculation table: (title lines, width)
COLUMNS = ((("Вид услуги",), 46.0), (("Объём,", "м³"), 16.0), (("Тариф,", "₽/м³"), 18.0),
           (("Долг на", "начало, ₽"), 22.0), (("Начислено,", "₽"), 22.0), (("Перерасчёт,", "₽"), 22.0),
           (("Оплачено,", "₽"), 22.0), (("Итого", "к оплате, ₽"), 22.0))
EDGES = [L]
for _, _w in COLUMNS:
    EDGES.append(EDGES[-1] + _w)
TABLE_TOP, TABLE_HEAD, TABLE_BOTTOM = 129.0, 9.0, 205.0
ROW, ROW_MIN = 5.5, 4.2
QR_BOX = (161.0, 70.5, 38.0)  # x, y, side
STUB_TOP, STUB_LEFT, NOTES_BOTTOM = 249.0, 50.0, 243.0  # the tear-off slip for the cash desk
BAR_MODULE, BAR_HEIGHT = 0.3, 11.0
BAR_RIGHT, BAR_Y = 198.0, 263.0
PENALTY_NOTE = ("Пени начисляются за просрочку оплаты начиная с 31-го дня после срока оплаты "
                "(ч. 14 ст. 155 Жилищного кодекса РФ).")
GREY = 0.88


def _bar(ink: Ink, y: float, title: str) -> None:
    ink.rect(L, y, W, 5.0, fill=GREY, stroke=None)
    ink.text(L + 1.5, y + 3.6, title, "bold", 2.8)


def static_part(ink: Ink, layout: ReceiptLayout, payee: PayeeRequisites | None) -> None:
    """Header, the labels, the provider's and the payee's blocks, the table head."""
    name_x = L + 33.0 if layout.logo_png else L
    name = layout.tenant_name or (payee.name if payee else "")
    size = 4.0 if len(ink.wrap(name, "bold", 4.0, 128 - name_x)) <= 2 else 3.3  # a long name: smaller
    y = ink.lines(name_x, 12.5, ink.wrap(name, "bold", size, 128 - name_x, 2), "bold", size, size + 0.6)
    ink.lines(name_x, y - 0.6, ink.wrap(layout.header_text, "regular", 2.5, 128 - name_x, 2), "regular", 2.5, 3.1)
    ink.text(R, 12.5, "ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ", "bold", 3.9, "right")
    ink.text(R, 16.6, "для внесения платы за коммунальные услуги", "regular", 2.5, "right")
    ink.line(L, 26.5, R, 26.5, 0.5)

    _bar(ink, 29.0, "1. Сведения о плательщике и исполнителе услуг")
    for y, label in ((39.5, "Лицевой счёт"), (45.0, "Плательщик"), (50.5, "Адрес"), (61.5, "Площадь")):
        ink.text(L + 1, y, label, "regular", 2.5)
    ink.line(105.0, 35.5, 105.0, 63.0, 0.2)
    ink.text(107.0, 39.5, "Исполнитель услуг", "regular", 2.5)
    y = 43.8
    if payee:
        y = ink.lines(107.0, y, ink.wrap(payee.name, "bold", 2.9, 92, 2), "bold", 2.9, 3.4)
        y = ink.lines(107.0, y, ink.wrap(payee.address, "regular", 2.6, 92, 2), "regular", 2.6, 3.2)
        reach = ", ".join(x for x in (f"тел. {payee.phone}" if payee.phone else "",
                                      f"e-mail: {payee.email}" if payee.email else "") if x)
        y = ink.lines(107.0, y, ink.wrap(reach, "regular", 2.6, 92, 1), "regular", 2.6, 3.2)
    room = max(0, int((63.5 - y) / 3.2) + 1)
    ink.lines(107.0, y, [ink.wrap(c, "regular", 2.6, 92, 1)[0] for c in layout.contacts][:room],
              "regular", 2.6, 3.2)

    _bar(ink, 65.0, "2. Информация для внесения платы получателю платежа")
    ink.text(L + 1, 74.5, "Получатель платежа", "regular", 2.5)
    if payee:
        y = ink.lines(L + 1, 78.6, ink.wrap(payee.name, "bold", 2.9, 146, 2), "bold", 2.9, 3.5)
        codes = "   ".join(x for x in (f"ИНН {payee.inn}" if payee.inn else "",
                                       f"КПП {payee.kpp}" if payee.kpp else "") if x)
        rows = [codes, f"Расчётный счёт {payee.personal_acc}",
                *ink.wrap(f"Банк: {payee.bank_name}", "regular", 2.7, 146, 2),
                f"БИК {payee.bic}" + (f"   Корр. счёт {payee.corresp_acc}" if payee.corresp_acc != "0" else "")]
        ink.lines(L + 1, y, [r for r in rows if r], "regular", 2.7, 3.5)
    ink.rect(L, 99.0, 146.0, 21.0, stroke=0.4)
    ink.line(100.0, 101.5, 100.0, 117.5, 0.15)
    ink.text(102.0, 104.0, "Лицевой счёт", "regular", 2.5)
    ink.text(102.0, 112.0, "Расчётный период", "regular", 2.5)
    ink.text(QR_BOX[0] + QR_BOX[2] / 2, 112.5, "QR-код для оплаты", "regular", 2.4, "center")
    ink.text(QR_BOX[0] + QR_BOX[2] / 2, 115.6, "в приложении банка", "regular", 2.4, "center")
    _stub(ink, payee)
    ink.lines(105.0, STUB_TOP + 43.5, ink.wrap(layout.footer_text, "regular", 2.3, W, 2), "regular", 2.3, 2.8,
              "center")

    _bar(ink, 123.0, "3. Расчёт размера платы за коммунальные услуги")
    ink.rect(L, TABLE_TOP, W, TABLE_HEAD, fill=0.95, stroke=None)
    for (titles, _w), left, right in zip(COLUMNS, EDGES[:-1], EDGES[1:], strict=True):
        top = TABLE_TOP + (3.6 if len(titles) == 2 else 5.6)
        ink.lines((left + right) / 2, top, list(titles), "narrow_bold", 2.5, 3.0, "center")


def _stub(ink: Ink, payee: PayeeRequisites | None) -> None:
    """The tear-off slip: the cash desk keeps it (the payee's requisites, the payer, the sum, the barcode)."""
    ink.line(L, STUB_TOP - 3.0, R, STUB_TOP - 3.0, 0.2, dash="1.2 0.8")
    ink.rect(92.0, STUB_TOP - 4.6, 26.0, 3.2, fill=1.0, stroke=None)
    ink.text(105.0, STUB_TOP - 2.2, "линия отреза", "regular", 2.2, "center")
    ink.rect(L, STUB_TOP, W, 40.0, stroke=0.3)
    ink.line(STUB_LEFT - 2.0, STUB_TOP, STUB_LEFT - 2.0, STUB_TOP + 40.0, 0.2)
    ink.text((L + STUB_LEFT - 2.0) / 2, STUB_TOP + 7.0, "КВИТАНЦИЯ", "bold", 3.4, "center")
    ink.lines((L + STUB_LEFT - 2.0) / 2, STUB_TOP + 11.0, ["для оплаты", "в кассе"], "regular", 2.4, 3.0, "center")
    ink.text((L + STUB_LEFT - 2.0) / 2, STUB_TOP + 36.5, "Кассир", "regular", 2.4, "center")
    if payee:
        codes = ", ".join(x for x in (f"ИНН {payee.inn}" if payee.inn else "",
                                      f"КПП {payee.kpp}" if payee.kpp else "") if x)
        ink.fitted(STUB_LEFT, STUB_TOP + 5.0, f"Получатель: {payee.name}" + (f", {codes}" if codes else ""),
                "narrow", 2.7, R - STUB_LEFT - 2.0)
        corr = f", к/с {payee.corresp_acc}" if payee.corresp_acc != "0" else ""
        ink.fitted(STUB_LEFT, STUB_TOP + 8.8, f"Р/с {payee.personal_acc} в {payee.bank_name}, БИК {payee.bic}{corr}",
                "narrow", 2.7, R - STUB_LEFT - 2.0)
    for y, label in ((14.5, "Лицевой счёт"), (19.5, "Плательщик"), (24.0, "Адрес"), (30.5, "Сумма к оплате")):
        ink.text(STUB_LEFT, STUB_TOP + y, label, "regular", 2.5)
    ink.text(STUB_LEFT, STUB_TOP + 36.5, "Подпись плательщика ______________    Дата «____» ____________ 20___ г.",
             "regular", 2.5)


def _row(ink: Ink, y: float, h: float, name: str, figures: list[str], face: str) -> None:
    base = y + h / 2 + 1.0
    ink.fitted(L + 1.0, base, name, face, 2.8, EDGES[1] - L - 2.0, 2.0)
    for text, right in zip(figures, EDGES[2:], strict=False):
        if text:
            ink.text(right - 1.2, base, text, face, 2.8, "right")


def _table(ink: Ink, r: Receipt) -> float:
    """The calculation by service, totals, penalties and the sum to pay; returns the table's bottom."""
    lines = list(r.lines)
    total_rows = 3
    room = TABLE_BOTTOM - TABLE_TOP - TABLE_HEAD
    rows = max(1, len(lines)) + total_rows
    h = max(ROW_MIN, min(ROW, room / rows))
    fits = int(room / h) - total_rows
    hidden = 0
    if len(lines) > fits:  # never on a real receipt (a handful of services); the totals still cover all
        hidden = len(lines) - fits + 1
        lines = lines[: fits - 1]
    y = TABLE_TOP + TABLE_HEAD
    for x in lines:
        _row(ink, y, h, x.service, [volume(x.volume), tariff(x.tariff), money(x.opening), money(x.charged),
                                    money(x.recalculated), money(x.paid), money(x.closing)], "narrow")
        y += h
        ink.line(L, y, R, y, 0.1)
    if hidden:
        _row(ink, y, h, f"… и ещё {hidden} (итоги — по всем услугам)", [], "narrow")
        y += h
    if not r.lines:
        _row(ink, y, h, "За этот месяц нет начислений и оплат", [], "narrow")
        y += h
    ink.line(L, y, R, y, 0.3)
    t, p = r.totals, r.penalty
    _row(ink, y, h, "Итого по услугам", ["", "", money(t["opening"]), money(t["charged"]),
                                          money(t["recalculated"]), money(t["paid"]), money(t["closing"])],
         "narrow_bold")
    y += h
    ink.line(L, y, R, y, 0.1)
    _row(ink, y, h, "Пени (ст. 155 ЖК РФ)", ["", "", money(p["opening"]), money(p["charged"]),
                                              money(p["storno"]),  # signed: closing = … + storno − paid
                                              money(p["paid"]), money(p["closing"])], "narrow")
    y += h
    ink.rect(L, y, W, h, fill=0.95, stroke=None)
    ink.line(L, y, R, y, 0.3)
    _row(ink, y, h, "Итого к оплате", ["", "", "", "", "", "", money(r.due)], "narrow_bold")
    y += h
    top = TABLE_TOP + TABLE_HEAD
    for x in EDGES[1:-1]:
        ink.line(x, TABLE_TOP, x, y, 0.15)
    ink.line(L, top, R, top, 0.3)
    ink.rect(L, TABLE_TOP, W, y - TABLE_TOP, stroke=0.3)
    return y


def _qr(ink: Ink, r: Receipt) -> None:
    x, y, side = QR_BOX
    if r.qr is None:
        ink.rect(x, y, side, side, stroke=0.2)
        problem = f"QR-код не сформирован: {r.qr_problem or 'нет данных'}"
        ink.lines(x + 2, y + 5, ink.wrap(problem, "narrow", 2.4, side - 4, 10), "narrow", 2.4, 3.0)
        return
    try:
        symbol = payment_qr(r.qr)
    except QrTooLong as exc:
        ink.rect(x, y, side, side, stroke=0.2)
        ink.lines(x + 2, y + 5, ink.wrap(str(exc), "narrow", 2.4, side - 4, 10), "narrow", 2.4, 3.0)
        return
    unit = side / (symbol.size + 8)  # the quiet zone of 4 modules inside the box
    ink.bitmap(x + 4 * unit, y + 4 * unit, unit * symbol.size, symbol.size, symbol.bits)


def _barcode(ink: Ink, r: Receipt) -> None:
    digits = code128.receipt_barcode(str(r.account["number"]), r.period.month, r.period.year, r.due)
    if digits is None:
        ink.text(BAR_RIGHT - 27.0, BAR_Y + 6.0, "Номер лицевого счёта не кодируется штрихкодом", "narrow", 2.3,
                 "center")
        return
    width = code128.width(digits) * BAR_MODULE
    ink.bars(BAR_RIGHT - width, BAR_Y, BAR_MODULE, BAR_HEIGHT, code128.bars(digits))
    shown = f"{digits[:12]}  {digits[12:16]}  {digits[16:]}"
    ink.text(BAR_RIGHT - width / 2, BAR_Y + BAR_HEIGHT + 3.0, shown, "narrow", 2.5, "center")


def _stub_figures(ink: Ink, r: Receipt, period: str) -> None:
    account, x = r.account, STUB_LEFT + 22.0
    ink.fitted(x, STUB_TOP + 14.5, str(account["number"]), "bold", 3.2, 29.0)
    ink.text(x + 30.0, STUB_TOP + 14.5, period, "regular", 2.8)
    ink.fitted(x, STUB_TOP + 19.5, account.get("holder") or "—", "regular", 2.8, 70.0)
    ink.text(x, STUB_TOP + 24.0, ink.wrap(account.get("address") or "—", "narrow", 2.7, 70.0, 1)[0], "narrow", 2.7)
    ink.text(x, STUB_TOP + 30.5, f"{money(r.due)} ₽", "bold", 4.2)
    _barcode(ink, r)


def receipt_part(ink: Ink, r: Receipt, notes: list[str]) -> None:
    """One receipt's figures on its page; `notes` are the layout's notes, wrapped once per document."""
    period = month(r.period)
    ink.text(R, 22.0, f"за {period}", "bold", 3.5, "right")
    account = r.account
    ink.fitted(L + 23.0, 39.5, str(account["number"]), "bold", 3.6, 70.0)
    ink.fitted(L + 23.0, 45.0, account.get("holder") or "—", "regular", 3.0, 70.0, 2.2)
    address = ink.wrap(account.get("address") or "—", "regular", 2.9, 70.0, 3)
    ink.lines(L + 23.0, 50.5, address, "regular", 2.9, 3.5)
    area = account.get("area_m2")
    ink.text(L + 23.0, 61.5, f"{volume(Decimal(area)).rstrip('0').rstrip(',')} м²" if area is not None else "—",
             "regular", 2.9)
    if r.payee is None:
        ink.lines(L + 1, 78.6, ink.wrap(r.qr_problem or "Реквизиты получателя платежа не заданы", "bold", 2.9,
                                        146, 3), "bold", 2.9, 3.5)

    ink.text(L + 2.5, 104.0, f"Итого к оплате за {period}", "regular", 2.8)
    ink.text(L + 2.5, 113.5, f"{money(r.due)} ₽", "bold", 6.5)
    if r.pay_by:
        ink.text(L + 2.5, 118.0, f"Срок оплаты — до {r.pay_by:%d.%m.%Y} включительно", "regular", 2.5)
    ink.fitted(102.0, 108.3, str(account["number"]), "bold", 3.4, 52.0)
    ink.text(102.0, 116.3, period, "bold", 3.0)
    _qr(ink, r)
    _stub_figures(ink, r, period)

    y = _table(ink, r) + 4.0
    _bar(ink, y, "4. Справочная информация")
    y += 9.0
    y = ink.lines(L + 1, y, ink.wrap(r.pay_by_text, "regular", 2.7, W - 2, 2), "regular", 2.7, 3.4)
    y = ink.lines(L + 1, y, ink.wrap(PENALTY_NOTE, "regular", 2.7, W - 2, 2), "regular", 2.7, 3.4)
    room = max(0, int((NOTES_BOTTOM - y) / 3.4) + 1)
    ink.lines(L + 1, y + 1.0, notes[:room], "regular", 2.7, 3.4)
