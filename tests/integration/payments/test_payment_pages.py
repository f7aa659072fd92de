"""The payments pages with real PostgreSQL: each page rendered with data, and its main form acted on end to end
(a manual payment by account and by QR, storno, transfer, identify from the queue, a registry uploaded as a
multipart form with its line errors, rollback refused in a closed period and done in an open one, the
balance and turnover of an account); refusals write nothing; a viewer sees the pages but cannot act.

The tenant is the one of test_payments_in.py: accounts 0000101, 0000102, 0000105 (open), 0000103 (closed),
agent `sberbank` with the Sberbank registry layout."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api, as_role, login_cookie
from tests.integration.payments.test_payments_in import GOOD, PARTIAL, receipt_qr, seed
from tests.integration.payments.test_reallocation import wait_job

NNBSP = "\u202f"


@pytest.fixture
async def tenant(make_tenant):
    return await make_tenant(seed=seed)


@pytest.fixture
def api(client, tenant) -> Api:
    return Api(client, tenant.headers)


@pytest.fixture
def tx(core, tenant):
    return lambda: tenant_transaction(core.engines, tenant.tenant)


@pytest.fixture
async def pages(client, tenant):
    """The client logged in with the admin's session cookie (as a browser)."""
    await login_cookie(client, tenant)
    return client


def totals_row(html: str) -> list[str]:
    row = html.split('id="turnover-totals"', 1)[1].split("</tr>", 1)[0]
    return re.findall(r'<th class="num">([^<]*)</th>', row)


async def rows(tx, sql: str, **args) -> list[tuple]:
    async with tx() as conn:
        return [tuple(r) for r in await conn.execute(text(sql), args)]


async def test_payments_page_lists_with_filters_totals_and_paging(pages, api, tx):
    for account, amount, day in ((1, "100.00", "2026-11-02"), (2, "250.50", "2026-11-03"), (1, "40.00", "2026-11-20")):
        await api.ok("post", "/api/payments", {"account_id": account, "amount": amount, "paid_on": day, "agent": "cash"})
    await api.ok("post", "/api/payments", {"qr": receipt_qr("0009999", 70000), "paid_on": "2026-11-04"})
    r = await pages.get("/payments")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    html = r.text
    assert 'href="/payments/unidentified"' in html and 'href="/payments/files"' in html  # the menu
    assert "Найдено платежей: <b>4</b>" in html and f"1{NNBSP}090,50 ₽" in html  # 100 + 250.50 + 40 + 700
    assert "из них опознано <b>390,50 ₽</b>" in html and "неопознанных 1" in html
    assert "0000101" in html and "0009999" in html and "Собственная касса" in html and "Лицевой счёт 0009999 не найден" in html
    # filters: account, status, agent, source, dates
    r = await pages.get("/payments", params={"account": "0000101"})
    assert "Найдено платежей: <b>2</b>" in r.text and "140,00 ₽" in r.text
    r = await pages.get("/payments", params={"status": "unidentified"})
    assert "Найдено платежей: <b>1</b>" in r.text and "700,00 ₽" in r.text
    r = await pages.get("/payments", params={"date_from": "2026-11-03", "date_to": "2026-11-04"})
    assert "Найдено платежей: <b>2</b>" in r.text and "950,50 ₽" in r.text
    r = await pages.get("/payments", params={"agent": "manual", "source": "manual"})
    assert "Найдено платежей: <b>1</b>" in r.text
    r = await pages.get("/payments", params={"date_from": "32.13.2026"})
    assert r.status_code == 200 and "ожидается дата" in r.text and "Найдено платежей: <b>4</b>" in r.text
    # paging: 50 a page
    async with tx() as conn:
        await conn.execute(text(
            "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
            "SELECT g.id, 'manual', DATE '2026-10-01', 1, 3, 'identified' FROM payment_agents g, generate_series(1, 60) "
            "WHERE g.code = 'manual'"))
    r = await pages.get("/payments")
    assert "1–50 из 64" in r.text and "offset=50" in r.text
    r = await pages.get("/payments", params={"offset": 50})
    assert "51–64 из 64" in r.text


