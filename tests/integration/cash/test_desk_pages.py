"""The cashier's workstation as a browser uses it (session cookie, URL-encoded forms): the only cash point chosen
and remembered, the shift opened by its button, the account found by the receipt's barcode, «Принять оплату»
(a form posted twice is one sale), the shift's list turning from «Печатается…» into «Чек № {FD}, ФП {ФП}» as the
agent's result arrives (/cash/live, what static/cash.js fetches), a failed receipt cancelled, a refund, the tab
«Прочие услуги», the shifts pages, the services page, and the payment's fiscal proof on the payments page."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest

from aquabill.channels.print.code128 import receipt_barcode
from tests.integration.billing_core.api_helpers import login_cookie
from tests.integration.cash.desk_support import cashier_cookie, fiscal


@pytest.fixture
async def browser(client, tenant):
    await cashier_cookie(client, tenant)
    return client


def form_key(html: str, form_id: str) -> str:
    form = html.split(f'id="{form_id}"', 1)[1]
    return re.search(r'name="key" value="([0-9a-f-]{36})"', form).group(1)


async def test_the_workstation_from_search_to_the_printed_receipt(browser, desk):
    page = await browser.get("/cash")
    assert page.status_code == 200 and "Рабочее место кассира" in page.text
    assert "aquabill_cash_point=1" in page.headers.get("set-cookie", "")
    assert 'id="shift-open"' in page.text and "Смена не открыта." in page.text

    r = await browser.post("/cash/shift", data={"point_id": "1", "action": "open"}, follow_redirects=False)
    assert r.status_code == 303 and "point=1" in r.headers["location"]
    live = (await browser.get("/cash/live?point=1")).text
    assert "Открывается…" in live
    command = await desk.last_command("open_shift")
    await desk.result(command["id"], result={"shift_number": 17, "fd_number": 1, "fiscal_sign": 1,
                                             "fiscal_at": "2026-12-07T08:00:00+03:00", "fn_number": "1"})
    live = (await browser.get("/cash/live?point=1")).text
    assert "Открыта" in live and "смена № 17" in live and 'id="shift-close"' in live

    # a scanner types the receipt's barcode: the account opens at once with the barcode's sum
    code = receipt_barcode("00100127", 11, 2026, D("825.00"))
    page = await browser.get("/cash", params={"q": code})
    html = page.text
    assert "Лицевой счёт 00100127" in html and "Смирнова Е. А." in html
    assert 'name="amount" id="sale-amount" value="825.00"' in html
    assert 'value="penalty"' in html and "Водоотведение" in html and "10.2026" in html
    assert 'id="desk-total">825,00 ₽' in html
    # by address: a list to choose from
    found = (await browser.get("/cash", params={"q": "Ленина"})).text
    assert found.count('href="/cash?point=1&account=') == 3

    key = form_key(html, "sale-form")
    form = {"key": key, "point_id": "1", "account_id": "1", "pay": "amount", "amount": "825,00", "tender": "cash",
            "given": "1 000", "buyer_contact": ""}
    r = await browser.post("/cash/sale", data=form, follow_redirects=False)
    assert r.status_code == 303
    notice = (await browser.get(r.headers["location"])).text
    assert "Оплата 825,00 ₽ принята, касса печатает чек. Сдача 175,00 ₽" in notice
    again = await browser.post("/cash/sale", data=form, follow_redirects=False)  # the same form twice
    assert again.status_code == 303
    assert await desk.value("SELECT count(*) FROM cash_receipts") == 1
    assert await desk.value("SELECT count(*) FROM payments") == 1
    live = (await browser.get("/cash/live?point=1")).text
    assert "Печатается…" in live and 'data-printing="1"' in live
    receipt_id, command_id = (await desk.rows("SELECT id, command_id FROM cash_receipts"))[0]
    await desk.result(command_id, result=fiscal(fd_number=4242, fiscal_sign=1122334455))
    live = (await browser.get("/cash/live?point=1")).text
    assert "Чек № 4242, ФП 1122334455" in live and "Печатается…" not in live
    assert 'value="refund"' in live

    # the payments page shows the fiscal proof of the payment
    await login_cookie(browser, desk.handle)
    payments = (await browser.get("/payments")).text
    assert "ФД № 4242, ФП 1122334455" in payments
    await cashier_cookie(browser, desk.handle)

    # a refund from the list
    r = await browser.post(f"/cash/receipts/{receipt_id}", data={"action": "refund", "key": form_key(live, "desk-receipts")},
                           follow_redirects=False)
    assert r.status_code == 303
    refund_id, refund_command = (await desk.rows("SELECT id, command_id FROM cash_receipts WHERE operation = 'refund'"))[0]
    await desk.result(refund_command, result=fiscal(fd_number=4243))
    assert await desk.rows("SELECT status FROM payments") == [("storno",)]
    live = (await browser.get("/cash/live?point=1")).text
    assert f"по чеку № {receipt_id}" in live and "Чек № 4243" in live


async def test_failed_receipt_retry_cancel_and_refusals_on_the_page(browser, desk):
    await browser.post("/cash/shift", data={"point_id": "1", "action": "open"})
    await desk.result((await desk.last_command("open_shift"))["id"], result={"shift_number": 1})
    page = (await browser.get("/cash?account=1")).text
    r = await browser.post("/cash/sale", data={"key": form_key(page, "sale-form"), "point_id": "1", "account_id": "1",
                                               "pay": "amount", "amount": "100", "tender": "cash", "given": "50"})
    assert r.status_code == 200 and "меньше суммы чека" in r.text and 'id="desk-message"' in r.text
    assert await desk.value("SELECT count(*) FROM cash_receipts") == 0
    r = await browser.post("/cash/sale", data={"key": form_key(page, "sale-form"), "point_id": "1", "account_id": "1",
                                               "pay": "lines", "amount": "", "tender": "cash"})
    assert r.status_code == 200 and "Отметьте строки долга" in r.text
    r = await browser.post("/cash/sale", data={"key": form_key(page, "sale-form"), "point_id": "1", "account_id": "1",
                                               "pay": "lines", "lines": ["penalty"], "tender": "card"},
                           follow_redirects=False)
    assert r.status_code == 303
    receipt_id, command_id = (await desk.rows("SELECT id, command_id FROM cash_receipts"))[0]
    await desk.result(command_id, ok=False, error={"code": "card_declined", "message": "Отказ банка"})
    live = (await browser.get("/cash/live?point=1")).text
    assert "Оплата картой отклонена: Отказ банка" in live and 'value="retry"' in live and 'value="cancel"' in live
    r = await browser.post("/cash/shift", data={"point_id": "1", "action": "close"})
    assert r.status_code == 200 and "чек(ов) с ошибкой" in r.text
    r = await browser.post(f"/cash/receipts/{receipt_id}", data={"action": "retry"}, follow_redirects=False)
    assert r.status_code == 303
    assert "Печатается…" in (await browser.get("/cash/live?point=1")).text
    retried = (await desk.rows("SELECT command_id FROM cash_receipts"))[0][0]
    await desk.result(retried, ok=False, error={"code": "card_declined", "message": "Отказ банка"})
    r = await browser.post(f"/cash/receipts/{receipt_id}", data={"action": "cancel"}, follow_redirects=False)
    assert r.status_code == 303
    assert await desk.rows("SELECT status FROM cash_receipts") == [("cancelled",)]
    r = await browser.post("/cash/receipts/999999", data={"action": "cancel"})
    assert r.status_code == 404


async def test_other_services_tab_and_the_lists(browser, desk, client, tenant):
    await browser.post("/cash/shift", data={"point_id": "1", "action": "open"})
    await desk.result((await desk.last_command("open_shift"))["id"], result={"shift_number": 5})
    tab = (await browser.get("/cash?tab=services")).text
    assert 'id="service-form"' in tab and "Вывоз ТКО — ООО «ЭкоСервис»" in tab and "не менее 10,00 ₽" in tab
    r = await browser.post("/cash/service-sale", data={"key": form_key(tab, "service-form"), "point_id": "1",
                                                       "service_id": "1", "details": "л/с 9", "amount": "2000",
                                                       "tender": "cash", "given": ""}, follow_redirects=False)
    assert r.status_code == 303 and "tab=services" in r.headers["location"]
    total, commission = (await desk.rows("SELECT total, commission FROM cash_receipts"))[0]
    assert (total, commission) == (D("2020.00"), D("20.00"))
    await desk.result((await desk.rows("SELECT command_id FROM cash_receipts"))[0][0], result=fiscal())
    shifts = (await browser.get("/cash/shifts")).text
    assert "№ 5" in shifts and "2\u202f020,00" in shifts and "2\u202f000,00" in shifts
    shift_id = await desk.value("SELECT id FROM cash_shifts")
    one = (await browser.get(f"/cash/shifts/{shift_id}")).text
    assert "Вывоз ТКО" in one and "в т. ч. комиссия 20,00" in one
    # the services page: the cashier sees it, the admin changes it
    listing = (await browser.get("/cash/services")).text
    assert "ИП Сидоров С. С." in listing and 'id="service-edit"' not in listing
    await login_cookie(client, tenant)
    r = await client.post("/cash/services", data={"code": "water", "name": "Поверка", "supplier_name": "ООО «Метролог»",
                                                   "supplier_inn": "7707083894", "commission_percent": "0"})
    assert r.status_code == 200 and "неверными" not in r.text and "контрольными числами" in r.text
    r = await client.post("/cash/services", data={"code": "water", "name": "Поверка", "supplier_name": "ООО «Метролог»",
                                                   "supplier_inn": "7707083893", "commission_percent": "1,5",
                                                   "commission_min": "15", "active": "1"}, follow_redirects=False)
    assert r.status_code == 303
    assert await desk.rows("SELECT code, commission_percent, commission_min, active FROM cash_services "
                           "WHERE code = 'water'") == [("water", D("1.50"), D("15.00"), True)]
