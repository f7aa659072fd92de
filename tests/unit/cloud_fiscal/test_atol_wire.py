"""The ATOL Online v5 wire format (pure): the body of a receipt as bytes, and how tokens, registrations, reports and
errors are read."""

import json
from datetime import datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from aquabill.cash.cloud import CloudItem, CloudReceipt
from aquabill.channels.cloud_fiscal.atol_wire import (
    AtolRefused,
    AtolSettings,
    AtolTokenRejected,
    AtolUnknown,
    Company,
    decode_registration,
    decode_report,
    decode_token,
    dumps,
    encode_receipt,
    error_of,
)

MSK = ZoneInfo("Europe/Moscow")
RECEIPT = CloudReceipt((CloudItem.of("Холодное водоснабжение", D("300.10"), "none", 4, 4),
                        CloudItem.of("Аванс за коммунальные услуги", D("0.50"), "22/122", 3, 10)), phone="+79161234567")
COMPANY = Company("7707083893", "kassa@vodokanal.ru", "usn_income", "https://lk.vodokanal.ru")


def test_a_sale_as_bytes_on_the_wire():
    body = encode_receipt("6f1c0000-0000-4000-8000-000000000001", RECEIPT, COMPANY,
                          datetime(2026, 11, 5, 9, 7, 3, tzinfo=MSK))
    assert json.loads(dumps(body)) == {
        "external_id": "6f1c0000-0000-4000-8000-000000000001", "timestamp": "05.11.2026 09:07:03",
        "receipt": {
            "client": {"phone": "+79161234567"},
            "company": {"email": "kassa@vodokanal.ru", "sno": "usn_income", "inn": "7707083893",
                        "payment_address": "https://lk.vodokanal.ru"},
            "items": [
                {"name": "Холодное водоснабжение", "price": 300.1, "quantity": 1, "sum": 300.1, "measure": 0,
                 "payment_method": "full_payment", "payment_object": 4, "vat": {"type": "none"}},
                {"name": "Аванс за коммунальные услуги", "price": 0.5, "quantity": 1, "sum": 0.5, "measure": 0,
                 "payment_method": "advance", "payment_object": 10, "vat": {"type": "vat122"}}],
            "payments": [{"type": 1, "sum": 300.6}], "total": 300.6}}
    # the amounts read back exactly as the kopecks sent
    assert json.loads(dumps(body), parse_float=D)["receipt"]["total"] == D("300.6")


def test_an_e_mail_buyer_goes_as_the_client_email():
    receipt = CloudReceipt(RECEIPT.items, email="ivanov@mail.ru")
    body = encode_receipt("x", receipt, COMPANY, datetime(2026, 11, 5, tzinfo=MSK))
    assert body["receipt"]["client"] == {"email": "ivanov@mail.ru"}


def test_a_token():
    assert decode_token(200, b'{"token": "abc", "error": null, "timestamp": "24.01.2024 21:04:27"}') == "abc"


def test_a_wrong_login_is_a_settings_error_in_russian():
    with pytest.raises(AtolSettings) as caught:
        decode_token(401, '{"error": {"code": 12, "text": "Неверный логин или пароль", "type": "system"}}'.encode())
    assert caught.value.message == "Неверный логин или пароль АТОЛ Онлайн: Неверный логин или пароль (код 12)"


def test_a_registration():
    reg = decode_registration(200, b'{"uuid": "2ea26f17-0884-4f08-b120-306fc096a58f", "status": "wait", '
                                   b'"error": null, "timestamp": "12.04.2017 20:15:08"}')
    assert (reg.uuid, reg.duplicate) == ("2ea26f17-0884-4f08-b120-306fc096a58f", False)


def test_a_repeated_external_id_gives_the_first_documents_uuid():
    body = json.dumps({"uuid": "9afafa6a-0a00-444d-1a45-12345a12f2ff", "status": "wait", "error": {
        "code": 33, "error_id": "dba2", "type": "system",
        "text": "В системе существует чек с external_id : atol-1 и group_code: g_1"}}, ensure_ascii=False).encode()
    reg = decode_registration(400, body)
    assert (reg.uuid, reg.duplicate) == ("9afafa6a-0a00-444d-1a45-12345a12f2ff", True)


