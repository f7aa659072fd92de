"""CSV import and export against real PostgreSQL: every kind loads, reports line errors in Russian and
changes nothing when imported again; the API (sync, multipart, job), the CLI, the audit log, the export."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from aquabill.billing_core.imports import import_csv
from tests.conftest import ROOT

TABLES = ("settlements", "streets", "houses", "premises", "accounts", "account_parameters", "tariffs", "norms",
          "meters", "readings", "audit_log")

HOUSES = """settlement;street;house;built_year;floors;improvement
г. Тестовск;ул. Речная;1;1975;5;full
г. Тестовск;ул. Речная;2;1980;9;full
Тестовск;пер. Школьный;3а;;1;no_sewage
с. Ивановка;Центральная;7;1990;2;
г. Тестовск;ул. Речная;4;1800x;;
"""

ACCOUNTS = """account_number;settlement;street;house;apartment;area_m2;residents;holder;opened_on
ЛС1;г. Тестовск;ул. Речная;1;1;41;2;Абонент 1;2020-01-01
100001;г. Тестовск;ул. Речная;1;10;55,3;3;Петров Пётр;01.03.2021
100002;г. Тестовск;ул. Речная;1;10;;1;Петрова Анна;01.03.2021
100003;с. Ивановка;Центральная;7;;80;4;Сидоров С. С.;2019-05-20
100004;г. Тестовск;ул. Речная;1;11;50;;;2022-13-01
100002;г. Тестовск;ул. Речная;1;10;;1;Петрова Анна;01.03.2021
"""

PARAMETERS = """account_number,parameter,value,valid_from
ЛС1,residents,3,2024-01-01
ЛС1,tariff_group,population,2024-01-01
ЛС2,residents,два,2024-01-01
123,residents,1,2024-01-01
ЛС2,no_such_parameter,1,2024-01-01
"""

TARIFFS = """service;tariff_group;price;valid_from
cold_water;population;41,50;2024-01-01
cold_water;population;43.20;01.07.2024
sewage;;30;2024-01-01
gas;population;10;2024-01-01
"""

NORMS = """service;improvement;volume;valid_from;comment
cold_water;full;4,85;2024-01-01
cold_water;no_sewage;3.1;2024-01-01
hot_water;full;3,6;2024-01-01
cold_water;full;-1;2024-07-01
"""

METERS = """account_number;service;serial;digits;installed_on;initial_reading;verified_until;removed_on
ЛС1;cold_water;ХВ-001;5;2024-01-10;10;2030-01-10;
ЛС2;cold_water;ХВ-002;5;2024-01-10;0;;
ЛС3;cold_water;ХВ-777;5;2020-01-01;0;;2023-12-31
ЛС3;cold_water;ХВ-777;5;2024-01-01;0;;
999;cold_water;ХВ-009;5;2024-01-10;0;;
"""

READINGS = """serial;read_on;value;source
ХВ-001;2024-02-25;15;
ХВ-001;25.03.2024;21,5;
ХВ-001;2024-04-25;3;
ХВ-002;2024-03-25;500;
НЕТ-1;2024-03-25;1;
ХВ-777;2023-06-01;100;operator
ХВ-777;2024-06-01;20;bank
"""


async def load(tx, kind: str, csv_text: str, user_id: int | None = None) -> dict:
    async with tx(user_id) as conn:
        return (await import_csv(conn, kind, csv_text.encode(), user_id=user_id)).as_dict()


async def digest(tx) -> dict:
    async with tx() as conn:
        return {t: tuple((await conn.execute(text(
            f"SELECT count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM {t} x"))).one())
            for t in TABLES}


def counts(report: dict) -> tuple[int, int, int, int]:
    return report["inserted"], report["updated"], report["unchanged"], report["failed"]


def errors(report: dict) -> dict[int, str]:
    return {e["line"]: e["error"] for e in report["errors"]}


async def import_twice(tx, kind: str, csv_text: str) -> tuple[dict, dict]:
    """First import, then the same file again: the second changes nothing at all (audit log included)."""
    first = await load(tx, kind, csv_text)
    before = await digest(tx)
    second = await load(tx, kind, csv_text)
    assert await digest(tx) == before, f"re-importing {kind} changed the database"
    assert second["inserted"] == 0 and second["updated"] == 0
    assert second["lines"] == first["lines"] and second["failed"] + second["unchanged"] == second["lines"]
    return first, second


# ---- every kind: loads, reports, idempotent ------------------------------------------------------------

async def test_houses(tx):
    first, second = await import_twice(tx, "houses", HOUSES)
    assert counts(first) == (3, 1, 0, 1) and counts(second) == (0, 0, 4, 1)
    assert first["created"] == {"settlements": 1, "streets": 2}
    assert errors(first) == {6: "Столбец built_year: ожидается целое число, получено «1800x»"}
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT s.kind, s.name, st.kind, st.name, h.number, h.built_year, h.floors, h.improvement "
            "FROM houses h JOIN streets st ON st.id = h.street_id JOIN settlements s ON s.id = st.settlement_id "
            "ORDER BY h.id"))).all()
    assert [tuple(r) for r in rows] == [
        ("г.", "Тестовск", "ул.", "Речная", "1", 1975, 5, "full"),
        ("г.", "Тестовск", "ул.", "Речная", "2", 1980, 9, "full"),
        ("г.", "Тестовск", "пер.", "Школьный", "3а", None, 1, "no_sewage"),
        ("с.", "Ивановка", "ул.", "Центральная", "7", 1990, 2, None),
    ]
    # an empty cell never erases a stored value; a new value updates it
    again = await load(tx, "houses", "settlement;street;house;built_year;floors\nг. Тестовск;Речная;2;;10\n")
    assert counts(again) == (0, 1, 0, 0)
    async with tx() as conn:
        assert (await conn.execute(text("SELECT built_year, floors FROM houses WHERE number = '2'"))).one() == (1980, 10)


async def test_accounts(tx):
    first, second = await import_twice(tx, "accounts", ACCOUNTS)
    assert counts(first) == (3, 1, 1, 1) and counts(second) == (0, 0, 5, 1)
    assert first["created"] == {"settlements": 1, "streets": 1, "houses": 1, "premises": 2}
    assert errors(first) == {6: "Столбец opened_on: нет такой даты: «2022-13-01»"}
    async with tx() as conn:
        accounts = (await conn.execute(text(
            "SELECT a.number, a.holder, a.opened_on, p.number AS flat, p.area_m2, h.number AS house "
            "FROM accounts a JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id "
            "WHERE a.number LIKE '1000%' ORDER BY a.number"))).all()
        residents = (await conn.execute(text(
            "SELECT a.number, p.value_num, p.valid_from, p.valid_to FROM account_parameters p "
            "JOIN accounts a ON a.id = p.account_id WHERE p.kind = 'residents' ORDER BY a.number"))).all()
    assert [tuple(r) for r in accounts] == [
        ("100001", "Петров Пётр", date(2021, 3, 1), "10", D("55.30"), "1"),
        ("100002", "Петрова Анна", date(2021, 3, 1), "10", D("55.30"), "1"),  # one communal flat
        ("100003", "Сидоров С. С.", date(2019, 5, 20), "", D("80.00"), "7"),
    ]
    assert [(n, int(v), f) for n, v, f, _ in residents] == [
        ("100001", 3, date(2021, 3, 1)), ("100002", 1, date(2021, 3, 1)), ("100003", 4, date(2019, 5, 20)),
        ("ЛС1", 2, date(2020, 1, 1))]
    # a changed holder and area: updated, and the area of the communal flat is one value per premise
    changed = await load(tx, "accounts", "account_number;settlement;street;house;apartment;area_m2;holder;opened_on\n"
                                         "100001;г. Тестовск;ул. Речная;1;10;56;Петров П. П.;01.03.2021\n"
                                         "100002;г. Тестовск;ул. Речная;1;10;57;;01.03.2021\n")
    assert counts(changed) == (0, 1, 0, 1)
    assert errors(changed) == {3: "Площадь помещения 57 отличается от указанной в строке 2 (56) для того же помещения"}


async def test_parameters(tx):
    first, second = await import_twice(tx, "parameters", PARAMETERS)
    assert counts(first) == (2, 0, 0, 3) and counts(second) == (0, 0, 2, 3)
    e = errors(first)
    assert e[4] == "Столбец value: ожидается число, получено «два»"
    assert e[5] == "Лицевой счёт 123 не найден"
    assert e[6].startswith("Неизвестный параметр «no_such_parameter» (известны: area, improvement")
    updated = await load(tx, "parameters", "account_number;parameter;value;valid_from\nЛС1;residents;4;2024-01-01\n"
                                           "ЛС1;residents;2;2024-06-01\n")
    assert counts(updated) == (1, 1, 0, 0)
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT value_num, valid_from, valid_to FROM account_parameters WHERE account_id = 1 "
            "AND kind = 'residents' ORDER BY valid_from"))).all()
    assert [(int(v), f, t) for v, f, t in rows] == [(4, date(2024, 1, 1), date(2024, 5, 31)),
                                                    (2, date(2024, 6, 1), None)]


async def test_tariffs(tx):
    first, second = await import_twice(tx, "tariffs", TARIFFS)
    assert counts(first) == (3, 0, 0, 1) and counts(second) == (0, 0, 3, 1)
    assert errors(first)[5].startswith("Услуга «gas» не найдена (коды услуг: cold_water, common_cold")
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT s.code, t.tariff_group, t.price, t.valid_from FROM tariffs t JOIN services s ON s.id = t.service_id "
            "ORDER BY s.code, t.valid_from"))).all()
    assert [tuple(r) for r in rows] == [("cold_water", "population", D("41.5"), date(2024, 1, 1)),
                                        ("cold_water", "population", D("43.2"), date(2024, 7, 1)),
                                        ("sewage", "population", D(30), date(2024, 1, 1))]
    fixed = await load(tx, "tariffs", "service;price;valid_from\ncold_water;43,25;2024-07-01\n")
    assert counts(fixed) == (0, 1, 0, 0)
    # the act that set a tariff: given, it is stored (alone it is a change); empty or missing, the stored one stays
    cited = await load(tx, "tariffs", "service;price;valid_from;basis\ncold_water;43,25;2024-07-01;Приказ № 45-вк\n"
                                      "sewage;30;2024-01-01;\n")
    assert counts(cited) == (0, 1, 1, 0)
    assert counts(await load(tx, "tariffs", "service;price;valid_from\ncold_water;43,25;2024-07-01\n")) == (0, 0, 1, 0)
    async with tx() as conn:
        bases = dict((await conn.execute(text(
            "SELECT s.code || ' ' || t.valid_from, t.basis FROM tariffs t JOIN services s ON s.id = t.service_id"))).all())
    assert bases == {"cold_water 2024-01-01": "", "cold_water 2024-07-01": "Приказ № 45-вк", "sewage 2024-01-01": ""}


async def test_norms(tx):
    first, second = await import_twice(tx, "norms", NORMS)
    assert counts(first) == (3, 0, 0, 1) and counts(second) == (0, 0, 3, 1)
    assert errors(first) == {5: "Столбец volume: отрицательное число: -1"}
    assert first["notes"] == ["Столбцы не используются и пропущены: comment"]
    async with tx() as conn:
        assert (await conn.execute(text("SELECT sum(volume) FROM norms"))).scalar() == D("11.55")


async def test_meters(tx):
    first, second = await import_twice(tx, "meters", METERS)
    assert counts(first) == (4, 0, 0, 1) and counts(second) == (0, 0, 4, 1)
    assert errors(first) == {6: "Лицевой счёт 999 не найден"}
    removed = await load(tx, "meters", "account_number;service;serial;digits;installed_on;removed_on\n"
                                       "ЛС2;cold_water;ХВ-002;5;2024-01-10;2024-12-31\n")
    assert counts(removed) == (0, 1, 0, 0)
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT serial, account_id, kind, digits, initial_reading, verified_until, removed_on FROM meters "
            "ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [
        ("ХВ-001", 1, "individual", 5, D("10.000"), date(2030, 1, 10), None),
        ("ХВ-002", 2, "individual", 5, D("0.000"), None, date(2024, 12, 31)),
        ("ХВ-777", 3, "individual", 5, D("0.000"), None, date(2023, 12, 31)),
        ("ХВ-777", 3, "individual", 5, D("0.000"), None, None),
    ]


async def test_readings_are_validated_stored_and_reported(tx):
    await load(tx, "meters", METERS)
    first, second = await import_twice(tx, "readings", READINGS)
    assert counts(first) == (5, 0, 0, 2) and counts(second) == (0, 0, 5, 2)
    e = errors(first)
    assert e[4].startswith("Показание отклонено: Показание 3 меньше предыдущего (21.5 на 25.03.2024)")
    assert e[6] == "Счётчик с номером НЕТ-1 не найден"
    assert errors(second)[4].startswith("Показание уже было отклонено: Показание 3 меньше предыдущего")
    assert [w["line"] for w in first["warnings"]] == [5] and "Неправдоподобный расход" in first["warnings"][0]["warning"]
    assert [w["line"] for w in second["warnings"]] == [5] and "ждёт проверки" in second["warnings"][0]["warning"]
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT m.serial, m.installed_on, r.read_on, r.value, r.status, r.source, r.consumption "
            "FROM readings r JOIN meters m ON m.id = r.meter_id ORDER BY m.id, r.read_on"))).all()
    assert [tuple(r) for r in rows] == [
        ("ХВ-001", date(2024, 1, 10), date(2024, 2, 25), D("15.000"), "accepted", "import", D("5.000")),
        ("ХВ-001", date(2024, 1, 10), date(2024, 3, 25), D("21.500"), "accepted", "import", D("6.500")),
        ("ХВ-001", date(2024, 1, 10), date(2024, 4, 25), D("3.000"), "rejected", "import", None),
        ("ХВ-002", date(2024, 1, 10), date(2024, 3, 25), D("500.000"), "flagged", "import", D("500.000")),
        # the serial names two meters: each reading went to the one installed on its date
        ("ХВ-777", date(2020, 1, 1), date(2023, 6, 1), D("100.000"), "accepted", "operator", D("100.000")),
        ("ХВ-777", date(2024, 1, 1), date(2024, 6, 1), D("20.000"), "accepted", "bank", D("20.000")),
    ]


CLOSED = ("Период {} закрыт: {} не принимается. Изменения в закрытом периоде вносятся перерасчётом "
          "в текущем периоде.")


async def test_closed_periods_are_not_changed(tx):
    """Lines that would change a closed period are refused (as everywhere else); unchanged lines are fine."""
    await load(tx, "tariffs", TARIFFS)
    await load(tx, "meters", METERS)
    async with tx() as conn:
        await conn.execute(text("INSERT INTO periods(period, status) VALUES ('2024-01-01', 'closed'), "
                                "('2024-02-01', 'closed'), ('2024-03-01', 'open')"))
    assert counts(await load(tx, "tariffs", TARIFFS)) == (0, 0, 3, 1)
    assert counts(await load(tx, "meters", METERS)) == (0, 0, 4, 1)

    tariffs = await load(tx, "tariffs", "service;price;valid_from\ncold_water;42;2024-01-01\n"
                                        "hot_water;50;2024-01-15\ncold_water;44;2024-08-01\n")
    assert counts(tariffs) == (1, 0, 0, 2)
    assert errors(tariffs) == {2: CLOSED.format("2024-01", "тариф с 01.01.2024"),
                               3: CLOSED.format("2024-01", "тариф с 15.01.2024")}

    readings = await load(tx, "readings", "serial;read_on;value\nХВ-001;2024-02-25;15\nХВ-001;2024-03-25;21,5\n")
    assert counts(readings) == (1, 0, 0, 1)
    assert errors(readings) == {2: CLOSED.format("2024-02", "показание на 25.02.2024")}

    params = await load(tx, "parameters", "account_number;parameter;value;valid_from\n"
                                          "ЛС1;residents;3;15.01.2024\nЛС1;residents;3;01.03.2024\n")
    assert counts(params) == (1, 0, 0, 1)
    assert errors(params) == {2: CLOSED.format("2024-01", "значение параметра с 15.01.2024")}

    meters = await load(tx, "meters", "account_number;service;serial;digits;installed_on;removed_on\n"
                                      "ЛС1;hot_water;ГВ-1;5;2024-01-20;\n"
                                      "ЛС2;cold_water;ХВ-002;5;2024-01-10;2024-02-10\n"
                                      "ЛС3;cold_water;ХВ-777;5;2024-01-01;2024-03-10\n")
    assert counts(meters) == (0, 1, 0, 2)
    assert errors(meters) == {2: CLOSED.format("2024-01", "установка счётчика 20.01.2024"),
                              3: CLOSED.format("2024-02", "снятие счётчика 10.02.2024")}

    accounts = await load(tx, "accounts", "account_number;settlement;street;house;apartment;residents;opened_on\n"
                                          "200001;г. Тестовск;ул. Речная;1;20;2;05.01.2024\n")
    assert counts(accounts) == (1, 0, 0, 0)
    assert accounts["warnings"] == [{"line": 2, "warning": CLOSED.format("2024-01", "число проживающих с 05.01.2024")}]


async def test_the_same_file_imported_twice_at_once(tx):
    """Two concurrent imports of one file: the second waits for the first's new rows, then finds them."""
    reports = await asyncio.gather(load(tx, "accounts", ACCOUNTS), load(tx, "accounts", ACCOUNTS))
    assert sorted(counts(r) for r in reports) == [(0, 0, 5, 1), (3, 1, 1, 1)]
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM accounts"))).scalar_one() == 6
        assert (await conn.execute(text("SELECT count(*) FROM settlements"))).scalar_one() == 2


