"""GOST R 56042-2014 payment strings: the public sample strings of the reference
(/work/shared/reference/payment-qr/FIELDS-AND-SAMPLES.md, copied verbatim here), encodings, errors, building."""

from decimal import Decimal as D

import pytest

from aquabill.billing_core.payments import (
    ManualPaymentHint,
    QrEncoding,
    QrError,
    build_payment_string,
    encode_payment_string,
    parse_payment_period,
    parse_payment_string,
    payment_hint,
)
from aquabill.billing_core.periods import Period

SAMPLE_1 = ("ST00012|Name=ООО «Три кита»|PersonalAcc=40702810138250123017|BankName=ОАО \"БАНК\"|BIC=044525225|"
            "CorrespAcc=30101810400000000225|PayeeINN=6200098765|LastName=Иванов|FirstName=Иван|"
            "MiddleName=Иванович|Purpose=Оплата членского взноса|PayerAddress=г.Рязань ул.Ленина д.10 кв.15|"
            "Sum=100000")
SAMPLE_2 = ("ST00012|Name=ИП Богданов Александр Сергеевич|PersonalAcc=40802810700020000317|"
            "BankName=ОАО АКБ «АВАНГАРД»|BIC=044525201|CorrespAcc=30101810000000000201")
SAMPLE_3 = ("ST00012|Name=ООО \"АйТи Компания\"|PersonalAcc=12345678901234567890|"
            "BankName=ОТДЕЛЕНИЕ №1234 ПАО БАНК|BIC=012345678|CorrespAcc=30101810400000000601|")
MANDATORY = "Name=МУП Водоканал|PersonalAcc=40702810000000000001|BankName=ПАО СБЕРБАНК|BIC=044030653|CorrespAcc=0"
RECEIPT = f"ST00012|{MANDATORY}|PayeeINN=4700000000|KPP=470001001|PersAcc=0000101|PaymPeriod=112026|Sum=123456"


def test_sample_1_with_the_payer_and_sum():
    qr = parse_payment_string(SAMPLE_1)
    assert qr.encoding is QrEncoding.UTF8 and qr.separator == "|" and qr.mandatory_first
    assert (qr.name, qr.personal_acc, qr.bic) == ("ООО «Три кита»", "40702810138250123017", "044525225")
    assert qr.get("BankName") == 'ОАО "БАНК"' and qr.get("PayeeINN") == "6200098765"
    assert qr.amount == D("1000.00") and qr.payer_name == "Иванов Иван Иванович"
    assert qr.pers_acc == "" and qr.period is None
    assert payment_hint(qr) == ManualPaymentHint(None, None, D("1000.00"), "Иванов Иван Иванович",
                                                 "Оплата членского взноса")


@pytest.mark.parametrize("text", [SAMPLE_2, SAMPLE_3])
def test_mandatory_only_samples_and_a_trailing_separator(text):
    qr = parse_payment_string(text)
    assert [k for k, _ in qr.fields] == ["Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc"]
    assert qr.amount is None and qr.mandatory_first


def test_receipt_gives_account_period_and_amount_of_a_manual_payment():
    hint = payment_hint(parse_payment_string(RECEIPT))
    assert (hint.account, hint.period, hint.amount) == ("0000101", Period(2026, 11), D("1234.56"))


@pytest.mark.parametrize("sample", [SAMPLE_1, SAMPLE_2, SAMPLE_3, RECEIPT])
def test_building_from_parsed_fields_gives_the_same_string(sample):
    qr = parse_payment_string(sample)
    assert build_payment_string(qr.as_dict()) == sample.rstrip("|")


@pytest.mark.parametrize("encoding, header", [(QrEncoding.CP1251, "ST00011"), (QrEncoding.UTF8, "ST00012"),
                                              (QrEncoding.KOI8R, "ST00013")])
def test_bytes_are_decoded_by_the_header_digit(encoding, header):
    text = header + RECEIPT[7:]
    data = encode_payment_string(text)
    assert data == text.encode(encoding.codec)
    qr = parse_payment_string(data)
    assert qr.encoding is encoding and qr.name == "МУП Водоканал" and qr.period == Period(2026, 11)


def test_koi8r_cannot_carry_guillemets():
    with pytest.raises(QrError, match="символ ««» не представим в кодировке koi8-r"):
        encode_payment_string("ST00013" + SAMPLE_1[7:])


def test_cp1251_bytes_of_st00011():
    text = "ST00011" + RECEIPT[7:]
    qr = parse_payment_string(text.encode("cp1251"))
    assert qr.encoding is QrEncoding.CP1251 and qr.name == "МУП Водоканал" and qr.pers_acc == "0000101"
    with pytest.raises(QrError, match="не в кодировке utf-8"):
        parse_payment_string(("ST00012" + RECEIPT[7:]).encode("cp1251"))


