"""The exchange file's name (@ИдФайл), deterministic GUIDs and the next invoice number."""

from datetime import date
from uuid import UUID

import pytest

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd.naming import (
    MARKED_GOODS_FLAGS,
    FileId,
    document_guid,
    make_file_id,
    next_number,
    parse_file_id,
)

SAMPLE = "ON_NSCHFDOPPR_2LT-600072763_2LT-600070554_20260817_a52bb884-0009-4984-a002-39e9cc326cd4_0_1_0_0_0_00"


def test_parse_the_real_sample_name():
    assert parse_file_id(SAMPLE + ".xml") == FileId("2LT-600072763", "2LT-600070554", date(2026, 8, 17),
                                                    UUID("a52bb884-0009-4984-a002-39e9cc326cd4"), MARKED_GOODS_FLAGS)
    assert str(parse_file_id(SAMPLE)) == SAMPLE


def test_make_file_id():
    file_id = make_file_id("2LT-5003001114", "2BM-7701123451", date(2026, 2, 3),
                           UUID("0b6c1b2e-9a57-4c1e-8f61-3d1c2a9e7f10"))
    assert file_id.file_name == ("ON_NSCHFDOPPR_2LT-5003001114_2BM-7701123451_20260203_"
                                 "0b6c1b2e-9a57-4c1e-8f61-3d1c2a9e7f10_0_0_0_0_0_00.xml")


@pytest.mark.parametrize(("recipient", "sender", "field"), [
    ("", "2BM-7701123451", "buyer.edo_id"),
    ("2LT_5003001114", "2BM-7701123451", "buyer.edo_id"),
    ("2LT-5003001114", "2BM", "seller.edo_id"),
    ("2LT-5003001114", "2BM-" + "7" * 43, "seller.edo_id"),
])
def test_bad_participant_ids(recipient, sender, field):
    """Each id refused names its side; an empty one says that the file name needs it."""
    with pytest.raises(Invalid) as exc:
        make_file_id(recipient, sender, date(2026, 2, 3))
    assert exc.value.field == field


@pytest.mark.parametrize(("name", "message"), [
    ("ON_SCHFDOPPR_2LT-1_2LT-2_20260817_a52bb884-0009-4984-a002-39e9cc326cd4",
     "Идентификатор файла «ON_SCHFDOPPR_2LT-1_2LT-2_20260817_a52bb884-0009-4984-a002-39e9cc326cd4» не соответствует "
     "шаблону ON_NSCHFDOPPR_<получатель>_<отправитель>_<ГГГГММДД>_<GUID>_<признаки>"),
    (SAMPLE.replace("20260817", "20260231"), f"Идентификатор файла «{SAMPLE.replace('20260817', '20260231')}»: "
                                             "дата 20260231 не существует"),
])
def test_bad_file_ids(name, message):
    with pytest.raises(Invalid) as exc:
        parse_file_id(name)
    assert exc.value.message == message


def test_document_guid_is_stable():
    assert document_guid("demo/upd/42/v1") == document_guid("demo/upd/42/v1")
    assert document_guid("demo/upd/42/v1") != document_guid("demo/upd/42/v2")
    assert document_guid("demo/upd/42/v1").version == 5


@pytest.mark.parametrize(("last", "prefix", "width", "expected"), [
    (None, "", 0, "1"), (None, "ВК-", 4, "ВК-0001"), ("ВК-0041", "", 0, "ВК-0042"), ("ВК-0999", "", 0, "ВК-1000"),
    ("17/2", "", 0, "17/3"), ("9", "", 0, "10"),
])
def test_next_number(last, prefix, width, expected):
    assert next_number(last, prefix=prefix, width=width) == expected


def test_next_number_needs_a_numeric_tail():
    with pytest.raises(Invalid) as exc:
        next_number("ВК-А")
    assert exc.value.message == "Номер «ВК-А» не оканчивается цифрами: следующий номер не определить"


def test_missing_participant_id_message():
    with pytest.raises(Invalid) as exc:
        make_file_id("2LT-5003001114", " ", date(2026, 2, 3))
    assert exc.value.message == ("Не указан идентификатор участника ЭДО продавца (отправителя): без него не составить "
                                 "имя файла УПД")