async def test_whole_file_is_one_transaction(tx):
    """A failure in the middle of loading leaves nothing behind (the caller's transaction rolls back)."""
    before = await digest(tx)
    with pytest.raises(RuntimeError, match="обрыв"):
        async with tx() as conn:
            report = await import_csv(conn, "accounts", ACCOUNTS.encode())
            assert report.count("inserted") == 3
            raise RuntimeError("обрыв связи")
    assert await digest(tx) == before


# ---- API -----------------------------------------------------------------------------------------------

async def test_api_import_sync_with_audit_trail(client, billing_tenant, tx):
    h = {**billing_tenant.headers, "Content-Type": "text/csv"}
    r = await client.post("/api/imports/accounts", headers=h, content=("\ufeff" + ACCOUNTS).encode())
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["mode"] == "sync" and counts(report) == (3, 1, 1, 1)
    assert report["errors"] == [{"line": 6, "error": "Столбец opened_on: нет такой даты: «2022-13-01»"}]
    # the same file as a multipart upload: nothing new
    files = {"file": ("accounts.csv", ACCOUNTS.encode(), "text/csv")}
    again = await client.post("/api/imports/accounts", headers=billing_tenant.headers, files=files)
    assert again.status_code == 200, again.text
    assert counts(again.json()) == (0, 0, 5, 1) and again.json()["file_name"] == "accounts.csv"
    async with tx() as conn:
        admin = (await conn.execute(text("SELECT id FROM users WHERE login = 'admin'"))).scalar_one()
        audited = (await conn.execute(text(
            "SELECT l.new_row->>'number' FROM audit_log l WHERE l.table_name = 'accounts' AND l.action = 'insert' "
            "AND l.user_id = :u ORDER BY 1"), {"u": admin})).scalars().all()
        params = (await conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'account_parameters' AND user_id = :u"),
            {"u": admin})).scalar_one()
    assert audited == ["100001", "100002", "100003"]
    assert params >= 4


