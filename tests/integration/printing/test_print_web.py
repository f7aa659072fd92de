"""The printing pages and API: start a printing (API and form), the list and the batch page, the bundles and the
export files downloaded (tenant checked), the account card's receipt PDF and section, the portal's PDF for a
linked account only; permissions, another tenant's ids and bad input answer 4xx with a Russian message."""

from __future__ import annotations

import hashlib
import shutil
from uuid import UUID, uuid4

import pytest
from sqlalchemy import text

from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.receipts_print import receipts_print
from aquabill.platform.printing.files import batch_dir
from tests.integration.billing_core.api_helpers import Api, as_role, login_cookie
from tests.integration.printing.conftest import OPEN
from tests.portal_support import portal_user
from tests.unit.print.scan import pages
from tests.unit.print.scan import text as pdf_text


@pytest.fixture(scope="module")
async def printed(town, core, client):
    """A printing of house 2 started through the API and run (as the worker would) with the app's folder."""
    api = Api(client, town.headers)
    started = await api.ok("post", "/api/receipts/print", {"period": str(OPEN), "filter": {"house_id": 2},
                                                          "bundle": 7}, status=201)
    batch_id = UUID(started["id"])
    ctx = JobContext(core=core, tenant=town.tenant, job_id=batch_id, user_id=1)
    async with ctx.transaction() as conn:
        params = (await conn.execute(text("SELECT params FROM jobs WHERE id = :j"), {"j": batch_id})).scalar_one()
    await receipts_print(ctx, params)
    yield batch_id
    shutil.rmtree(batch_dir(core.settings.var_dir, town.tenant.slug, batch_id).parent, ignore_errors=True)


