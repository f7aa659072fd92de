"""Cloud fiscalization rules (pure): the receipt from an online payment's receipt data, the refund lines, the
retry schedule, the settings' checks."""

from decimal import Decimal as D

import pytest

from aquabill.base.errors import Invalid
from aquabill.cash.cloud import CloudItem, CloudReceipt, receipt_from_online, refund_receipt, retry_delay
from aquabill.cash.cloud_settings import check_api_url, check_values, inn_ok

ONLINE = {"items": [
    {"description": "Холодное водоснабжение", "amount": "300.00", "vat": "none", "payment_mode": "full_payment",
     "payment_subject": "service", "quantity": "1"},
    {"description": "Пени за несвоевременную оплату", "amount": "12.34", "vat": "none", "payment_mode": "full_payment",
     "payment_subject": "another", "quantity": "1"},
    {"description": "Аванс за коммунальные услуги", "amount": "87.66", "vat": "22/122", "payment_mode": "advance",
     "payment_subject": "payment", "quantity": "1"}], "email": None, "phone": "79161234567", "tax_system": None}


def test_the_receipt_of_an_online_payment_maps_the_tags():
    receipt = receipt_from_online(ONLINE, D("400.00"))
    assert receipt == CloudReceipt((
        CloudItem("Холодное водоснабжение", D("300.00"), D("1"), D("300.00"), "none", 4, 4),
        CloudItem("Пени за несвоевременную оплату", D("12.34"), D("1"), D("12.34"), "none", 4, 13),
        CloudItem("Аванс за коммунальные услуги", D("87.66"), D("1"), D("87.66"), "22/122", 3, 10)),
        None, "+79161234567")
    assert receipt.total == D("400.00")
    assert CloudReceipt.from_json(receipt.as_json()) == receipt


def test_an_e_mail_wins_over_a_phone():
    assert receipt_from_online({**ONLINE, "email": "a@b.ru"}, D("400.00")).phone is None


@pytest.mark.parametrize(("data", "amount", "reason"), [
    ({**ONLINE, "items": []}, D("400.00"), "нет строк"),
    ({**ONLINE, "phone": None}, D("400.00"), "нет e-mail или телефона покупателя"),
    (ONLINE, D("400.01"), "строки дают 400.00, а платёж 400.01"),
    ({**ONLINE, "items": [{**ONLINE["items"][0], "vat": "18"}]}, D("300.00"),
     "неизвестная ставка или признак: 18, full_payment, service"),
])
def test_a_receipt_that_cannot_be_built_says_why(data, amount, reason):
    with pytest.raises(ValueError) as caught:
        receipt_from_online(data, amount)
    assert str(caught.value) == f"Чек не составлен: в онлайн-платеже нет данных чека ({reason})"


def test_a_refund_returns_the_advance_first():
    sale = receipt_from_online(ONLINE, D("400.00"))
    refund = refund_receipt(sale, D("100.00"))
    assert [(i.name, i.sum, i.method, i.subject) for i in refund.items] == [
        ("Пени за несвоевременную оплату", D("12.34"), 4, 13),
        ("Аванс за коммунальные услуги", D("87.66"), 3, 10)]
    assert refund.total == D("100.00") and refund.phone == "+79161234567"


def test_a_refund_above_the_payment_is_refused():
    with pytest.raises(ValueError):
        refund_receipt(receipt_from_online(ONLINE, D("400.00")), D("400.01"))


@pytest.mark.parametrize(("attempts", "seconds"), [(0, 5), (1, 5), (2, 15), (5, 120), (8, 1800), (50, 1800)])
def test_retry_delay(attempts, seconds):
    assert retry_delay(attempts) == seconds


@pytest.mark.parametrize(("inn", "ok"), [
    ("7707083893", True),  # Sberbank
    ("7707083894", False),
    ("500100732259", True),
    ("500100732258", False),
    ("0007083893", False),
    ("77070838", False),
])
def test_inn(inn, ok):
    assert inn_ok(inn) is ok


@pytest.mark.parametrize(("url", "ok"), [
    ("https://online.atol.ru/possystem/v5", True),
    ("http://127.0.0.1:8123/possystem/v5", True),
    ("http://online.atol.ru/possystem/v5", False),
    ("ftp://x", False),
    ("https://a b", False),
])
def test_api_url(url, ok):
    if ok:
        assert check_api_url(url) == url
    else:
        with pytest.raises(Invalid):
            check_api_url(url)


def test_settings_checks_name_the_field():
    base = {"api_url": "https://online.atol.ru/possystem/v5", "login": "l", "group_code": "g_1",
            "inn": "7707083893", "email": "k@v.ru", "payment_address": "https://lk.v.ru", "sno": "osn"}
    assert check_values(base)["inn"] == "7707083893"
    for field, bad in (("inn", "1234567890"), ("email", "nope"), ("sno", "envd"), ("group_code", "группа")):
        with pytest.raises(Invalid) as caught:
            check_values({**base, field: bad})
        assert caught.value.fields[0]["field"] == field
