"""The receipt PDF read back by a person's tools: the same bytes for the same receipts (here and in another
process), Russian text, the payment QR (UTF-8 and windows-1251) and the Code 128 barcode decoded from the
rasterised page and parsed back to the receipt's figures."""

import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from aquabill.base.errors import Invalid
from aquabill.billing_core.payments.qr import QrEncoding, parse_payment_string
from aquabill.channels.print import ReceiptLayout, receipt_barcode, render_receipt, render_receipts
from aquabill.channels.print.texts import money
from tests.unit.print.samples import ADDRESS, LAYOUT, PAYEE, receipt
from tests.unit.print.scan import codes, pages, raster, text

ROOT = Path(__file__).resolve().parents[3]


def test_same_receipts_same_bytes():
    one = render_receipts([receipt(), receipt("00100124")], LAYOUT)
    assert one == render_receipts([receipt(), receipt("00100124")], LAYOUT)
    other = render_receipts([receipt(), receipt("00100124", extra_kopecks=1)], LAYOUT)
    assert other != one
    ident = [line for line in one.splitlines() if line.startswith(b"[")]
    assert ident and ident != [line for line in other.splitlines() if line.startswith(b"[")]  # the file ID
    assert b"/CreationDate (D:20260601000000+03'00')" in one  # the month after the period: when it is issued
    script = ("import sys; from tests.unit.print.samples import LAYOUT, receipt; "
              "from aquabill.channels.print import render_receipts; "
              "sys.stdout.buffer.write(render_receipts([receipt(), receipt('00100124')], LAYOUT))")
    for seed in ("1", "2"):  # another process, another hash seed: the same bytes
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        assert out == one


def test_russian_text_and_the_wrapped_address(tmp_path):
    pdf = render_receipt(receipt(), LAYOUT)
    words = " ".join(text(pdf, tmp_path).split())
    for shown in ("ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ", "за май 2026 г.", "Итого к оплате", "665,44 ₽", "00100123",
                  "Константинопольская Анастасия Владимировна", "Холодное водоснабжение", "Пени (ст. 155 ЖК РФ)",
                  "Оплатите до 15.06.2026 включительно", "Показания счётчиков передавайте", "Аварийная служба",
                  "КВИТАНЦИЯ", PAYEE.personal_acc):
        assert shown in words, shown
    address = text(pdf, tmp_path, box=(30.0, 46.5, 74.0, 12.5))  # the payer's address, over three lines
    assert len(address.strip().splitlines()) == 3
    assert " ".join(address.split()) == ADDRESS


@pytest.mark.parametrize("encoding", [QrEncoding.UTF8, QrEncoding.CP1251])
def test_the_qr_scans_back_to_the_receipt(tmp_path, encoding):
    r = receipt(encoding=encoding)
    png = raster(render_receipt(r, LAYOUT), tmp_path, dpi=150)
    [payload] = codes(png, "qrcode")
    assert payload == r.qr.encode(encoding.codec)  # the bytes in the encoding the header names
    qr = parse_payment_string(payload)
    assert qr.encoding is encoding
    assert (qr.get("Sum"), qr.pers_acc, qr.personal_acc, qr.bic, qr.get("CorrespAcc"), qr.get("PayeeINN"),
            qr.get("KPP"), qr.name, qr.period) == (
        str(int(r.due * 100)), "00100123", PAYEE.personal_acc, PAYEE.bic, PAYEE.corresp_acc, PAYEE.inn, PAYEE.kpp,
        PAYEE.name, r.period)
    assert qr.get("PayerAddress") == ADDRESS


def test_the_barcode_scans_to_account_month_and_sum(tmp_path):
    r = receipt("00100123", extra_kopecks=7)
    png = raster(render_receipt(r, LAYOUT), tmp_path, dpi=200)
    expected = receipt_barcode("00100123", 5, 2026, r.due)
    assert codes(png, "code128") == [expected.encode()]
    assert expected == "000000100123" "0526" + f"{int(r.due * 100):010d}"


def test_many_receipts_a_page_each(tmp_path):
    receipts = [receipt(f"0010{n:04d}", extra_kopecks=n) for n in range(5)]
    pdf = render_receipts(receipts, LAYOUT)
    assert pages(pdf, tmp_path) == 5
    for n, r in enumerate(receipts, start=1):
        page = " ".join(text(pdf, tmp_path, page=n).split())
        assert f"{r.account['number']} " in page and f"{money(r.due)} ₽" in page


def test_without_requisites_the_page_says_why(tmp_path):
    r = receipt(payee=False)
    words = " ".join(text(render_receipt(r, LAYOUT), tmp_path).split())
    assert "QR-код не сформирован: Не заданы реквизиты получателя платежа" in words
    assert "Итого к оплате" in words


def test_logo_and_odd_account_numbers(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGBA", (200, 100), (20, 90, 180, 255)).save(buffer, "PNG")
    layout = dataclasses.replace(LAYOUT, logo_png=buffer.getvalue())
    pdf = render_receipt(receipt("АБ-123/45"), layout)
    assert b"/Subtype /Image" in pdf
    words = " ".join(text(pdf, tmp_path).split())
    assert "АБ-123/45" in words and "не кодируется штрихкодом" in words


def test_a_broken_logo_is_a_clear_refusal():
    layout = dataclasses.replace(LAYOUT, logo_png=b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(Invalid, match="Логотип квитанции не читается"):
        render_receipt(receipt(), layout)


def test_nothing_to_print():
    with pytest.raises(Invalid, match="Нет квитанций"):
        render_receipts([], ReceiptLayout())