@pytest.mark.parametrize("path, body, status, message", [
    ("/api/imports/accounts", "account_number;holder\n1;x\n", 422, "Нет обязательных столбцов: settlement"),
    ("/api/imports/accounts", "", 422, "Файл пуст"),
    ("/api/imports/payments", "a;b\n", 404, "Неизвестный вид загрузки «payments»"),
    ("/api/imports/accounts?mode=later", ACCOUNTS, 400, "Неверные данные запроса"),
])
async def test_api_rejects_bad_files(client, billing_tenant, path, body, status, message):
    r = await client.post(path, headers={**billing_tenant.headers, "Content-Type": "text/csv"},
                          content=body.encode())
    assert r.status_code == status, r.text
    assert message in r.json()["error"]["message"]


async def test_api_import_needs_admin_rights(client, billing_tenant):
    await client.post("/api/users", headers=billing_tenant.headers,
                      json={"login": "op", "password": "operator-pass", "roles": ["operator"]})
    token = (await client.post("/api/auth/login", json={"tenant": billing_tenant.tenant.slug, "login": "op",
                                                        "password": "operator-pass"})).json()["token"]
    r = await client.post("/api/imports/tariffs", headers={"Authorization": f"Bearer {token}"},
                          content=TARIFFS.encode())
    assert r.status_code == 403
    r = await client.get("/api/exports/charges", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


async def test_api_import_as_a_job_with_progress(client, billing_tenant, core, worker, tx):
    r = await client.post("/api/imports/tariffs?mode=job", headers=billing_tenant.headers, content=TARIFFS.encode())
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert job["kind"] == "import.csv" and job["params"]["kind"] == "tariffs" and job["status"] == "queued"
    async with asyncio.timeout(30):
        while job["status"] not in ("done", "failed"):
            await asyncio.sleep(0.1)
            job = (await client.get(f"/api/jobs/{job['id']}", headers=billing_tenant.headers)).json()
    assert job["status"] == "done", job
    assert counts(job["result"]) == (3, 0, 0, 1) and job["result"]["errors"][0]["line"] == 5
    assert await core.redis.get(core.keys.import_file(billing_tenant.tenant.id, job["id"])) is None
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM tariffs"))).scalar_one() == 3


async def test_job_without_a_file_fails_clearly(client, billing_tenant, worker):
    r = await client.post("/api/jobs", headers=billing_tenant.headers, json={"kind": "import.csv",
                                                                            "params": {"kind": "tariffs"}})
    assert r.status_code == 202, r.text
    job = r.json()
    async with asyncio.timeout(30):
        while job["status"] not in ("done", "failed"):
            await asyncio.sleep(0.1)
            job = (await client.get(f"/api/jobs/{job['id']}", headers=billing_tenant.headers)).json()
    assert job["status"] == "failed" and "Файл для загрузки не найден" in job["error"]


# ---- export --------------------------------------------------------------------------------------------

async def _charges(tx) -> None:
    async with tx() as conn:
        await conn.execute(text("""
            INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount, corrects_period)
            SELECT a, s.id, p::date, m, v, t, amt, c::date
            FROM (VALUES (2, 'cold_water', '2024-03-01', 'meter', 5.5, 41.5, 228.25, NULL),
                         (1, 'sewage', '2024-03-01', 'norm', 4.85, 30, 145.50, NULL),
                         (1, 'cold_water', '2024-03-01', 'recalculation', -1, 41.5, -41.50, '2024-01-01'),
                         (1, 'cold_water', '2024-03-01', 'meter', 6.5, 41.5, 269.75, NULL),
                         (1, 'cold_water', '2024-02-01', 'meter', 3, 41.5, 124.50, NULL))
                 AS x(a, code, p, m, v, t, amt, c)
            JOIN services s ON s.code = x.code"""))


EXPECTED_MARCH = ("\ufeffaccount_number;service;period;method;volume;tariff;amount;corrects_period\r\n"
                  "ЛС1;cold_water;2024-03;meter;6.500;41.5000;269.75;\r\n"
                  "ЛС1;cold_water;2024-03;recalculation;-1.000;41.5000;-41.50;2024-01\r\n"
                  "ЛС1;sewage;2024-03;norm;4.850;30.0000;145.50;\r\n"
                  "ЛС2;cold_water;2024-03;meter;5.500;41.5000;228.25;\r\n")


async def test_export_charges_over_the_api(client, billing_tenant, tx):
    h = billing_tenant.headers
    empty = await client.get("/api/exports/charges?period=2024-03", headers=h)
    assert empty.status_code == 200 and empty.text.count("\r\n") == 1
    await _charges(tx)
    r = await client.get("/api/exports/charges?period=2024-03", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="charges-2024-03.csv"' in r.headers["content-disposition"]
    assert r.content.decode("utf-8") == EXPECTED_MARCH
    latest = await client.get("/api/exports/charges", headers=h)  # no period: the latest charged one
    assert latest.content.decode("utf-8") == EXPECTED_MARCH
    bad = await client.get("/api/exports/charges?period=2024-13", headers=h)
    assert bad.status_code == 422 and "Недопустимый расчётный период: 2024-13" in bad.json()["error"]["message"]


# ---- CLI -----------------------------------------------------------------------------------------------

async def cli(settings, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "AQUABILL_REDIS_PREFIX": settings.redis_prefix}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "aquabill.cli", *args, env=env, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def test_cli_import_and_export(settings, billing_tenant, tx, tmp_path):
    slug = billing_tenant.tenant.slug
    good = tmp_path / "norms.csv"
    good.write_text(NORMS.replace("cold_water;full;-1;2024-07-01\n", ""), encoding="utf-8")
    code, out, err = await cli(settings, "import", slug, "norms", str(good))
    assert code == 0, err
    assert "Строк: 3; добавлено: 3, изменено: 0, без изменений: 0, с ошибками: 0" in out
    code, out, err = await cli(settings, "import", slug, "norms", str(good), "--json")
    assert code == 0 and counts(json.loads(out)) == (0, 0, 3, 0)

    partly = tmp_path / "meters.csv"
    partly.write_text(METERS, encoding="utf-8")
    code, out, _ = await cli(settings, "import", slug, "meters", str(partly))
    assert code == 2 and "строка 6: Лицевой счёт 999 не найден" in out

    broken = tmp_path / "broken.csv"
    broken.write_bytes("serial;value\nХВ-001;1\n".encode("cp1251"))
    code, _, err = await cli(settings, "import", slug, "readings", str(broken))
    assert code == 1 and "Файл не загружен: Файл не в кодировке UTF-8" in err

    await _charges(tx)
    target = tmp_path / "charges.csv"
    code, _, err = await cli(settings, "export", slug, "charges", "--period", "2024-03", "--out", str(target))
    assert code == 0, err
    assert target.read_bytes().decode("utf-8") == EXPECTED_MARCH
    code, out, _ = await cli(settings, "export", slug, "charges", "--period", "2024-02")
    assert code == 0 and out.splitlines()[1:] == ["ЛС1;cold_water;2024-02;meter;3.000;41.5000;124.50;"]
