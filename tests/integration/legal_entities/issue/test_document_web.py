"""Documents over the web: the API (issue as a job, list with filters, one document, cancel), the XML download
named by @ИдФайл, the PDFs (UPD, act, bill: %PDF, the same bytes twice), the pages (list, card, issue form,
cancel form) and their refusals (4xx, never 5xx)."""

from __future__ import annotations

from datetime import date
from urllib.parse import unquote

import pytest
from lxml import etree

from aquabill.legal_entities.issue.month import issue_month
from tests.conftest import ADMIN_PASSWORD
from tests.integration.billing_core.api_helpers import Api
from tests.integration.legal_entities.issue.conftest import add_charges, make_contract

DEC = date(2026, 12, 1)


@pytest.fixture(scope="module")
async def issued(core, tenant):
    from aquabill.tenants.context import tenant_transaction

    async with tenant_transaction(core.engines, tenant.tenant, 1) as conn:
        vat_k = await make_contract(conn, name="ООО «Веб-Документ»")
        await add_charges(conn, vat_k, DEC, [("cold_water", "10", "45.6700", False), ("sewage", "10", "61.0000", True)])
        act_k = await make_contract(conn, vat_mode="no_vat", name="ИП-подобное ООО «Без НДС»")
        await add_charges(conn, act_k, DEC, [("cold_water", "3.5", "40.0000", False)], vat_mode="no_vat")
        await issue_month(conn, DEC, user_id=1)
    return {"vat": vat_k, "act": act_k}


async def test_the_api_lists_and_shows_documents(api, issued):
    listed = await api.ok("get", f"/api/legal/documents?period=2026-12&q={issued['vat']['inn']}")
    assert sorted(d["kind"] for d in listed["items"]) == ["bill", "upd"]
    upd = next(d for d in listed["items"] if d["kind"] == "upd")
    card = await api.ok("get", f"/api/legal/documents/{upd['id']}")
    # water 10 × 45.67 = 456.70 + 100.47; sewage 610.00 incl. 110.00
    assert (card["amount_net"], card["vat"], card["amount"], len(card["lines"])) == ("956.70", "210.47", "1167.17", 2)
    acts = await api.ok("get", "/api/legal/documents?period=2026-12&kind=act")
    assert [d["counterparty_inn"] for d in acts["items"]] == [issued["act"]["inn"]]


async def test_the_xml_is_served_as_issued_with_its_file_name(api, issued):
    upd = (await api.ok("get", f"/api/legal/documents?kind=upd&q={issued['vat']['inn']}"))["items"][0]
    r = await api.get(f"/legal/documents/{upd['id']}.xml")
    assert r.status_code == 200
    root = etree.fromstring(r.content)
    assert f'filename="{root.get("ИдФайл")}.xml"' in r.headers["content-disposition"]
    assert r.headers["content-type"].startswith("application/xml")
    bill = (await api.ok("get", f"/api/legal/documents?kind=bill&q={issued['vat']['inn']}"))["items"][0]
    assert (await api.get(f"/legal/documents/{bill['id']}.xml")).status_code == 404


@pytest.mark.parametrize("kind", ["upd", "act", "bill"])
async def test_pdfs_render_the_same_bytes_twice(api, issued, kind):
    doc = (await api.ok("get", f"/api/legal/documents?kind={kind}&period=2026-12"))["items"][0]
    first = await api.get(f"/legal/documents/{doc['id']}.pdf")
    second = await api.get(f"/legal/documents/{doc['id']}.pdf")
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF") and len(first.content) > 2000
    assert first.content == second.content


async def test_issue_starts_a_job_and_bad_input_is_refused(api):
    r = await api.post("/api/legal/documents/issue", {"period": "2026-12"})
    assert r.status_code == 202, r.text
    assert (r.json()["job"]["kind"], r.json()["job"]["params"]["period"]) == ("legal.issue", "2026-12-01")
    job = await api.ok("get", f"/api/legal/documents/jobs/{r.json()['job']['id']}")
    assert job["status"] in ("queued", "running", "done")
    for body in ({"period": "2026-13"}, {"period": "декабрь"}, {"period": "2026-12", "issued_on": "31.12.2026"},
                 {"period": "2026-12", "contract_id": 0}, {}):
        r = await api.post("/api/legal/documents/issue", body)
        assert 400 <= r.status_code < 500, (body, r.text)
    for url in ("/api/legal/documents?kind=nope", "/api/legal/documents?status=x", "/api/legal/documents?period=13",
                "/api/legal/documents/0", "/api/legal/documents/2147483648", "/api/legal/documents/999999",
                "/legal/documents/999999.xml", "/legal/documents/999999.pdf",
                "/api/legal/documents/jobs/00000000-0000-0000-0000-000000000000"):
        r = await api.get(url)
        assert 400 <= r.status_code < 500, (url, r.status_code, r.text)