def test_build_from_domain_values_puts_mandatory_keys_first():
    text = build_payment_string({
        "PersAcc": "0000101", "Sum": D("1234.56"), "PaymPeriod": Period(2026, 11), "Purpose": "",
        "CorrespAcc": "0", "BIC": "044030653", "BankName": "ПАО СБЕРБАНК", "Name": "МУП Водоканал",
        "PersonalAcc": "40702810000000000001", "TechCode": "02",
    }, encoding=QrEncoding.CP1251)
    assert text == f"ST00011|{MANDATORY}|PersAcc=0000101|Sum=123456|PaymPeriod=112026|TechCode=02"


@pytest.mark.parametrize("fields, message", [
    ({"Sum": D("1.005")}, "с точностью до копеек"),
    ({"Sum": D("-1")}, "неотрицательной"),
    ({"Sum": 100}, "значение 100 не строка"),
    ({"Purpose": "a|b"}, "содержит разделитель"),
    ({"Bad key": "x"}, "недопустимое имя реквизита"),
    ({"PersonalAcc": ""}, "нет обязательных реквизитов: PersonalAcc"),
    ({"BIC": "04403065"}, "BIC (БИК банка) «04403065»: нужно 9 цифр"),
])
def test_build_refuses_bad_values(fields, message):
    base = dict(parse_payment_string(f"ST00012|{MANDATORY}").as_dict())
    with pytest.raises(QrError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_payment_string({**base, **fields})


def test_build_refuses_characters_outside_cp1251():
    base = parse_payment_string(f"ST00012|{MANDATORY}").as_dict()
    with pytest.raises(QrError, match="не представим в кодировке cp1251"):
        build_payment_string({**base, "Purpose": "оплата 🚰"}, encoding=QrEncoding.CP1251)


@pytest.mark.parametrize("text, message", [
    ("", "не начинается с «ST0001»"),
    ("https://example.org/pay", "не начинается с «ST0001»"),
    ("ST00012", "обрывается на заголовке"),
    ("ST00024|" + MANDATORY, "версия формата «0002» не поддерживается"),
    ("ST00019|" + MANDATORY, "кодировка «9» не из 1"),
    ("ST00012Name=X", "ожидается разделитель"),
    ("ST00012|Name=X", "нет обязательных реквизитов: PersonalAcc (счёт получателя), BankName"),
    ("ST00012|" + MANDATORY.replace("Name=МУП Водоканал", "Name="), "нет обязательных реквизитов: Name"),
    ("ST00012|" + MANDATORY + "|Sum=12.50", "Sum «12.50»: сумма указывается в копейках"),
    ("ST00012|" + MANDATORY + "|PaymPeriod=132026", "PaymPeriod: период «132026» не распознан"),
    ("ST00012|" + MANDATORY + "|PayeeINN=123", "PayeeINN (ИНН получателя) «123»: нужно 10 или 12 цифр"),
    ("ST00012|" + MANDATORY.replace("PersonalAcc=40702810000000000001", "PersonalAcc=4070281"),
     "PersonalAcc (счёт получателя) «4070281»: нужно 20 цифр"),
    ("ST00012|" + MANDATORY + "|Sum=1|Sum=2", "реквизит «Sum» повторяется"),
    ("ST00012|" + MANDATORY + "|просто текст", "реквизит 6 «просто текст» не вида «Ключ=Значение»"),
])
def test_bad_strings_are_refused_with_russian_reasons(text, message):
    with pytest.raises(QrError) as exc:
        parse_payment_string(text)
    assert any(message in p for p in exc.value.problems), exc.value.problems
    assert str(exc.value).startswith("QR-код оплаты не принят: ")


def test_lenient_where_bank_apps_are():
    reordered = "ST00012|Sum=100|" + MANDATORY + "|UnknownKey=x||"
    qr = parse_payment_string(reordered + "\r\n")
    assert not qr.mandatory_first and qr.amount == D("1.00") and qr.get("UnknownKey") == "x"
    assert parse_payment_string("\ufeff" + RECEIPT).pers_acc == "0000101"
    assert parse_payment_string(RECEIPT.replace("|", "#")).separator == "#"


@pytest.mark.parametrize("raw, period", [
    ("112026", Period(2026, 11)), ("1126", Period(2026, 11)), ("11.2026", Period(2026, 11)),
    ("1/2027", Period(2027, 1)), ("11.26", Period(2026, 11)), ("2026-11", Period(2026, 11)),
])
def test_payment_periods(raw, period):
    assert parse_payment_period(raw) == period


@pytest.mark.parametrize("raw", ["", "13.2026", "002026", "2026", "ноябрь 2026", "11.2026.1"])
def test_bad_payment_periods(raw):
    with pytest.raises(ValueError, match="не распознан"):
        parse_payment_period(raw)
