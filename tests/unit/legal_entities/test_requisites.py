"""Requisites' checksums on real numbers (the reference bank statements and UPD sample, tests/data) and on
broken ones: each broken number is refused with its own Russian reason."""

import pytest

from aquabill.base.errors import Invalid
from aquabill.legal_entities import requisites as r

# Organisations and their banks from tests/data/bank-1c-clientbank (real exports) and tests/data/fns-upd.
REAL_INN10 = ["7719617469", "7707049388", "7722698789", "5753029294", "1650136610", "2635028348",
              "3819023623", "7415005658", "7740000076", "7842000011", "7804431521", "7805781663", "7707083893"]
REAL_INN12 = ["500100732259", "773370857141"]
REAL_ACCOUNTS = [  # (BIC, settlement account)
    ("044525311", "40702810300180001774"), ("044525352", "40702810123111111114"),
    ("044525555", "40706810900000064381"), ("044525225", "40702810938120061991"),
    ("042202603", "40702810942020002415"), ("044525225", "40821810840020000005"),
    ("049205603", "40821810462000000144"), ("044525187", "40702810800030005413"),
    ("015402901", "03100643000000015400"),  # a treasury account at a TOFK: not keyed
]
REAL_CORR = [("044525311", "30101810000000000311"), ("044525352", "30101810700000000352"),
             ("044525555", "30101810400000000555"), ("042202603", "30101810900000000603"),
             ("049205603", "30101810600000000603"), ("044525187", "30101810700000000187"),
             ("044525232", "30101810600000000232")]
# Treasury bodies (TOFK, BIC 01…) and their single treasury accounts (ЕКС 40102…), as the recipients' banks of the
# reference 1CClientBankExchange samples (sample3; sample5 ×4). The ЕКС is opened at a Bank of Russia division,
# so its key is computed over "0" + BIC digits 5–6; all but the first fail a key over the BIC's last 3 digits.
REAL_TREASURY_CORR = [("015402901", "40102810545370000046"),  # УФК по Орловской области
                      ("010702101", "40102810345370000013"),  # УФК по Ставропольскому краю
                      ("012520101", "40102810145370000026"),  # УФК по Иркутской области
                      ("017501500", "40102810645370000062"),  # УФК по Челябинской области
                      ("014030106", "40102810945370000005")]  # УФК по г. Санкт-Петербургу


@pytest.mark.parametrize("inn", REAL_INN10 + REAL_INN12)
def test_real_inn_is_accepted(inn):
    assert r.check_inn(f" {inn[:4]} {inn[4:]} ") == inn


@pytest.mark.parametrize(("inn", "message"), [
    ("7719617468", "ИНН «7719617468»: неверное контрольное число"),
    # the recipient of xini1_1CClientBankExchange.txt: a made-up INN in an otherwise real-looking export
    ("7701325469", "ИНН «7701325469»: неверное контрольное число"),
    ("500100732258", "ИНН «500100732258»: неверные контрольные числа"),
    ("500100732269", "ИНН «500100732269»: неверные контрольные числа"),
    ("77196174", "ИНН «77196174» должен состоять из 10 (организация) или 12 (ИП, физическое лицо) цифр"),
    ("77196174AB", "ИНН «77196174AB» должен состоять из 10 (организация) или 12 (ИП, физическое лицо) цифр"),
    ("0019617469", "ИНН «0019617469» не может начинаться с «00»"),
    ("", "ИНН не указан"),
])
def test_broken_inn_is_refused(inn, message):
    with pytest.raises(Invalid) as exc:
        r.check_inn(inn, field="buyer.inn")
    assert (exc.value.message, exc.value.field) == (message, "buyer.inn")


def test_inn_length_is_demanded_when_asked():
    with pytest.raises(Invalid) as exc:
        r.check_inn("500100732259", length=10)
    assert exc.value.message == "ИНН организации должен состоять из 10 цифр, указано 12: «500100732259»"


@pytest.mark.parametrize("kpp", ["771901001", "770545001", "780501001", "7705AB001", "770501001"])
def test_kpp_is_accepted(kpp):
    assert r.check_kpp(kpp.lower()) == kpp


@pytest.mark.parametrize(("kpp", "reason"), [
    ("77190100", "КПП «77190100» должен состоять из 9 знаков"),
    ("001901001", "не соответствует формату"),
    ("7719010A1", "не соответствует формату"),
    ("7719АБ001", "не соответствует формату"),  # Cyrillic letters
])
def test_broken_kpp_is_refused(kpp, reason):
    with pytest.raises(Invalid) as exc:
        r.check_kpp(kpp)
    assert reason in exc.value.message


@pytest.mark.parametrize("ogrn", ["1027700198767", "1027700132195", "1027739609391", "1037739010891"])
def test_real_ogrn(ogrn):
    assert r.check_ogrn(ogrn) == ogrn


@pytest.mark.parametrize("ogrnip", ["304500116000157", "304463210700212", "316861700133226"])
def test_real_ogrnip(ogrnip):
    assert r.check_ogrnip(ogrnip) == ogrnip


