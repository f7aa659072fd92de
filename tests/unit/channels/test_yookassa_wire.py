"""The ЮKassa wire format (pure): what we send, how answers, errors and notifications are read."""

import json
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from aquabill.channels.acquiring.yookassa import (
    decode_error,
    decode_payment,
    decode_refund,
    encode_payment,
    encode_refund,
    parse_notification,
)
from aquabill.subscribers.acquirer import (
    AcquirerRefused,
    AcquirerUnknown,
    PaymentOrder,
    Receipt,
    ReceiptItem,
    RefundOrder,
)

RECEIPT = Receipt((ReceiptItem("Холодное водоснабжение", D("300.00"), "none"),
                   ReceiptItem("Аванс", D("0.50"), "22/122", "advance", "payment")), phone="79161234567", tax_system=2)


def test_a_payment_request_as_the_api_takes_it():
    order = PaymentOrder("6f1c", D("300.5"), "Оплата, л/с 100", "https://lk.example/pay/return/6f1c",
                         {"tenant": "v1", "account": "100", "attempt_id": "6f1c"}, RECEIPT)
    assert json.loads(json.dumps(encode_payment(order), ensure_ascii=False)) == {
        "amount": {"value": "300.50", "currency": "RUB"}, "capture": True,
        "confirmation": {"type": "redirect", "return_url": "https://lk.example/pay/return/6f1c"},
        "description": "Оплата, л/с 100", "metadata": {"tenant": "v1", "account": "100", "attempt_id": "6f1c"},
        "receipt": {"customer": {"phone": "79161234567"}, "tax_system_code": 2, "items": [
            {"description": "Холодное водоснабжение", "quantity": "1.00",
             "amount": {"value": "300.00", "currency": "RUB"}, "vat_code": 1, "payment_mode": "full_payment",
             "payment_subject": "service"},
            {"description": "Аванс", "quantity": "1.00", "amount": {"value": "0.50", "currency": "RUB"},
             "vat_code": 12, "payment_mode": "advance", "payment_subject": "payment"}]}}


def test_a_refund_request_without_receipt():
    assert encode_refund(RefundOrder("k", "2c5b", D("100"), "Возврат")) == {
        "payment_id": "2c5b", "amount": {"value": "100.00", "currency": "RUB"}, "description": "Возврат"}


PAYMENT = b"""{"id": "22e12f66-000f-5000-8000-18db351245c7", "status": "succeeded", "paid": true,
 "amount": {"value": "1234.56", "currency": "RUB"}, "captured_at": "2026-11-25T10:51:18.139Z",
 "metadata": {"tenant": "v1", "attempt_id": "a"}, "test": false, "refundable": true}"""


def test_a_payment_object_is_read():
    p = decode_payment(json.loads(PAYMENT))
    assert (p.id, p.status, p.amount, p.currency, p.paid, p.metadata) == (
        "22e12f66-000f-5000-8000-18db351245c7", "succeeded", D("1234.56"), "RUB", True, {"tenant": "v1", "attempt_id": "a"})
    assert p.captured_at == datetime(2026, 11, 25, 10, 51, 18, 139000, tzinfo=UTC)


def test_a_canceled_payment_keeps_its_reason():
    p = decode_payment({"id": "x1", "status": "canceled", "amount": {"value": "5.00", "currency": "RUB"},
                        "cancellation_details": {"party": "payment_network", "reason": "insufficient_funds"}})
    assert (p.cancel_party, p.cancel_reason) == ("payment_network", "insufficient_funds")


@pytest.mark.parametrize("data", [None, [], {"status": "succeeded"}, {"id": "../x", "amount": {"value": "1.00"}},
                                  {"id": "x", "amount": {"value": "abc"}}])
def test_a_malformed_answer_is_an_unknown_result(data):
    with pytest.raises(AcquirerUnknown):
        decode_payment(data)


def test_a_refund_object_is_read():
    r = decode_refund({"id": "r1", "payment_id": "p1", "status": "succeeded",
                       "amount": {"value": "10.00", "currency": "RUB"}})
    assert (r.id, r.payment_id, r.status, r.amount) == ("r1", "p1", "succeeded", D("10.00"))


@pytest.mark.parametrize("status, body, kind, code", [
    (500, b'{"type": "error", "code": "internal_server_error"}', AcquirerUnknown, "internal_server_error"),
    (429, b'{"type": "error", "code": "too_many_requests"}', AcquirerUnknown, "too_many_requests"),
    (502, b"<html>bad gateway</html>", AcquirerUnknown, ""),
    (401, b'{"type": "error", "code": "invalid_credentials", "description": "Basic auth failed"}', AcquirerRefused,
     "invalid_credentials"),
    (400, b'{"type": "error", "code": "invalid_request", "description": "Bad amount", "parameter": "amount.value"}',
     AcquirerRefused, "invalid_request"),
    (403, b"", AcquirerRefused, "http_403"),
])
def test_errors(status, body, kind, code):
    error = decode_error(status, body)
    assert isinstance(error, kind) and error.code == code


def test_an_error_message_says_why_in_russian():
    error = decode_error(400, b'{"code": "invalid_request", "description": "Bad amount", "parameter": "amount.value"}')
    assert error.message == "ЮKassa отклонила запрос: Bad amount (параметр amount.value)"


def test_a_notification_gives_only_its_event_and_object_id():
    body = b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "2c5b", "status": "succeeded"}}'
    assert parse_notification(body) == ("payment.succeeded", "payment", "2c5b")
    assert parse_notification(body.replace(b"payment.succeeded", b"refund.succeeded"))[1] == "refund"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"type": "x", "event": "payment.succeeded"}',
                                  b'{"type": "notification", "event": "deal.closed", "object": {"id": "1"}}',
                                  b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "a/b"}}',
                                  b'{"type": "notification", "event": "payment.succeeded"}'])
def test_what_is_not_a_notification_is_refused(body):
    with pytest.raises(ValueError):
        parse_notification(body)
