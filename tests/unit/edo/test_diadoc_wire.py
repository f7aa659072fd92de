"""The Diadoc client's pure parts: the operator's document → our status, HTTP errors → Russian refusals of the
right kind, the development signer's detached CMS, and the fake's checks of a posted file."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import pkcs7

from aquabill.channels.edo.diadoc import (
    DiadocRefused,
    DiadocSettings,
    DiadocUnknown,
    DocumentState,
    document_state,
    refusal,
)
from aquabill.channels.edo.runner import document_type
from aquabill.channels.edo.signer import DevelopmentSigner
from aquabill.devserver.fakes.diadoc import Refusal, check_xml

FILE_ID = "ON_NSCHFDOPPR_2BM-5003001114_2BM-7701123451-770101001000_20260203_0f8fad5b-d9cb-469f-a165-70867728950e_0_0_0_0_0_00"


def xml(file_id: str = FILE_ID, root: str = "Файл", encoding: str = "windows-1251") -> bytes:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n<{root} ИдФайл="{file_id}" ВерсФорм="5.03"/>'.encode(
        "cp1251" if encoding == "windows-1251" else "utf-8")


@pytest.mark.parametrize(("doc", "state"), [
    ({"DeliveryTimestampTicks": 0, "RecipientResponseStatus": "WaitingForRecipientSignature"}, DocumentState("sent")),
    ({"DeliveryTimestampTicks": 638999, "RecipientResponseStatus": "WaitingForRecipientSignature"},
     DocumentState("delivered")),
    ({"DeliveryTimestampTicks": 638999, "RecipientResponseStatus": "WithRecipientSignature"}, DocumentState("signed")),
    ({"RecipientResponseStatus": "WithRecipientPartiallySignature"}, DocumentState("signed")),
    ({"RecipientResponseStatus": "RecipientSignatureRequestRejected",
      "DocflowStatus": {"PrimaryStatus": {"StatusHint": "Не тот объём"}}}, DocumentState("rejected", "Не тот объём")),
    ({"RecipientResponseStatus": "RecipientSignatureRequestRejected"},
     DocumentState("rejected", "Покупатель отказал в подписи")),
])
def test_document_state(doc, state):
    assert document_state(doc) == state


def test_refusals_by_status():
    assert isinstance(refusal(500, b"boom"), DiadocUnknown)
    assert isinstance(refusal(401, b""), DiadocSettings)
    assert isinstance(refusal(402, b""), DiadocSettings)
    bad = refusal(400, "Ящик получателя не найден".encode())
    assert type(bad) is DiadocRefused
    assert bad.message == "Диадок отклонил запрос как неверный: Ящик получателя не найден"
    assert refusal(409, b"").message == "Диадок отклонил сообщение: это дубликат, или контрагент не принимает документы"


def test_document_types():
    assert document_type({"kind": "upd", "function": "СЧФДОП"}) == (
        "UniversalTransferDocument", "СЧФДОП", "utd970_05_03_01")
    assert document_type({"kind": "act", "function": ""})[1] == "ДОП"
    assert document_type({"kind": "ukd", "function": ""})[:2] == ("UniversalCorrectionDocument", "КСЧФДИС")


def test_development_signer_makes_a_detached_der_cms():
    signer = DevelopmentSigner()
    signature = signer.sign(b"<xml/>")
    assert signature[0] == 0x30  # a DER SEQUENCE
    assert b"<xml/>" not in signature  # detached: the content is not inside
    (certificate,) = pkcs7.load_der_pkcs7_certificates(signature)
    assert certificate.subject.rfc4514_string() == "CN=Aquabill TEST signature - NOT legally valid"
    assert signer.legally_valid is False


def test_fake_checks_the_posted_file():
    check_xml(xml(), "2BM-5003001114", "2BM-7701123451-770101001000")
    with pytest.raises(Refusal, match="windows-1251"):
        check_xml(xml(encoding="utf-8"), "2BM-5003001114", "2BM-7701123451-770101001000")
    with pytest.raises(Refusal, match="Корневой элемент"):
        check_xml(xml(root="Документ"), "2BM-5003001114", "2BM-7701123451-770101001000")
    with pytest.raises(Refusal, match="называет получателя 2BM-5003001114"):
        check_xml(xml(), "2BM-0000000000", "2BM-7701123451-770101001000")
    with pytest.raises(Refusal, match="не соответствует формату"):
        check_xml(xml(file_id="ON_X"), "2BM-5003001114", "2BM-7701123451-770101001000")


def test_retry_delay_doubles_up_to_an_hour():
    from aquabill.legal_entities.edo import retry_delay

    assert [retry_delay(n) for n in (1, 2, 3, 4, 6, 7, 8, 30)] == [60, 120, 240, 480, 1920, 3600, 3600, 3600]