def test_a_validation_error_refuses_the_receipt():
    body = json.dumps({"status": "fail", "error": {"code": 32, "type": "system",
                                                   "text": "Ошибка валидации входного чека. Ошибочные поля : receipt.total"}},
                      ensure_ascii=False).encode()
    with pytest.raises(AtolRefused) as caught:
        decode_registration(400, body)
    assert caught.value.message == ("АТОЛ Онлайн отклонил чек: ошибка в данных чека: Ошибка валидации входного чека. "
                                    "Ошибочные поля : receipt.total (код 32)")


@pytest.mark.parametrize(("status", "body", "kind"), [
    (401, b'{"error": {"code": 11, "text": "x", "type": "system"}}', AtolTokenRejected),
    (401, b'{"error": {"code": 10, "text": "x", "type": "system"}}', AtolTokenRejected),
    (401, b'{"error": {"code": 20, "text": "x", "type": "system"}}', AtolSettings),
    (500, b'{"error": {"code": 50, "text": "x", "type": "system"}}', AtolUnknown),
    (502, b"<html>Bad gateway</html>", AtolUnknown),
    (400, b'{"error": {"code": 31, "text": "x", "type": "system"}}', AtolRefused),
])
def test_what_an_error_means(status, body, kind):
    assert type(error_of(status, body)) is kind


DONE = json.dumps({
    "uuid": "2ea26f17", "error": None, "status": "done", "timestamp": "12.04.2017 20:15:08",
    "payload": {"total": 1598, "fns_site": "www.nalog.ru", "fn_number": "1110000100238211", "shift_number": 23,
                "receipt_datetime": "12.04.2017 20:16:00", "fiscal_receipt_number": 6, "fiscal_document_number": 133,
                "ecr_registration_number": "0000111118041361", "fiscal_document_attribute": 3449555941,
                "ofd_inn": "7709364346", "ofd_receipt_url": "https://consumer.1-ofd.ru/v1?fn=1&fp=2"}}).encode()


def test_a_done_report_gives_the_fiscal_proof():
    report = decode_report(200, DONE, MSK)
    proof = report.proof
    assert report.status == "done" and proof is not None
    assert (proof.fn_number, proof.fd_number, proof.fiscal_sign, proof.total, proof.shift_number,
            proof.receipt_number) == ("1110000100238211", 133, 3449555941, D("1598"), 23, 6)
    assert proof.fiscal_at == datetime(2017, 4, 12, 20, 16, tzinfo=MSK)
    assert proof.payload["ofd_receipt_url"] == "https://consumer.1-ofd.ru/v1?fn=1&fp=2"


def test_a_report_not_ready_yet():
    body = '{"error": {"code": 34, "text": "Состояние чека не найдено. Попробуйте позднее", "type": "system"}, ' \
           '"status": "wait", "timestamp": "12.04.2017 18:58:38"}'
    assert decode_report(200, body.encode(), MSK).status == "wait"


def test_a_failed_report_says_why_in_russian():
    body = json.dumps({"uuid": "f0269dc9", "status": "fail", "payload": None, "error": {
        "code": 2009, "type": "agent",
        "text": "ИНН, указанный в чеке 1234567891, не соответствует ИНН группы касс 5544332219."}},
        ensure_ascii=False).encode()
    report = decode_report(200, body, MSK)
    assert report.status == "fail" and report.error is not None
    assert report.error.message == ("Касса не зарегистрировала чек: ИНН, указанный в чеке 1234567891, не "
                                    "соответствует ИНН группы касс 5544332219. (код 2009)")


def test_a_done_report_with_a_broken_payload_is_not_taken():
    data = json.loads(DONE)
    data["payload"]["fn_number"] = "123"
    with pytest.raises(AtolUnknown):
        decode_report(200, json.dumps(data).encode(), MSK)
