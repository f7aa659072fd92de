"""The reports' routes over the hand-made set (conftest.py): JSON, files (CSV with BOM, PDF, XML valid against its
schema), pages; bad input is a 4xx with a Russian message; a role without "legal" 'report' is refused."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from lxml import etree

from aquabill.channels.fns_upd.akt_sverki import validate_akt
from aquabill.legal_entities.reports import export_1c
from tests.conftest import ADMIN_PASSWORD
from tests.integration.billing_core.api_helpers import as_role
from tests.integration.legal_entities.reports.test_akt_sverki_xml import _set_up_our_side

Q1 = "from=2026-01-01&to=2026-03-31"


@pytest.fixture
async def pages(legal_client, tenant):
    legal_client.cookies.clear()
    r = await legal_client.post("/login", data={"tenant": tenant.tenant.slug, "login": "admin",
                                                "password": ADMIN_PASSWORD, "next": "/"}, follow_redirects=False)
    assert r.status_code == 302, r.text
    yield legal_client
    legal_client.cookies.clear()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_ledger_api_and_files(ledger_set, api):
    r = await api.get(f"/api/legal/reports/sales-ledger?{Q1}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [row["code"] for row in body["rows"]] == ["01", "02", "18"]
    assert Decimal(str(body["totals"]["total"])) == Decimal("22814.00")
    r = await api.get("/api/legal/reports/sales-ledger?quarter=2026-Q1")
    assert r.status_code == 200 and len(r.json()["rows"]) == 3
    r = await api.get(f"/legal/reports/sales-ledger.csv?{Q1}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff1 — №") and "Всего" in text and "22814,00" in text
    r = await api.get(f"/legal/reports/sales-ledger.pdf?{Q1}")
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["content-type"] == "application/pdf"


async def test_reconciliation_api_pdf_and_xml(ledger_set, api, tx):
    a = ledger_set["a"]
    r = await api.get(f"/api/legal/contracts/{a}/reconciliation?{Q1}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (Decimal(str(body["opening"])), Decimal(str(body["closing"]))) == (Decimal("700.00"), Decimal("-11012.00"))
    r = await api.get(f"/legal/contracts/{a}/reconciliation.pdf?{Q1}")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = await api.get(f"/legal/contracts/{a}/reconciliation.xml?{Q1}")
    assert r.status_code == 422 and "реквизиты организации" in r.json()["error"]["message"]  # our OGRN/signer not set yet
    async with tx() as conn:
        await _set_up_our_side(conn)
    r = await api.get(f"/legal/contracts/{a}/reconciliation.xml?{Q1}&number=АС-7")
    assert r.status_code == 200, r.text
    name = re.search(r'filename="([^"]+)"', r.headers["content-disposition"])[1]
    assert validate_akt(r.content, name) == []
    assert etree.fromstring(r.content).find("Документ").get("НомерАкт") == "АС-7"


async def test_export_files(ledger_set, api):
    r = await api.get(f"/legal/reports/export.xml?{Q1}")
    assert r.status_code == 200, r.text
    export_1c.ensure_valid(r.content)
    assert len(etree.fromstring(r.content).findall(f"{{{export_1c.NS}}}Документы/{{{export_1c.NS}}}Документ")) == 6
    r = await api.get(f"/legal/reports/export.csv?{Q1}")
    assert r.status_code == 200 and r.content.startswith("\ufeffЗапись;".encode())


@pytest.mark.parametrize("url", [
    "/api/legal/reports/sales-ledger?from=2026-13-01&to=2026-03-31",
    "/api/legal/reports/sales-ledger?from=2026-03-31&to=2026-01-01",
    "/api/legal/reports/sales-ledger?from=2020-01-01&to=2026-03-31",
    "/api/legal/reports/sales-ledger?from=2026-01-01",
    "/api/legal/reports/sales-ledger?quarter=2026-Q5",
    "/api/legal/reports/sales-ledger?month=2026-13",
    "/legal/reports/sales-ledger.csv?from=x&to=y",
    "/legal/reports/export.xml?from=2026-01-01&to=2025-01-01",
    "/api/legal/contracts/1/reconciliation?from=2026-03-01&to=2026-01-01",
    "/api/legal/contracts/1/reconciliation?from=abc&to=2026-01-01",
    "/api/legal/reports/sales-ledger?quarter=0000-Q1",
    "/legal/reports/export.csv?month=0000-00",
    "/legal/contracts/1/reconciliation.xml?from=0001-01-01&to=0001-01-02",
    "/legal/contracts/1/reconciliation.pdf?from=2026-01-01&to=9999-12-31",
])
async def test_bad_input_is_422(ledger_set, api, url):
    r = await api.get(url)
    assert r.status_code == 422, r.text
    assert re.search("[а-яА-Я]", r.json()["error"]["message"])


@pytest.mark.parametrize("url", [
    "/api/legal/contracts/2147483647/reconciliation?from=2026-01-01&to=2026-03-31",
    "/legal/contracts/2147483647/reconciliation.pdf",
    "/legal/contracts/2147483647/reconciliation",
])
async def test_unknown_contract_is_404(ledger_set, api, pages, url):
    r = await pages.get(url)
    assert r.status_code == 404


async def test_out_of_range_ids_are_refused(ledger_set, api):
    for url in ("/api/legal/contracts/2147483648/reconciliation", "/api/legal/contracts/-1/reconciliation"):
        r = await api.get(url)
        assert 400 <= r.status_code < 500, (url, r.status_code)


async def test_pages(ledger_set, pages):
    r = await pages.get("/legal/reports")
    assert r.status_code == 200 and "Книга продаж" in r.text and "Выгрузка в 1С" in r.text
    r = await pages.get(f"/legal/reports/sales-ledger?{Q1}")
    assert r.status_code == 200, r.text
    page = _text(r.text)
    assert "Д-0001 от 31.01.2026" in page and "22 814,00" in page
    assert "на уменьшение: 1" in page
    r = await pages.get("/legal/reports/sales-ledger?from=2026-03-31&to=2026-01-01")
    assert r.status_code == 422 and "Конец периода раньше его начала" in r.text
    r = await pages.get(f"/legal/contracts/{ledger_set['a']}/reconciliation?{Q1}")
    assert r.status_code == 200
    page = _text(r.text)
    assert "Оплата (п/п № 150 от 20.02.2026)" in page and "11 012,00" in page
    assert "Задолженность в пользу ООО «Ромашка»: 11 012,00 руб." in page
    r = await pages.get(f"/legal/reports/export?{Q1}")
    assert r.status_code == 200 and "Скачать XML" in r.text


async def test_report_permission(ledger_set, legal_client, tenant):
    """«viewer» (every resource's 'view') may not see the reports; «operator» has "legal" 'report' (t0033)."""
    viewer = await as_role(legal_client, tenant, "viewer")
    for url in (f"/api/legal/reports/sales-ledger?{Q1}", f"/legal/reports/export.csv?{Q1}",
                f"/api/legal/contracts/{ledger_set['a']}/reconciliation?{Q1}"):
        assert (await viewer.get(url)).status_code == 403, url
    operator = await as_role(legal_client, tenant, "operator")
    assert (await operator.get(f"/api/legal/reports/sales-ledger?{Q1}")).status_code == 200
