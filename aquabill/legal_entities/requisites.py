"""Checks of a counterparty's requisites: INN, KPP, OGRN / OGRNIP, BIC, bank accounts (control key), SNILS.

Every check takes the raw text, strips spaces, and either returns the normalised value or raises
`aquabill.base.errors.Invalid` with a Russian message naming the field. `is_valid_*` give a yes/no for bulk
reading (bank statements, imports) where a refusal is not wanted. Pure functions, no I/O.

Sources of the algorithms (each cited again where it is used):
- INN and KPP: FNS order ММВ-7-6/435@ of 29.06.2012 (the procedure of assigning the INN; the INN's control
  digits and the KPP's structure NNNN PP XXX, PP may hold A–Z since 2013); the XSD types ИННЮЛТип / ИННФЛТип /
  КППТип of the FNS formats (order ЕД-7-26/970@) forbid "00" as the first two digits.
- OGRN / OGRNIP: MNS order БГ-3-09/178 of 03.03.2004 (structure of the state registration number: the last
  digit is the remainder of the number without it divided by 11 (OGRN) or 13 (OGRNIP), taken mod 10).
- BIC and the account control key: Bank of Russia Regulation 579-P of 27.02.2017 (chart of accounts of credit
  institutions), part on the account number structure and the calculation of the control key (the same
  algorithm as in the earlier 385-P and the Bank of Russia's procedure No. 515 of 08.09.1997): weights 7 1 3
  over 3 digits + the 20-digit account; the sum's last digit must be 0. The 3 digits are the BIC's last three
  for an account at a credit institution, "0" + BIC digits 5–6 for an account at a Bank of Russia division
  (correspondent accounts 30101…, and since 01.01.2021 the Treasury's single treasury accounts 40102…).
- SNILS: the Pension Fund's published control-number algorithm (weights 9…1, mod 101), applied to numbers
  above 001-001-998.
"""

from __future__ import annotations

import re

from aquabill.base.errors import Invalid

_SPACES = re.compile(r"[\s\u00a0]+")


def _clean(value: str | None) -> str:
    return _SPACES.sub("", value or "")


