"""1C «client-bank» statements: the public samples (tests/data/bank-1c-clientbank, see SOURCES.md) as ground
truth, windows-1251 bytes, and refused documents with line numbers."""

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from aquabill.channels.bank_files import BankFileError, parse_statement
from aquabill.channels.bank_files.common import checksum

DATA = Path(__file__).resolve().parents[2] / "data" / "bank-1c-clientbank"
SAMPLES = sorted(DATA.glob("xini1_*.txt"))


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_all_samples_are_there():
    assert [p.name for p in SAMPLES] == [
        "xini1_1CClientBankExchange.txt", "xini1_sample1.txt", "xini1_sample2.txt", "xini1_sample3.txt",
        "xini1_sample4.txt", "xini1_sample5.txt"]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("encoding", ["utf-8", "cp1251"])
def test_every_sample_parses_without_errors(path, encoding):
    data = path.read_bytes().decode("utf-8").encode(encoding)
    statement = parse_statement(data)
    assert statement.encoding == encoding and not statement.errors and statement.documents
    assert statement.checksum == checksum(data)
    assert all(d.amount > 0 and d.number and d.payer.inn and d.recipient.inn for d in statement.documents)


def test_document_counts_match_the_sources_note():
    kinds = [d.kind for p in SAMPLES for d in parse_statement(p.read_bytes()).documents]
    assert kinds.count("Платежное поручение") == 11 and kinds.count("Платежное требование") == 1


def test_realistic_payment_order():
    statement = parse_statement(_read("xini1_1CClientBankExchange.txt"))
    assert statement.version == "1.03" and statement.accounts == ("40702810300180001774",)
    assert statement.header["Отправитель"] == "Бухгалтерия предприятия, редакция 3.0"
    (doc,) = statement.documents
    assert (doc.kind, doc.number, doc.date, doc.amount) == (
        "Платежное поручение", "105", date(2015, 12, 9), D("12354.00"))
    assert (doc.payer.account, doc.payer.inn, doc.payer.kpp, doc.payer.name) == (
        "40702810300180001774", "7719617469", "771901001", "ОАО Крокус")
    assert (doc.payer.bank_bic, doc.payer.bank_name, doc.payer.bank_corr_account) == (
        "044525311", "АО ОТП БАНК", "30101810000000000311")
    assert (doc.recipient.account, doc.recipient.inn, doc.recipient.kpp, doc.recipient.name) == (
        "40702810123111111114", "7701325469", "", "ОАО Прогресс Парк")
    assert doc.purpose == "Оплата по договору. Сумма 12354-00 без налога (НДС)"
    assert doc.fields["Очередность"] == "5" and doc.line == 22
    assert not doc.is_incoming_to("40702810300180001774") and statement.incoming() == ()
    # the synthetic account section does not add up (100 + 100.02 − 100.00 ≠ 100.99): a warning only
    (section,) = statement.sections
    assert section.balanced is False and section.closing_balance == D("100.99")
    assert "не сходятся" in statement.warnings[0].message


def test_sample1_all_fields_and_two_account_sections():
    statement = parse_statement(_read("xini1_sample1.txt"))
    assert [s.account for s in statement.sections] == ["12345678901234567890", "12345678901234567891"]
    assert all(s.balanced for s in statement.sections) and not statement.warnings
    order, demand = statement.documents
    assert (order.kind, demand.kind) == ("Платежное поручение", "Платежное требование")
    assert (order.received_on, order.written_off_on) == (date(2020, 1, 1), date(2020, 1, 1))
    assert (order.payer.name, order.recipient.name) == ("Плательщик1", "Получатель1")
    assert order.purpose == "НазначениеПлатежа"
    assert order.is_incoming_to("12345678901234567890") and len(statement.incoming()) == 2


def test_sample2_is_version_101_and_has_the_uin_code():
    statement = parse_statement(_read("xini1_sample2.txt"))
    (doc,) = statement.documents
    assert statement.version == "1.01" and doc.fields["Код"] == "2021730100412217000244871"
    assert (doc.payer.inn, doc.payer.kpp, doc.recipient.kpp) == ("7707049388", "770545001", "774550001")
    assert doc.amount == D("0.01")


