"""The export for print houses: the CSV (UTF-8 with BOM, `;`, the documented columns, a row per page in print
order, amounts with a decimal comma, the QR string and the barcode digits of the receipt) and the XML, valid
against receipts_export.xsd (lxml), with the same figures."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from lxml import etree
from sqlalchemy import text

import aquabill.platform.printing as printing
from aquabill.channels.print import receipt_barcode
from aquabill.platform.jobs.receipts_print import receipts_print
from aquabill.platform.printing.export import COLUMNS, XMLNS, csv_header
from aquabill.platform.printing.files import batch_dir
from tests.integration.printing.conftest import OPEN

XSD = Path(printing.__file__).parent / "receipts_export.xsd"


async def test_csv_and_xml_of_a_printing(town, tx, job_ctx):
    params = {"period": str(OPEN), "filter": {"delivery": "paper"}, "bundle": "house"}
    ctx = await job_ctx(params)
    result = await receipts_print(ctx, params)
    folder = batch_dir(ctx.core.settings.var_dir, town.tenant.slug, ctx.job_id)
    async with tx() as conn:
        issued = (await conn.execute(text(
            "SELECT r.printed_bundle, r.printed_page, r.snapshot, r.issue_no FROM receipt_issues r "
            "WHERE r.printed_batch = :b ORDER BY 1, 2"), {"b": ctx.job_id})).all()
    assert len(issued) == result["receipts"] > 0

    raw = (folder / f"receipts-{OPEN}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    head, body = rows[0], rows[1:]
    services = max(len(r.snapshot["lines"]) for r in issued)
    assert head == csv_header(services) and head[:22] == [c for c, _ in COLUMNS[:22]]
    assert len(body) == len(issued)
    for row, r in zip(body, issued, strict=True):
        s, got = r.snapshot, dict(zip(head, row, strict=True))
        assert (int(got["bundle"]), int(got["page"])) == (r.printed_bundle, r.printed_page)
        assert got["account"] == s["account"]["number"] and got["holder"] == s["account"]["holder"]
        assert got["address"] == s["account"]["address"] and got["period"] == str(OPEN)
        assert Decimal(got["to_pay"].replace(",", ".")) == Decimal(s["due"]) and got["issue"] == str(r.issue_no)
        assert got["qr"] == (s["qr"] or "") and got["qr"].startswith("ST00012|")
        assert got["barcode"] == (receipt_barcode(s["account"]["number"], OPEN.month, OPEN.year,
                                                  Decimal(s["due"])) or "")
        assert got["due_date"] == "{2}.{1}.{0}".format(*s["pay_by"].split("-"))
        for k, line in enumerate(s["lines"], start=1):
            assert got[f"service_{k}"] == line["service"]
            assert Decimal(got[f"service_{k}_charged"].replace(",", ".")) == Decimal(line["charged"])

    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.parse(str(folder / f"receipts-{OPEN}.xml"))
    schema.assertValid(doc)
    ns = {"r": XMLNS}
    receipts = doc.findall("r:receipt", ns)
    assert doc.getroot().get("count") == str(len(issued)) == str(len(receipts))
    for el, r in zip(receipts, issued, strict=True):
        s = r.snapshot
        assert el.findtext("r:account", namespaces=ns) == s["account"]["number"]
        assert Decimal(el.findtext("r:toPay", namespaces=ns)) == Decimal(s["due"])
        assert el.findtext("r:qr", namespaces=ns) == s["qr"]
        assert len(el.findall("r:services/r:service", ns)) == len(s["lines"])
        assert el.find("r:payee", ns).get("inn") == s["payee"]["inn"]


def test_a_broken_export_fails_the_schema():
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    bad = etree.fromstring(f'<receipts xmlns="{XMLNS}" batch="x" period="2026-13" count="0"/>'.encode())
    assert not schema.validate(bad)