async def test_cancel_over_the_api(api, tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        await add_charges(conn, k, DEC, [("cold_water", "1", "10.0000", False)])
        await issue_month(conn, DEC, contract_id=k["id"])
    bill = (await api.ok("get", f"/api/legal/documents?kind=bill&q={k['inn']}"))["items"][0]
    r = await api.post(f"/api/legal/documents/{bill['id']}/cancel", {"reason": ""})
    assert r.status_code == 422 and r.json()["error"]["message"] == "Укажите причину аннулирования документа"
    done = await api.ok("post", f"/api/legal/documents/{bill['id']}/cancel", {"reason": "Выставлен ошибочно"},
                        status=200)
    assert done["status"] == "cancelled"
    assert (await api.post(f"/api/legal/documents/{bill['id']}/cancel", {"reason": "ещё"})).status_code == 409
    history = await api.ok("get", f"/api/audit/legal_documents/{bill['id']}")
    assert any(item.get("user_id") for item in history["items"]), history


@pytest.fixture
async def pages(legal_client, tenant):
    legal_client.cookies.clear()
    r = await legal_client.post("/login", data={"tenant": tenant.tenant.slug, "login": "admin",
                                                "password": ADMIN_PASSWORD, "next": "/"}, follow_redirects=False)
    assert r.status_code == 302, r.text
    yield legal_client
    legal_client.cookies.clear()


async def test_pages(pages, issued):
    r = await pages.get("/legal/documents?period=2026-12")
    assert r.status_code == 200 and "Выставить за месяц" in r.text and "ООО «Веб-Документ»" in r.text
    for url in ("/legal/documents?period=zzz&kind=x&status=y&offset=0", "/legal/documents?q=%25_"):
        assert (await pages.get(url)).status_code == 200
    api_items = (await Api(pages, {}).ok("get", "/api/legal/documents?kind=upd&period=2026-12"))["items"]
    card = await pages.get(f"/legal/documents/{api_items[0]['id']}")
    assert card.status_code == 200 and "Скачать XML" in card.text and "Аннулировать документ" in card.text
    assert (await pages.get("/legal/documents/999999")).status_code == 404
    for url in ("/legal/documents/abc", "/legal/documents/1.txt", "/legal/documents/99999999999.pdf",
                "/legal/contracts/2147483648/documents"):
        assert 400 <= (await pages.get(url)).status_code < 500, url
    section = await pages.get(f"/legal/contracts/{issued['vat']['id']}/documents")
    assert section.status_code == 200 and "УПД №" in section.text and "Счёт на оплату №" in section.text
    contract_card = await pages.get(f"/legal/contracts/{issued['vat']['id']}")
    assert contract_card.status_code == 200 and f"/legal/contracts/{issued['vat']['id']}/documents" in contract_card.text

    r = await pages.post("/legal/documents/issue", data={"period": "2026-99"}, follow_redirects=False)
    assert r.status_code == 422 and "Период: ожидается месяц ГГГГ-ММ" in r.text
    r = await pages.post("/legal/documents/issue", data={"period": "2026-12"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/legal/documents?period=2026-12&job=")
    r = await pages.get(r.headers["location"])
    assert r.status_code == 200 and 'id="doc-job"' in r.text

    bill = (await Api(pages, {}).ok("get", "/api/legal/documents?kind=bill&period=2026-12"))["items"][-1]
    r = await pages.post(f"/legal/documents/{bill['id']}/cancel", data={"reason": " "}, follow_redirects=False)
    assert r.status_code == 422 and "Укажите причину" in r.text
    r = await pages.post(f"/legal/documents/{bill['id']}/cancel", data={"reason": "Ошибка"}, follow_redirects=False)
    assert r.status_code == 303 and unquote(r.headers["location"]).endswith("notice=Документ аннулирован")


async def test_the_signer_setting(api):
    signer = await api.ok("get", "/api/legal/documents/signer")
    assert signer["last_name"] == "Водянов"
    r = await api.put("/api/legal/documents/signer", {"last_name": "", "first_name": "Пётр"})
    assert r.status_code == 422
    r = await api.put("/api/legal/documents/signer", {"last_name": "Я" * 61, "first_name": "Пётр"})
    assert r.status_code == 422
    done = await api.ok("put", "/api/legal/documents/signer", {"last_name": " Водянов ", "first_name": "Пётр",
                                                                "middle_name": "Ильич", "position": "Директор"})
    assert done == {"last_name": "Водянов", "first_name": "Пётр", "middle_name": "Ильич", "position": "Директор"}