def test_sample5_six_orders_in_file_order():
    statement = parse_statement(_read("xini1_sample5.txt"))
    assert [d.number for d in statement.documents] == ["2335", "2322", "2991", "2349", "2451", "2930"]
    assert statement.documents[0].purpose == "НДФЛ Август 2021 Не облагается НДС"
    assert sum(d.amount for d in statement.documents) == D("0.06")


HEAD = "1CClientBankExchange\nВерсияФормата=1.03\nКодировка=Windows\nРасчСчет=40702810000000000001\n"
DOC = ("СекцияДокумент=Платежное поручение\nНомер={number}\nДата={day}\nСумма={amount}\n"
       "ПлательщикИНН={inn}\nПлательщик1=ООО Ромашка\nПлательщикСчет=40702810900000000002\n"
       "ПолучательСчет=40702810000000000001\nПолучательИНН=4700000000\nПолучатель1=МУП Водоканал\n"
       "ДатаПоступило={day}\nНазначениеПлатежа=Оплата по договору 15/В за 11.2026\nКонецДокумента\n")


def _doc(number="1", day="01.12.2026", amount="1500.00", inn="7800000000") -> str:
    return DOC.format(number=number, day=day, amount=amount, inn=inn)


def test_bad_documents_are_refused_with_line_numbers_and_good_ones_kept():
    text = (HEAD + _doc("1") + _doc("2", day="32.12.2026") + _doc("3", amount="1 500,00")
            + _doc("4", inn="78000") + _doc("", amount="0") + _doc("6") + "КонецФайла\n")
    statement = parse_statement(text.encode("cp1251"))
    assert statement.encoding == "cp1251"
    assert [d.number for d in statement.documents] == ["1", "6"]
    assert statement.incoming() == statement.documents
    assert statement.documents[0].received_on == date(2026, 12, 1)
    messages = [(e.line, e.message) for e in statement.errors]
    assert messages[0] == (20, "документ «Платежное поручение» № 2 (строка 18) не принят: "
                               "поле «Дата»: дата «32.12.2026» не существует")
    assert messages[1][0] == 28 and "поле «ДатаПоступило»" in messages[1][1]
    assert messages[2][0] == 34 and "поле «Сумма»: сумма «1 500,00» не число" in messages[2][1]
    assert messages[3][0] == 48 and "поле «ПлательщикИНН»: «78000» — не 10 или 12 цифр" in messages[3][1]
    assert messages[4:] == [
        (58, "документ «Платежное поручение» (строка 57) не принят: не заполнено поле «Номер»"),
        (60, "документ «Платежное поручение» (строка 57) не принят: сумма документа 0.00 должна быть больше нуля"),
    ]
    assert statement.errors[2].text == "Сумма=1 500,00"


def test_unclosed_document_and_truncated_file():
    text = HEAD + _doc("1").replace("КонецДокумента\n", "") + _doc("2")
    statement = parse_statement(text.encode("cp1251"))
    assert [d.number for d in statement.documents] == ["2"]
    assert statement.errors[0].line == 5 and "не закрыт строкой «КонецДокумента»" in statement.errors[0].message
    assert "нет строки «КонецФайла»" in statement.warnings[-1].message


def test_garbage_line_inside_a_document_refuses_it():
    text = HEAD + _doc("1").replace("Номер=1\n", "Номер=1\nмусор\n") + "КонецФайла\n"
    statement = parse_statement(text.encode("cp1251"))
    assert not statement.documents and statement.errors[0].line == 7
    assert "строка не вида «Ключ=Значение»" in statement.errors[0].message


def test_dos_encoding_is_honoured():
    text = (HEAD + _doc("1") + "КонецФайла\n").replace("Кодировка=Windows", "Кодировка=DOS")
    statement = parse_statement(text.encode("cp866"))
    assert statement.encoding == "cp866" and statement.documents[0].payer.name == "ООО Ромашка"


@pytest.mark.parametrize("data", [b"", b"\n\n", "ВерсияФормата=1.03\n".encode("cp1251"), b"<xml/>"])
def test_not_an_exchange_file(data):
    with pytest.raises(BankFileError, match="Это не файл обмена 1С"):
        parse_statement(data)
