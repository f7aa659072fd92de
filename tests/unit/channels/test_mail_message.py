"""Reading e-mail messages as received: encoded headers, charsets, HTML-only bodies, attachments; account
numbers found in the text; the secret box used for mailbox passwords."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from aquabill.channels.mail import account_number_candidates, html_to_text, parse_message
from aquabill.platform.secret_box import SecretBox
from tests.unit.channels.mail_samples import COMPLAINT, COMPLAINT_TEXT, JPEG, PDF, QUESTION


def test_complaint_with_encoded_headers_koi8_text_and_attachments():
    m = parse_message(COMPLAINT)
    assert m.message_id == "<1732083238.417@mail.example>"
    assert (m.from_name, m.from_addr, m.to_addr) == ("Иванов Пётр", "ivanov.ps@mail.example", "appeals@vodokanal.test")
    assert m.subject == "Нет холодной воды, л/с 00100001"
    assert m.sent_at == datetime(2026, 11, 20, 9, 13, 58, tzinfo=timezone(timedelta(hours=3)))
    assert m.body_text == COMPLAINT_TEXT
    assert [(a.file_name, a.content_type, a.content) for a in m.attachments] == [
        ("акт.pdf", "application/pdf", PDF), ("фото.jpg", "image/jpeg", JPEG)]
    assert m.attachments[0].size == len(PDF)


def test_html_only_cp1251_without_message_id():
    m = parse_message(QUESTION)
    assert m.subject == "Отключение воды"
    assert (m.from_name, m.from_addr) == ("", "petrova@example.org")
    assert m.body_text == "Добрый день!\nКогда дадут воду в доме 1 по ул. Речной?\nЖду ответа."
    assert m.attachments == ()
    assert m.message_id.startswith("sha256:") and m.message_id == parse_message(QUESTION).message_id
    assert m.sent_at.utcoffset() == timedelta(hours=5)


@pytest.mark.parametrize("raw", [
    b"",
    b"garbage without headers",
    b"Subject: =?x-unknown?b?AAAA?=\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfe text",
    b"From: broken <<\r\nDate: not a date\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n",
])
def test_malformed_messages_do_not_raise(raw):
    m = parse_message(raw)
    assert m.message_id.startswith("sha256:")
    assert m.sent_at is None


def test_windows_1251_plain_text_and_inline_filename():
    raw = (b"From: =?windows-1251?q?=CF=E5=F2=F0=EE=E2?= <p@example.ru>\r\nSubject: test\r\nMessage-ID: <a@b>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
           b"Content-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\n\r\n") \
        + "Счёт 7700123".encode("cp1251") + (
            b"\r\n--b1\r\nContent-Type: text/csv; name=\"readings.csv\"\r\nContent-Transfer-Encoding: quoted-printable\r\n"
            b"Content-Disposition: attachment; filename=\"readings.csv\"\r\n\r\nmeter;value=0D=0A1;2\r\n--b1--\r\n")
    m = parse_message(raw)
    assert m.from_name == "Петров" and m.body_text == "Счёт 7700123"
    assert [(a.file_name, a.content) for a in m.attachments] == [("readings.csv", b"meter;value\r\n1;2")]


@pytest.mark.parametrize("texts, expected", [
    (("Нет воды, л/с 00100001",), ["00100001"]),
    (("Лицевой счёт № 12-345", "тел. 89123456789"), ["12-345", "89123456789"]),
    (("ЛС: A-77/1", ""), ["A-77"]),
    (("Показания 123456 и 123456, сумма 1500.00",), ["123456"]),
    (("дом 15, кв. 4",), []),
])
def test_account_number_candidates(texts, expected):
    assert account_number_candidates(*texts) == expected


def test_html_to_text_drops_scripts_and_tags():
    assert html_to_text("<style>p{}</style><p>Раз&nbsp;два</p><script>x()</script><div>три</div>") == "Раз\xa0два\nтри"


def test_secret_box_round_trip_and_wrong_key():
    box = SecretBox("key-one")
    token = box.seal("пароль-imap")
    assert token != "пароль-imap" and box.open(token) == "пароль-imap"
    assert "key-one" not in repr(box)
    with pytest.raises(ValueError):
        SecretBox("key-two").open(token)
    with pytest.raises(ValueError):
        box.open("not a token")