async def test_manual_payment_form_by_account_and_by_qr(pages, tx):
    r = await pages.post("/payments", data={"account_number": "0000102", "amount": "1 500,00", "paid_on": "2026-11-05",
                                             "agent": "manual", "period": "2026-10", "note": "в офисе"})
    assert r.status_code == 200 and "Платёж 1500.00 ₽ принят на лицевой счёт 0000102" in r.text, r.text[:3000]
    assert await rows(tx, "SELECT a.number, p.amount, p.source, p.paid_on, to_char(p.period, 'YYYY-MM'), p.status "
                          "FROM payments p JOIN accounts a ON a.id = p.account_id") == [
        ("0000102", D("1500.00"), "manual", date(2026, 11, 5), "2026-10", "identified")]
    # allocated at once: no charges yet, so the whole payment is an advance
    assert await rows(tx, "SELECT kind, amount FROM payment_allocations") == [("advance", D("1500.00"))]
    # by the receipt's QR string: account, amount and period from the QR; cash desk
    r = await pages.post("/payments", data={"qr": receipt_qr("0000105", 98765), "paid_on": "2026-11-06",
                                             "agent": "cash"})
    assert "Платёж 987.65 ₽ принят на лицевой счёт 0000105" in r.text
    # refusals: unknown account, a bad amount, a closed period — the form keeps its values, nothing written
    r = await pages.post("/payments", data={"account_number": "0000999", "amount": "10", "paid_on": "2026-11-05"})
    assert r.status_code == 200 and "Лицевой счёт № 0000999 не найден" in r.text and 'value="0000999"' in r.text
    r = await pages.post("/payments", data={"account_number": "0000101", "amount": "десять", "paid_on": "2026-11-05"})
    assert "Сумма: ожидается число" in r.text
    r = await pages.post("/payments", data={"account_number": "0000101", "amount": "-5", "paid_on": "2026-11-05"})
    assert "больше нуля" in r.text
    async with tx() as conn:
        await conn.execute(text("INSERT INTO periods(period, status) VALUES (DATE '2026-09-01', 'closed')"))
    r = await pages.post("/payments", data={"account_number": "0000101", "amount": "10", "paid_on": "2026-09-10"})
    assert "Период 2026-09 закрыт" in r.text
    assert len(await rows(tx, "SELECT id FROM payments")) == 2


async def test_storno_and_transfer_actions(pages, api, tx):
    p = await api.ok("post", "/api/payments", {"account_id": 1, "amount": "300.00", "paid_on": "2026-11-05"})
    q = await api.ok("post", "/api/payments", {"account_id": 1, "amount": "120.00", "paid_on": "2026-11-06"})
    html = (await pages.get("/payments")).text
    assert f'action="/payments/{p["id"]}/storno"' in html and f'action="/payments/{p["id"]}/transfer"' in html
    assert "return confirm(" in html  # both ask before acting
    r = await pages.post(f"/payments/{p['id']}/storno", data={"note": "ошибка кассира"})
    assert r.status_code == 200 and f"Платёж № {p['id']} на 300.00 ₽ сторнирован" in r.text
    r = await pages.post(f"/payments/{p['id']}/storno", data={})
    assert "уже сторнирован" in r.text
    r = await pages.post(f"/payments/{q['id']}/transfer", data={"account_number": "0000105", "note": "ошибся счётом"})
    assert f"Платёж № {q['id']} перенесён на лицевой счёт 0000105" in r.text
    r = await pages.post(f"/payments/{q['id']}/transfer", data={"account_number": "0000105"})
    assert "Перенести можно только опознанный платёж" in r.text
    assert await rows(tx, "SELECT a.number, p.amount, p.status, p.source FROM payments p "
                          "JOIN accounts a ON a.id = p.account_id ORDER BY p.id") == [
        ("0000101", D("300.00"), "storno", "manual"), ("0000101", D("120.00"), "storno", "manual"),
        ("0000105", D("120.00"), "identified", "transfer")]
    assert await rows(tx, "SELECT account_id, kind, amount FROM payment_allocations") == [(4, "advance", D("120.00"))]
    assert (await pages.post("/payments/999999/storno", data={})).status_code == 404