async def test_api_batch_bundles_and_exports(town, client, printed, tmp_path):
    api = Api(client, town.headers)
    batch = await api.ok("get", f"/api/receipts/print/{printed}")
    assert batch["status"] == "done" and batch["done"] == batch["total"] > 7 and batch["filter"] == {"house_id": 2}
    assert [b["no"] for b in batch["bundle_list"]] == list(range(1, batch["bundles"] + 1))
    listed = await api.ok("get", "/api/receipts/print")
    assert any(p["id"] == str(printed) and p["status"] == "done" for p in listed["items"])
    first = batch["bundle_list"][0]
    r = await client.get(first["download"], headers=town.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(r.content).hexdigest() == first["sha256"] and pages(r.content, tmp_path) == 7
    same = await client.get(f"/receipts/print/{printed}/bundles/001.pdf", headers=town.headers)
    assert same.content == r.content
    csv = await client.get(batch["exports"]["csv"], headers=town.headers)
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    assert len(csv.content.decode("utf-8-sig").strip().split("\r\n")) == batch["total"] + 1
    xml = await client.get(batch["exports"]["xml"], headers=town.headers)
    assert xml.status_code == 200 and xml.content.count(b"<receipt ") == batch["total"]


async def test_pages(town, client, printed):
    await login_cookie(client, town)
    page = await client.get("/receipts/print")
    assert page.status_code == 200
    assert "Печать квитанций" in page.text and f'href="/receipts/print/{printed}"' in page.text
    assert "Дом: " in page.text and "Готово" in page.text
    one = await client.get(f"/receipts/print/{printed}")
    assert one.status_code == 200 and f"/receipts/print/{printed}/bundles/1.pdf" in one.text
    assert f"/receipts/print/{printed}/export.csv" in one.text and "Продолжить печать" not in one.text
    bad = await client.post("/receipts/print", data={"period": "2026-13", "scope": "tenant"},
                            headers={"HX-Request": "true"})
    assert bad.status_code == 200 and "Месяц печати: укажите его как ГГГГ-ММ" in bad.text
    no_house = await client.post("/receipts/print", data={"period": str(OPEN), "scope": "house", "house_id": ""},
                                 headers={"HX-Request": "true"})
    assert "Дом: укажите его из списка" in no_house.text
    size = await client.post("/receipts/print", data={"period": str(OPEN), "bundle_by": "count", "bundle_size": "0"},
                             headers={"HX-Request": "true"})
    assert "Пачка: «по дому» или число квитанций в файле" in size.text


async def test_account_card_pdf_and_section(town, tx, client, printed, tmp_path):
    async with tx() as conn:
        account, number = (await conn.execute(text(
            "SELECT a.id, a.number FROM receipt_issues r JOIN accounts a ON a.id = r.account_id "
            "WHERE r.printed_batch = :b AND r.printed_bundle = 1 AND r.printed_page = 2"), {"b": printed})).one()
    r = await client.get(f"/accounts/{account}/receipt.pdf?period={OPEN}&issue=1", headers=town.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert f'filename="receipt-{number}-{OPEN}-1.pdf"' in r.headers["content-disposition"]
    words = pdf_text(r.content, tmp_path)
    assert number in words and pages(r.content, tmp_path) == 1
    latest = await client.get(f"/accounts/{account}/receipt.pdf?period={OPEN}", headers=town.headers)
    assert latest.content == r.content  # the latest issue is issue 1
    section = await client.get(f"/accounts/{account}/receipt-files", headers=town.headers)
    assert section.status_code == 200 and "пачка 1, стр. 2" in section.text
    assert f"/accounts/{account}/receipt.pdf?period={OPEN}&amp;issue=1" in section.text
    card = await client.get(f"/accounts/{account}", headers=town.headers)
    assert f'hx-get="/accounts/{account}/receipt-files"' in card.text


async def test_portal_pdf_for_a_linked_account_only(town, core, client, tmp_path):
    me = await portal_user(core, town.tenant, account_ids=[1])
    other = await portal_user(core, town.tenant, account_ids=[4])
    r = await client.get(f"/my/accounts/1/receipt.pdf?period={OPEN}", headers=me.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text[:300]
    staff = await Api(client, town.headers).ok("get", f"/api/accounts/1/receipt?period={OPEN}")
    due = staff["due"].replace(".", ",")
    assert due.split(",")[0] in pdf_text(r.content, tmp_path).replace("\u202f", "").replace(" ", "")
    page = await client.get(f"/my/accounts/1/receipt?period={OPEN}", headers=me.headers)
    assert f'href="/my/accounts/1/receipt.pdf?period={OPEN}"' in page.text and "Скачать PDF" in page.text
    for who, path in ((other, f"/my/accounts/1/receipt.pdf?period={OPEN}"), (me, "/my/accounts/4/receipt.pdf"),
                      (me, "/my/accounts/2147483647/receipt.pdf")):
        r = await client.get(path, headers=who.headers)
        assert r.status_code == 404 and "Лицевой счёт не найден" in r.text, path
    odd = await client.get("/my/accounts/1/receipt.pdf?period=март", headers=me.headers)
    assert odd.status_code == 422 and "не распознан" in odd.text


async def test_permissions_other_tenant_and_bad_input(town, make_tenant, client, printed):
    for body, field in (({"period": "x"}, "Месяц печати"), ({"period": str(OPEN), "bundle": 0}, "Пачка"),
                        ({"period": str(OPEN), "filter": {"house_id": 999999}}, "Дом #999999 не найден"),
                        ({"period": str(OPEN), "filter": {"planet": 1}}, "Отбор"),
                        ({"period": str(OPEN), "filter": {"delivery": "pigeon"}}, "Способ доставки")):
        r = await client.post("/api/receipts/print", json=body, headers=town.headers)
        assert r.status_code == 422 and field in r.text, (body, r.text)
    for path, status in ((f"/receipts/print/{printed}/bundles/abc.pdf", 404),
                         (f"/receipts/print/{printed}/bundles/99.pdf", 404), (f"/receipts/print/{uuid4()}", 404),
                         (f"/api/receipts/print/{uuid4()}", 404), ("/receipts/print/not-a-uuid", 404),
                         ("/accounts/1/receipt.pdf?period=2026-13", 422),
                         (f"/accounts/1/receipt.pdf?period={OPEN}&issue=99", 404),
                         (f"/accounts/999999/receipt.pdf?period={OPEN}", 404)):
        r = await client.get(path, headers=town.headers)
        assert r.status_code == status, (path, r.status_code, r.text[:200])
    r = await client.post(f"/api/receipts/print/{printed}/resume", headers=town.headers)
    assert r.status_code == 409 and "уже завершена" in r.text

    other = await make_tenant()
    for path in (f"/api/receipts/print/{printed}", f"/receipts/print/{printed}/bundles/1.pdf",
                 f"/receipts/print/{printed}/export.csv", f"/receipts/print/{printed}"):
        r = await client.get(path, headers=other.headers)
        assert r.status_code == 404, path
    await Api(client, town.headers).ok("post", "/api/roles", {"code": "clerk", "name": "Делопроизводитель",
                                                              "permissions": ["accounts:view"]})
    cashier = await as_role(client, town, "clerk")  # no rights on receipts
    for path in (f"/receipts/print/{printed}/bundles/1.pdf", "/receipts/print", f"/api/receipts/print/{printed}",
                 f"/accounts/1/receipt.pdf?period={OPEN}"):
        assert (await cashier.get(path)).status_code == 403, path
    viewer = await as_role(client, town, "viewer")  # sees, starts nothing
    assert (await viewer.get(f"/receipts/print/{printed}/bundles/1.pdf")).status_code == 200
    assert (await viewer.post("/api/receipts/print", json={"period": str(OPEN)})).status_code == 403
    assert (await viewer.post(f"/api/receipts/print/{printed}/resume")).status_code == 403