@pytest.mark.parametrize(("check", "value", "message"), [
    (r.check_ogrn, "1027700198768", "ОГРН «1027700198768»: неверное контрольное число"),
    (r.check_ogrn, "102770019876", "ОГРН «102770019876» должен состоять из 13 цифр"),
    (r.check_ogrnip, "304500116000158", "ОГРНИП «304500116000158»: неверное контрольное число"),
    (r.check_ogrnip, "1027700198767", "ОГРНИП «1027700198767» должен состоять из 15 цифр"),
])
def test_broken_registration_numbers(check, value, message):
    with pytest.raises(Invalid) as exc:
        check(value)
    assert exc.value.message == message


@pytest.mark.parametrize(("bic", "account"), REAL_ACCOUNTS)
def test_real_settlement_accounts(bic, account):
    assert r.check_account(account, bic) == account


@pytest.mark.parametrize(("bic", "account"), REAL_CORR + REAL_TREASURY_CORR)
def test_real_correspondent_accounts(bic, account):
    assert r.check_corr_account(account, bic) == account


@pytest.mark.parametrize(("bic", "account"), REAL_TREASURY_CORR)
def test_a_treasury_account_with_another_key_digit_is_refused(bic, account):
    broken = account[:8] + str((int(account[8]) + 1) % 10) + account[9:]
    with pytest.raises(Invalid) as exc:
        r.check_corr_account(broken, bic)
    assert (exc.value.field, exc.value.message) == (
        "corr_account", f"Единый казначейский счёт «{broken}» не соответствует БИК {bic}: не сходится контрольный ключ")


@pytest.mark.parametrize(("account", "other"), [
    ("40102810545370000046", "012520101"), ("40102810345370000013", "017501500"),
    ("40102810145370000026", "014030106"), ("40102810645370000062", "010702101"),
    ("40102810945370000005", "015402901")])
def test_a_treasury_account_does_not_fit_another_division(account, other):
    """The real ЕКС against the BIC of a Treasury body whose digits 5–6 (the Bank of Russia division) differ."""
    assert r.corr_account_problem(account, other) == (
        f"Единый казначейский счёт «{account}» не соответствует БИК {other}: не сходится контрольный ключ")


@pytest.mark.parametrize(("bic", "account", "field", "message"), [
    ("044525311", "40702810400180001774", "account",
     "Счёт «40702810400180001774» не соответствует БИК 044525311: не сходится контрольный ключ (9-я цифра счёта)"),
    ("044525352", "40702810300180001774", "account",
     "Счёт «40702810300180001774» не соответствует БИК 044525352: не сходится контрольный ключ (9-я цифра счёта)"),
    ("044525311", "4070281030018000177", "account", "Номер счёта «4070281030018000177» должен состоять из 20 цифр"),
    ("054525311", "40702810300180001774", "bic",
     "БИК «054525311» должен начинаться с «04» (банк) или «01» (орган Федерального казначейства)"),
    ("04452531", "40702810300180001774", "bic", "БИК «04452531» должен состоять из 9 цифр"),
])
def test_broken_settlement_accounts(bic, account, field, message):
    with pytest.raises(Invalid) as exc:
        r.check_account(account, bic)
    assert (exc.value.field, exc.value.message) == (field, message)


@pytest.mark.parametrize(("bic", "account", "message"), [
    ("044525311", "30101810100000000311",
     "Корреспондентский счёт «30101810100000000311» не соответствует БИК 044525311: не сходится контрольный ключ"),
    ("044525311", "30101810000000000312",
     "Корреспондентский счёт «30101810000000000312» должен оканчиваться последними тремя цифрами БИК (311)"),
    ("044525311", "40702810300180001774", "Корреспондентский счёт «40702810300180001774» должен начинаться с 30101"),
    ("015402901", "30101810600000000603",
     "Для БИК органа казначейства 015402901 корреспондентский счёт — единый казначейский счёт 40102…"),
])
def test_broken_correspondent_accounts(bic, account, message):
    with pytest.raises(Invalid) as exc:
        r.check_corr_account(account, bic)
    assert exc.value.message == message


def test_settlement_account_is_not_a_correspondent_one():
    """The same digits pass one key and fail the other: the two prefixes really differ."""
    assert r.is_valid_account("40702810300180001774", "044525311")
    assert r.corr_account_problem("30101810000000000311", "044525311") is None
    assert not r.is_valid_account("30101810000000000311", "044525311")


@pytest.mark.parametrize("snils", ["112-233-445 95", "11223344595", "087-654-303 00", "001-001-998 00"])
def test_snils_accepted(snils):
    assert r.check_snils(snils) == snils.replace("-", "").replace(" ", "")


def test_snils_optional_and_broken():
    assert r.check_snils("  ") == ""
    with pytest.raises(Invalid) as exc:
        r.check_snils("112-233-445 96")
    assert exc.value.message == "СНИЛС «112-233-445 96»: неверное контрольное число"
    with pytest.raises(Invalid) as exc:
        r.check_snils("", required=True)
    assert exc.value.message == "СНИЛС не указан"