async def test_unidentified_queue_page_and_identify(pages, api, tx):
    await api.ok("post", "/api/payments", {"qr": receipt_qr("0000777", 50000), "paid_on": "2026-11-04"})
    other = await api.ok("post", "/api/payments", {"qr": receipt_qr("0000888", 12300), "paid_on": "2026-11-05"})
    r = await pages.get("/payments/unidentified")
    assert r.status_code == 200 and "В очереди: <b>2</b>" in r.text and "0000777" in r.text and "0000888" in r.text
    assert "Невыясненные (2)" in r.text
    r = await pages.get("/payments/unidentified", params={"q": "123,00"})
    assert "0000888" in r.text and "0000777" not in r.text and "найдено: 1" in r.text
    r = await pages.post(f"/payments/{other['id']}/identify", data={"account_number": "0000999"})
    assert "Лицевой счёт № 0000999 не найден" in r.text
    r = await pages.post(f"/payments/{other['id']}/identify", data={"account_number": "0000102", "note": "звонок"})
    assert f"Платёж № {other['id']} на 123.00 ₽ привязан к лицевому счёту 0000102" in r.text
    assert "В очереди: <b>1</b>" in r.text
    assert await rows(tx, "SELECT p.status, a.number FROM payments p JOIN accounts a ON a.id = p.account_id") == [
        ("identified", "0000102")]
    assert await rows(tx, "SELECT kind, amount FROM payment_allocations") == [("advance", D("123.00"))]


async def test_registry_files_page_upload_errors_and_rollback(pages, tx):
    r = await pages.get("/payments/files")
    assert r.status_code == 200 and "Файлов ещё не загружали" in r.text and 'enctype="multipart/form-data"' in r.text
    r = await pages.post("/payments/files", data={"agent": "sberbank"},
                         files={"file": ("reestr_1511.txt", GOOD, "text/plain")})
    assert r.status_code == 200, r.text[:2000]
    assert "Файл «reestr_1511.txt» загружен: строк 3, платежей 3, неопознанных 1, ошибок 0" in r.text
    file_id = (await rows(tx, "SELECT id FROM payment_files"))[0][0]
    assert f'href="/payments/files/{file_id}"' in r.text and f"4{NNBSP}330,50" in r.text and "Сбербанк" in r.text
    # the same file again adds nothing
    r = await pages.post("/payments/files", data={"agent": "sberbank"}, files={"file": ("again.txt", GOOD, "text/plain")})
    assert "уже был загружен" in r.text
    # a file with bad lines: its line errors on the page and on the file's own page
    partial = PARTIAL.rsplit(b"=", 1)[0]
    r = await pages.post("/payments/files", data={"agent": "sberbank"}, files={"file": ("partial.txt", partial, "text/plain")})
    assert "строк 8, платежей 2, неопознанных 0, ошибок 6" in r.text and "повторяется" in r.text
    partial_id = max(i for (i,) in await rows(tx, "SELECT id FROM payment_files"))
    r = await pages.get(f"/payments/files/{partial_id}")
    assert r.status_code == 200 and "Ошибки строк (" in r.text and "повторяется" in r.text and "0000105" in r.text
    # refusals of the form
    r = await pages.post("/payments/files", data={"agent": "sberbank"})
    assert "Выберите файл" in r.text
    r = await pages.post("/payments/files", data={"agent": "nobody"}, files={"file": ("x.txt", GOOD, "text/plain")})
    assert "Платёжный агент «nobody» не найден" in r.text
    # rollback: refused while a payment month of the file is closed, done once it is open
    async with tx() as conn:
        await conn.execute(text("INSERT INTO periods(period, status) VALUES (DATE '2026-11-01', 'closed')"))
    r = await pages.post(f"/payments/files/{file_id}/rollback")
    assert r.status_code == 200 and "Период 2026-11 закрыт: откат файла" in r.text and "Загружен" in r.text
    async with tx() as conn:
        await conn.execute(text("UPDATE periods SET status = 'open' WHERE period = DATE '2026-11-01'"))
    r = await pages.post(f"/payments/files/{file_id}/rollback")
    assert "Файл откатан" in r.text and "Откатан" in r.text and "Откатить файл" not in r.text
    assert await rows(tx, "SELECT DISTINCT status FROM payments WHERE file_id = :f", f=file_id) == [("rolled_back",)]
    assert (await pages.get("/payments/files/999999")).status_code == 404