# --- INN -------------------------------------------------------------------------------------------------
# FNS order ММВ-7-6/435@ of 29.06.2012: 10 digits for an organisation (control digit 10), 12 for a person or
# a sole trader (control digits 11 and 12); each control digit = (Σ digit × weight) mod 11 mod 10.
_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _control(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_problem(value: str | None) -> str | None:
    """Why `value` is not an INN (Russian), or None when it is one."""
    inn = _clean(value)
    if not inn:
        return "ИНН не указан"
    if not inn.isdigit() or len(inn) not in (10, 12):
        return f"ИНН «{inn}» должен состоять из 10 (организация) или 12 (ИП, физическое лицо) цифр"
    if inn.startswith("00"):
        return f"ИНН «{inn}» не может начинаться с «00»"
    if len(inn) == 10:
        if _control(inn[:9], _INN10_WEIGHTS) != int(inn[9]):
            return f"ИНН «{inn}»: неверное контрольное число"
    elif (_control(inn[:10], _INN11_WEIGHTS) != int(inn[10])
          or _control(inn[:11], _INN12_WEIGHTS) != int(inn[11])):
        return f"ИНН «{inn}»: неверные контрольные числа"
    return None


def is_valid_inn(value: str | None) -> bool:
    return inn_problem(value) is None


def check_inn(value: str | None, *, field: str = "inn", length: int | None = None) -> str:
    """The INN without spaces; `length` 10 or 12 demands an organisation's or a person's INN."""
    problem = inn_problem(value)
    if problem:
        raise Invalid(problem, field=field)
    inn = _clean(value)
    if length is not None and len(inn) != length:
        who = "организации" if length == 10 else "ИП или физического лица"
        raise Invalid(f"ИНН {who} должен состоять из {length} цифр, указано {len(inn)}: «{inn}»", field=field)
    return inn


# --- KPP -------------------------------------------------------------------------------------------------
# NNNN (tax office code; the first two digits are not both 0) + PP (reason: digits, or A–Z since 2013)
# + XXX (serial number); FNS order ММВ-7-6/435@, XSD type КППТип.
_KPP = re.compile(r"^(?!00)\d{4}[0-9A-Z]{2}\d{3}$")


def kpp_problem(value: str | None) -> str | None:
    kpp = _clean(value).upper()
    if not kpp:
        return "КПП не указан"
    if len(kpp) != 9:
        return f"КПП «{kpp}» должен состоять из 9 знаков"
    if not _KPP.match(kpp):
        return (f"КПП «{kpp}» не соответствует формату: 4 цифры кода налогового органа (не «00…»), "
                "2 цифры или латинские буквы причины постановки на учёт, 3 цифры номера")
    return None


def is_valid_kpp(value: str | None) -> bool:
    return kpp_problem(value) is None


def check_kpp(value: str | None, *, field: str = "kpp") -> str:
    problem = kpp_problem(value)
    if problem:
        raise Invalid(problem, field=field)
    return _clean(value).upper()


# --- OGRN / OGRNIP ---------------------------------------------------------------------------------------
# MNS order БГ-3-09/178 of 03.03.2004: OGRN 13 digits, the 13th = (first 12 as a number mod 11) mod 10;
# OGRNIP 15 digits, the 15th = (first 14 mod 13) mod 10.


def ogrn_problem(value: str | None) -> str | None:
    ogrn = _clean(value)
    if not ogrn:
        return "ОГРН не указан"
    if not ogrn.isdigit() or len(ogrn) != 13:
        return f"ОГРН «{ogrn}» должен состоять из 13 цифр"
    if int(ogrn[:12]) % 11 % 10 != int(ogrn[12]):
        return f"ОГРН «{ogrn}»: неверное контрольное число"
    return None


def ogrnip_problem(value: str | None) -> str | None:
    ogrnip = _clean(value)
    if not ogrnip:
        return "ОГРНИП не указан"
    if not ogrnip.isdigit() or len(ogrnip) != 15:
        return f"ОГРНИП «{ogrnip}» должен состоять из 15 цифр"
    if int(ogrnip[:14]) % 13 % 10 != int(ogrnip[14]):
        return f"ОГРНИП «{ogrnip}»: неверное контрольное число"
    return None


def check_ogrn(value: str | None, *, field: str = "ogrn") -> str:
    problem = ogrn_problem(value)
    if problem:
        raise Invalid(problem, field=field)
    return _clean(value)


def check_ogrnip(value: str | None, *, field: str = "ogrnip") -> str:
    problem = ogrnip_problem(value)
    if problem:
        raise Invalid(problem, field=field)
    return _clean(value)


# --- BIC and accounts ------------------------------------------------------------------------------------
# BIC: 9 digits. "04" opens the BICs of credit institutions and Bank of Russia divisions; since 01.01.2021 the
# Federal Treasury's territorial bodies (TOFK) have BICs opening with "01" (e.g. 015402901 and 017501500 in
# the reference 1CClientBankExchange samples), whose "correspondent account" is the single treasury account
# (ЕКС, 40102…).
_TREASURY_BIC_PREFIX = "01"
_BANK_BIC_PREFIX = "04"
_KEY_WEIGHTS = ((7, 1, 3) * 8)[:23]  # Regulation 579-P: weights 7,1,3 repeated over 23 digits


def bic_problem(value: str | None) -> str | None:
    bic = _clean(value)
    if not bic:
        return "БИК не указан"
    if not bic.isdigit() or len(bic) != 9:
        return f"БИК «{bic}» должен состоять из 9 цифр"
    if not bic.startswith((_BANK_BIC_PREFIX, _TREASURY_BIC_PREFIX)):
        return f"БИК «{bic}» должен начинаться с «04» (банк) или «01» (орган Федерального казначейства)"
    return None


def check_bic(value: str | None, *, field: str = "bic") -> str:
    problem = bic_problem(value)
    if problem:
        raise Invalid(problem, field=field)
    return _clean(value)


def _key_ok(prefix: str, account: str) -> bool:
    """Regulation 579-P: Σ (digit × weight) over prefix(3) + account(20) has 0 as its last digit."""
    digits = prefix + account
    return sum(int(d) * w for d, w in zip(digits, _KEY_WEIGHTS, strict=True)) % 10 == 0


def _bank_of_russia_division(bic: str) -> str:
    """The key prefix of an account opened at a Bank of Russia division: its conditional number, "0" + BIC
    digits 5–6 (Regulation 579-P / the Bank of Russia's procedure No. 515 of 08.09.1997)."""
    return "0" + bic[4:6]


def account_problem(account: str | None, bic: str | None) -> str | None:
    """A settlement (current) account at the bank with this BIC. Regulation 579-P: the key is computed over
    the last 3 digits of the BIC and the 20 digits of the account. Treasury accounts (03…, opened at a TOFK
    since 2021) are not held to the key: the real treasury account of the reference sample (03100643000000015400
    at 015402901) does not satisfy it, and the Treasury's numbering is its own."""
    acc = _clean(account)
    if not acc:
        return "Номер счёта не указан"
    if not acc.isdigit() or len(acc) != 20:
        return f"Номер счёта «{acc}» должен состоять из 20 цифр"
    problem = bic_problem(bic)
    if problem:
        return problem
    b = _clean(bic)
    if b.startswith(_TREASURY_BIC_PREFIX) and acc.startswith("03"):
        return None
    if not _key_ok(b[-3:], acc):
        return f"Счёт «{acc}» не соответствует БИК {b}: не сходится контрольный ключ (9-я цифра счёта)"
    return None


def corr_account_problem(account: str | None, bic: str | None) -> str | None:
    """The bank's correspondent account. For a credit institution (BIC 04…) it is 30101… at a Bank of Russia
    division and ends with the BIC's last 3 digits. For a TOFK (BIC 01…) it is the single treasury account
    (ЕКС) 40102…

    Both are accounts opened AT A BANK OF RUSSIA DIVISION, so both are keyed over the division's conditional
    number "0" + BIC digits 5–6, not over the BIC's last 3 digits (Regulation 579-P, the account control key,
    as in the Bank of Russia's procedure No. 515 of 08.09.1997: the key is computed over the conditional number
    of the settlement centre when the account is opened there, over the last 3 BIC digits of the credit
    institution otherwise). The ЕКС is the Federal Treasury's account at the Bank of Russia, in use since
    01.01.2021 (Federal Law 479-FZ of 27.12.2019 on treasury servicing and the treasury payment system;
    Treasury bodies got their own BICs 01… the same day). Checked against the five real pairs of
    the reference 1CClientBankExchange samples (015402901, 010702101, 012520101, 017501500, 014030106): all five
    satisfy the "0" + digits 5–6 key; four of them fail a key over the BIC's last 3 digits."""
    acc = _clean(account)
    problem = bic_problem(bic)
    if problem:
        return problem
    b = _clean(bic)
    if not acc:
        return "Корреспондентский счёт не указан"
    if not acc.isdigit() or len(acc) != 20:
        return f"Корреспондентский счёт «{acc}» должен состоять из 20 цифр"
    if b.startswith(_TREASURY_BIC_PREFIX):
        if not acc.startswith("40102"):
            return f"Для БИК органа казначейства {b} корреспондентский счёт — единый казначейский счёт 40102…"
        if not _key_ok(_bank_of_russia_division(b), acc):
            return f"Единый казначейский счёт «{acc}» не соответствует БИК {b}: не сходится контрольный ключ"
        return None
    if not acc.startswith("30101"):
        return f"Корреспондентский счёт «{acc}» должен начинаться с 30101"
    if acc[-3:] != b[-3:]:
        return f"Корреспондентский счёт «{acc}» должен оканчиваться последними тремя цифрами БИК ({b[-3:]})"
    if not _key_ok(_bank_of_russia_division(b), acc):
        return f"Корреспондентский счёт «{acc}» не соответствует БИК {b}: не сходится контрольный ключ"
    return None


def is_valid_account(account: str | None, bic: str | None) -> bool:
    return account_problem(account, bic) is None


def check_account(account: str | None, bic: str | None, *, field: str = "account") -> str:
    problem = account_problem(account, bic)
    if problem:
        raise Invalid(problem, field="bic" if problem.startswith("БИК") else field)
    return _clean(account)


def check_corr_account(account: str | None, bic: str | None, *, field: str = "corr_account") -> str:
    problem = corr_account_problem(account, bic)
    if problem:
        raise Invalid(problem, field="bic" if problem.startswith("БИК") else field)
    return _clean(account)


# --- SNILS -----------------------------------------------------------------------------------------------
# The PFR algorithm: Σ digit(i) × (10 − i) over the first 9 digits; < 100 → that number, 100 or 101 → 00,
# otherwise the remainder mod 101 (100 → 00). Only numbers above 001-001-998 carry a checksum.
_SNILS_SEPARATORS = re.compile(r"[\s\-\u00a0]")


def snils_problem(value: str | None) -> str | None:
    snils = _SNILS_SEPARATORS.sub("", value or "")
    if not snils:
        return "СНИЛС не указан"
    if not snils.isdigit() or len(snils) != 11:
        return f"СНИЛС «{value}» должен состоять из 11 цифр"
    if int(snils[:9]) <= 1001998:
        return None
    total = sum(int(d) * (9 - i) for i, d in enumerate(snils[:9]))
    control = total if total < 100 else (0 if total in (100, 101) else total % 101 % 100)
    if control != int(snils[9:]):
        return f"СНИЛС «{value}»: неверное контрольное число"
    return None


def check_snils(value: str | None, *, field: str = "snils", required: bool = False) -> str:
    """The SNILS as 11 digits, or "" when it is optional and empty."""
    if not _SNILS_SEPARATORS.sub("", value or "") and not required:
        return ""
    problem = snils_problem(value)
    if problem:
        raise Invalid(problem, field=field)
    return _SNILS_SEPARATORS.sub("", value or "")


# --- completing a number with its check digits (made-up requisites for the demo and the tests) ---------------------

def complete_inn(body: str) -> str:
    """9 digits → an organisation's INN, 10 digits → a person's: the control digit(s) appended (as `inn_problem`
    checks them)."""
    if len(body) == 9:
        return body + str(_control(body, _INN10_WEIGHTS))
    if len(body) == 10:
        body += str(_control(body, _INN11_WEIGHTS))
        return body + str(_control(body, _INN12_WEIGHTS))
    raise ValueError("the body of an INN has 9 (organisation) or 10 (person) digits")


def complete_ogrn(body: str) -> str:
    """12 digits → OGRN, 14 digits → OGRNIP: the control digit appended."""
    if len(body) == 12:
        return body + str(int(body) % 11 % 10)
    if len(body) == 14:
        return body + str(int(body) % 13 % 10)
    raise ValueError("the body of an OGRN has 12 digits, of an OGRNIP 14")


def complete_account(bic: str, account: str) -> str:
    """A 20-digit account with its 9th digit replaced by the control key over the BIC's last three digits and the
    account (Regulation 579-P): the key's weight is 3, and 3 × 7 ≡ 1 (mod 10)."""
    digits = bic[-3:] + account[:8] + "0" + account[9:]
    total = sum(int(d) * w for d, w in zip(digits, _KEY_WEIGHTS, strict=True))
    return account[:8] + str(-total * 7 % 10) + account[9:]
