"""The bot's keyboards and payloads: every payload fits Telegram's 64-byte callback limit."""

import pytest

from aquabill.subscribers.bot import Button, Reply, check_payload
from aquabill.subscribers.bot import keyboards as kb
from aquabill.subscribers.bot.types import MAX_PAYLOAD_BYTES, PayloadTooLong

BIG_ID = 2_147_483_647  # the largest account id (PostgreSQL integer)


def payloads(rows) -> list[str]:
    return Reply("x", rows).payloads()


@pytest.mark.parametrize("linked,notify,expected", [
    (False, False, ["link", "ap", "nt:on"]),
    (False, True, ["link", "ap", "nt:off"]),
    (True, False, ["bal", "rd", "rc", "pay", "ap", "accs", "nt:on"]),
    (True, True, ["bal", "rd", "rc", "pay", "ap", "accs", "nt:off"]),
])
def test_main_menu(linked, notify, expected):
    assert payloads(kb.main_menu(linked=linked, notify=notify)) == expected


@pytest.mark.parametrize("rows", [
    kb.choose_account(kb.BALANCE, [{"id": BIG_ID, "number": "9" * 30, "address": "ул. " + "Очень длинная " * 10}]),
    kb.after_amount(BIG_ID, "https://bill.example.ru/pay/" + "x" * 200, "2026-12"),
    kb.reading_step(), kb.cancel(), kb.back(), kb.accounts_list(), kb.pay_link("https://x.example/pay/t"),
])
def test_every_payload_fits_a_callback(rows):
    assert all(1 <= len(p.encode()) <= MAX_PAYLOAD_BYTES for p in payloads(rows))


def test_an_account_choice_names_the_account_and_carries_its_id():
    rows = kb.choose_account(kb.READINGS, [{"id": 7, "number": "ЛС1", "address": "ул. Речная, д. 1"},
                                           {"id": 9, "number": "ЛС2", "address": "ул. Речная, д. 2"}])
    assert [(b.label, b.payload) for row in rows for b in row] == [
        ("ЛС1 — ул. Речная, д. 1", "rd:7"), ("ЛС2 — ул. Речная, д. 2", "rd:9"), ("↩️ В меню", "menu")]


def test_after_an_amount_pay_is_a_link_and_why_a_payload():
    [first, back] = kb.after_amount(12, "https://b.example/pay/t", "2024-03")
    assert [(b.url, b.payload) for b in first] == [("https://b.example/pay/t", None), (None, "why:12:2024-03")]
    assert [b.payload for b in back] == ["menu"]
    assert kb.after_amount(12, None, None) == (back,)


def test_payload_limits_count_bytes_not_letters():
    assert check_payload("a" * 64) == "a" * 64
    with pytest.raises(PayloadTooLong):
        check_payload("ж" * 33)  # 66 bytes
    with pytest.raises(PayloadTooLong):
        check_payload("")


def test_a_button_has_exactly_one_action():
    with pytest.raises(ValueError):
        Button("x")
    with pytest.raises(ValueError):
        Button("x", payload="a", url="https://x")
    with pytest.raises(PayloadTooLong):
        Button("x", payload="p" * 65)


def test_parse_payload():
    assert kb.parse_payload("why:12:2024-03") == ("why", ["12", "2024-03"])
    assert kb.parse_payload("menu") == ("menu", [])
