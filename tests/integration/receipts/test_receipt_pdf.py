"""Receipts of the database printed as PDF (`channels.print`): the figures of `build_receipt` on the page, the
payment QR and the cash-desk barcode decoded from the rasterised page (pdftoppm + zbarimg) and parsed back to
the receipt's fields; the same receipts give the same bytes."""

from sqlalchemy import text as sql

from aquabill.billing_core.payments.qr import parse_payment_string
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import build_receipt, save_requisites
from aquabill.channels.print import ReceiptLayout, receipt_barcode, render_receipts
from aquabill.channels.print.texts import money
from tests.integration.receipts.test_receipts import REQUISITES, _history
from tests.unit.print.scan import codes, pages, raster, text

MARCH = Period(2019, 3)


async def test_receipts_print_and_scan_back(penalty_tenant, tx, tmp_path):
    await _history(tx)  # account 1: debts of December 2018, March's charge, a payment, penalties
    number = "00000101"  # a number of digits, as a utility's are: the barcode carries it
    async with tx() as conn:
        await conn.execute(sql("UPDATE accounts SET number = :n WHERE id = 1"), {"n": number})
        await save_requisites(conn, REQUISITES)
        receipts = [await build_receipt(conn, account, MARCH) for account in (1, 2)]
    first, second = receipts
    assert first.due > 0 and first.penalty["closing"] == 40 and first.qr and second.qr
    layout = ReceiptLayout(tenant_name="МУП «Водоканал»", notes="Показания передавайте до 25 числа.")
    pdf = render_receipts(receipts, layout)
    assert pdf == render_receipts(receipts, layout)  # the same receipts, the same bytes
    assert pages(pdf, tmp_path) == 2

    words = " ".join(text(pdf, tmp_path, page=1).split())
    for shown in ("Итого к оплате", f"{money(first.due)} ₽", "за март 2019 г.", "Пени (ст. 155 ЖК РФ)", number,
                  first.pay_by_text, "Показания передавайте до 25 числа."):
        assert shown in words, shown
    address = text(pdf, tmp_path, page=1, box=(30.0, 46.5, 74.0, 12.5))
    assert " ".join(address.split()) == " ".join(first.account["address"].split())

    png = raster(pdf, tmp_path, page=1, dpi=150)
    [payload] = codes(png, "qrcode")
    assert payload == first.qr.encode("utf-8")  # ST00012: UTF-8
    qr = parse_payment_string(payload)
    assert (qr.get("Sum"), qr.pers_acc, qr.personal_acc, qr.bic, qr.get("CorrespAcc"), qr.get("PayeeINN"),
            qr.get("KPP"), qr.name, qr.period) == (
        str(int(first.due * 100)), number, REQUISITES["personal_acc"], REQUISITES["bic"], REQUISITES["corresp_acc"],
        REQUISITES["inn"], REQUISITES["kpp"], REQUISITES["name"], MARCH)
    assert codes(raster(pdf, tmp_path, page=1, dpi=200), "code128") == [
        receipt_barcode(number, 3, 2019, first.due).encode()]

    page2 = raster(pdf, tmp_path, page=2, dpi=150)
    [payload] = codes(page2, "qrcode")
    qr = parse_payment_string(payload)
    assert (qr.pers_acc, qr.amount) == (second.account["number"], second.due)
    assert f"{money(second.due)} ₽" in " ".join(text(pdf, tmp_path, page=2).split())
