"""The reconciliation act as the FNS XML (КНД 1110332, format 5.01): built from the act of the hand-made set,
valid against the shipped XSD, the file name = @ИдФайл; what the format needs and we lack is refused clearly."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from lxml import etree
from sqlalchemy import text

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd.akt_sverki import build_akt_sverki, ensure_valid_akt, validate_akt
from aquabill.legal_entities.reports.reconciliation import reconciliation_act
from aquabill.legal_entities.reports.sender import our_party
from tests.integration.legal_entities.helpers import org_requisites

Q1 = (date(2026, 1, 1), date(2026, 3, 31))
FORMED = datetime(2026, 4, 2, 10, 15, 30)


async def _set_up_our_side(conn) -> None:
    req = org_requisites()
    await conn.execute(text(
        "INSERT INTO payee_requisites(id, name, personal_acc, bank_name, bic, corresp_acc, inn, kpp) VALUES "
        "(1, 'МУП «Водоканал»', '40702810900000000001', 'ПАО Сбербанк', '044525225', '30101810400000000225', "
        ":inn, :kpp) ON CONFLICT (id) DO UPDATE SET inn = EXCLUDED.inn, kpp = EXCLUDED.kpp"), req)
    await conn.execute(text(
        "INSERT INTO billing_settings(key, value) VALUES ('legal_signer', CAST(:v AS jsonb)) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"),
        {"v": json.dumps({"ogrn": req["ogrn"], "last_name": "Иванова", "first_name": "Мария",
                          "middle_name": "Петровна", "position": "Главный бухгалтер"})})
    await conn.execute(text(
        "INSERT INTO edo_settings(operator, participant_id) VALUES ('diadoc', '2BM-7700000001-000000000001') "
        "ON CONFLICT (operator) DO UPDATE SET participant_id = EXCLUDED.participant_id"))


async def test_our_side_missing_is_named(ledger_set, tx):
    async with tx() as conn:
        await conn.execute(text("DELETE FROM billing_settings WHERE key = 'legal_signer'"))
        await conn.execute(text("DELETE FROM payee_requisites"))
        with pytest.raises(Invalid, match="реквизиты организации"):
            await our_party(conn)


async def test_akt_xml_is_valid_and_balanced(ledger_set, tx):
    async with tx() as conn:
        await _set_up_our_side(conn)
        sender = await our_party(conn)
        act = await reconciliation_act(conn, ledger_set["a"], *Q1)
    name, content = build_akt_sverki(act, sender=sender, recipient=act["counterparty"], number="АС-1",
                                     formed_at=FORMED)
    assert validate_akt(content, name) == []
    ensure_valid_akt(content, name)
    assert name.startswith("ON_AKTSVEROTP_2BM-7700000000-000000000000_2BM-7700000001-000000000001_20260402_")
    root = etree.fromstring(content)
    assert root.get("ИдФайл") + ".xml" == name
    assert content.startswith(b"<?xml version='1.0' encoding='windows-1251'?>")
    agreement = root.find("Документ/ТаблАкт/ДогСв")
    assert {k: agreement.get(k) for k in ("СальдоНачДеб", "СальдоНачКр", "ОборотДеб", "ОборотКр", "СальдоКонДеб",
                                          "СальдоКонКр")} == {
        "СальдоНачДеб": "700.00", "СальдоНачКр": "0.00", "ОборотДеб": "10614.00", "ОборотКр": "22326.00",
        "СальдоКонДеб": "0.00", "СальдоКонКр": "11012.00"}
    ops = [(o.get("НомСтр"), o.get("СумДебет"), o.get("СумКредит")) for o in agreement.iter("СвОпер")]
    assert ops == [("1", "10004.00", None), ("2", None, "10004.00"), ("3", None, "12200.00"), ("4", "610.00", None),
                   ("5", None, "122.00")]
    assert root.find("Документ/Подписант/ФИО").get("Фамилия") == "Иванова"
    # the name must be the file's
    assert [p.message for p in validate_akt(content, "other.xml")] == [
        f"имя файла обмена «other» не совпадает с ИдФайл «{root.get('ИдФайл')}»"]


async def test_akt_xml_refusals(ledger_set, tx):
    async with tx() as conn:
        await _set_up_our_side(conn)
        sender = await our_party(conn)
        empty = await reconciliation_act(conn, ledger_set["a"], date(2027, 1, 1), date(2027, 1, 31))
        act = await reconciliation_act(conn, ledger_set["a"], *Q1)
    with pytest.raises(Invalid, match="нет операций"):
        build_akt_sverki(empty, sender=sender, recipient=empty["counterparty"], number="1", formed_at=FORMED)
    with pytest.raises(Invalid, match="ОГРН"):
        build_akt_sverki(act, sender=sender, recipient={**act["counterparty"], "ogrn": ""}, number="1",
                         formed_at=FORMED)
    # without an EDO id the party is named by its INN (as the UPD does); a malformed one is refused
    name, content = build_akt_sverki(act, sender=sender, recipient={**act["counterparty"], "edo_id": ""},
                                     number="1", formed_at=FORMED)
    assert name.startswith(f"ON_AKTSVEROTP_{ledger_set['inn']}_2BM-7700000001-000000000001_20260402_")
    assert validate_akt(content, name) == []
    with pytest.raises(Invalid, match="участника ЭДО контрагента"):
        build_akt_sverki(act, sender=sender, recipient={**act["counterparty"], "edo_id": "a_b"}, number="1",
                         formed_at=FORMED)