async def test_balances_page_account_and_tenant(pages, api, tx):
    async with tx() as conn:
        for period, cold, sewage in ((date(2026, 9, 1), "300.00", "200.00"), (date(2026, 10, 1), "310.00", "210.00")):
            for code, amount in (("cold_water", cold), ("sewage", sewage)):
                await conn.execute(text(
                    "INSERT INTO charges(account_id, service_id, period, method, amount) "
                    "SELECT 1, id, :p, 'norm', :x FROM services WHERE code = :c"), {"p": period, "x": D(amount), "c": code})
        await conn.execute(text("INSERT INTO periods(period, status) VALUES (DATE '2026-10-01', 'open')"))
    await api.ok("post", "/api/payments", {"account_id": 1, "amount": "400.00", "paid_on": "2026-10-05"})
    r = await pages.get("/balances", params={"account": "0000101", "from": "2026-09", "to": "2026-10"})
    assert r.status_code == 200, r.text[:2000]
    html = re.sub(r">\s+<", "><", r.text)
    # 400 covers September's cold water 300 and 100 of sewage
    assert "Иванов И. И." in html and "Задолженности нет" not in html
    assert ('<td>2026-09</td><td>Водоотведение</td><td class="num">200,00</td><td class="num">100,00</td>'
            '<td class="num">0,00</td><td class="num">100,00</td>') in html
    assert 'id="balance-debt">620,00' in html and 'id="balance-total">620,00' in html
    # the turnover of the account over the two months: opening 0 + charged 1 020 − paid 400 = closing 620
    assert totals_row(html) == ["0,00", f"1{NNBSP}020,00", "0,00", "400,00", "620,00"]
    # the whole organisation (no account), by month of origin
    r = await pages.get("/balances", params={"from": "2026-09", "to": "2026-10", "by_month": "true"})
    assert "вся организация" in r.text and "1–4 из 4" in r.text
    r = await pages.get("/balances", params={"account": "0000999"})
    assert "Лицевой счёт № 0000999 не найден" in r.text
    # the account card links here
    assert 'href="/balances?account=0000101"' in (await pages.get("/accounts/1")).text


async def test_viewer_sees_the_pages_but_cannot_act(client, tenant, api):
    viewer = await as_role(client, tenant, "viewer")
    for url in ("/payments", "/payments/unidentified", "/payments/files", "/balances"):
        r = await viewer.get(url)
        assert r.status_code == 200, url
        assert r.text.count('method="post"') == 1  # only the logout button and 'enctype="multipart/form-data"' not in r.text
    r = await viewer.client.post("/payments", headers=viewer.headers,
                                 data={"account_number": "0000101", "amount": "10", "paid_on": "2026-11-05"})
    assert r.status_code == 403
    p = await api.ok("post", "/api/payments", {"account_id": 1, "amount": "300.00", "paid_on": "2026-11-05"})
    r = await viewer.client.post(f"/payments/{p['id']}/storno", headers=viewer.headers, data={})
    assert r.status_code == 403


async def test_large_registry_upload_becomes_a_job(pages, api, tx, worker):
    lines = "".join(f"20-11-2026;10:00:00;1;К;J-{i};{'0000101' if i % 2 else '0009999'};П;1126;1.00;0\n"
                    for i in range(5001))
    r = await pages.post("/payments/files", data={"agent": "sberbank"},
                         files={"file": ("big.txt", lines.encode(), "text/plain")})
    assert r.status_code == 200 and "Файл «big.txt» большой: он загружается заданием №" in r.text
    job_id = re.search(r"заданием № ([0-9a-f-]{36})", r.text).group(1)
    job = await wait_job(api, job_id)
    assert job["status"] == "done" and job["result"]["loaded"] == 5001, job
    r = await pages.get("/payments/files")
    assert "big.txt" in r.text and "5001" in r.text
