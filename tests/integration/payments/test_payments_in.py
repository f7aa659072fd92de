"""Payments in against real PostgreSQL: registry files (good, partial, unknown and closed accounts), re-import
and repeated operation ids adding nothing, rollback, a 1C statement, manual payments by QR, storno, transfer,
the unidentified queue, audit entries and permissions.

The tenant: accounts 0000101, 0000102, 0000105 (open) and 0000103 (closed); 0000101 has a cold-water meter
ХВ-123456 (the sample registries carry readings for it)."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import text

from aquabill.billing_core.payments.purpose import account_in_purpose
from aquabill.billing_core.payments.qr import build_payment_string
from aquabill.billing_core.periods import Period
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api, as_role

DATA = Path(__file__).parents[2] / "data"
GOOD = (DATA / "sberbank" / "registry_good_cp1251.txt").read_bytes()
PARTIAL = (DATA / "sberbank" / "registry_partial_utf8.txt").read_bytes()
STATEMENT = (DATA / "bank-1c-clientbank" / "xini1_sample1.txt").read_text("utf-8")


async def seed(conn, _tenant) -> None:
    await conn.execute(text("INSERT INTO settlements(kind, name) VALUES ('г.', 'Приозёрск')"))
    await conn.execute(text("INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Ленина')"))
    await conn.execute(text("INSERT INTO houses(street_id, number, improvement) VALUES (1, '1', 'full')"))
    await conn.execute(text("INSERT INTO premises(house_id, number, area_m2) SELECT 1, n::text, 40 "
                            "FROM generate_series(1, 4) n"))
    await conn.execute(text(
        "INSERT INTO accounts(number, premise_id, holder, opened_on, status, closed_on) VALUES "
        "('0000101', 1, 'Иванов И. И.', DATE '2020-01-01', 'open', NULL), "
        "('0000102', 2, 'Петрова А. С.', DATE '2020-01-01', 'open', NULL), "
        "('0000103', 3, 'Орлов О. О.', DATE '2020-01-01', 'closed', DATE '2025-06-30'), "
        "('0000105', 4, 'Кузнецова К. К.', DATE '2020-01-01', 'open', NULL)"))
    await conn.execute(text(
        "INSERT INTO meters(account_id, service_id, serial, digits, installed_on) "
        "SELECT 1, id, 'ХВ-123456', 5, DATE '2020-01-01' FROM services WHERE code = 'cold_water'"))
    await conn.execute(text("INSERT INTO payment_agents(code, name, kind, file_format) "
                            "VALUES ('sberbank', 'Сбербанк', 'bank', 'sberbank')"))


@pytest.fixture
async def tenant(make_tenant):
    return await make_tenant(seed=seed)


@pytest.fixture
def api(client, tenant) -> Api:
    return Api(client, tenant.headers)


@pytest.fixture
def tx(core, tenant):
    return lambda: tenant_transaction(core.engines, tenant.tenant)


async def upload(api: Api, agent: str, data: bytes, status: int = 200) -> dict:
    r = await api.client.post(f"/api/payment-files?agent={agent}", content=data,
                              headers={**api.headers, "Content-Type": "application/octet-stream"})
    assert r.status_code == status, r.text
    return r.json()


async def payments(tx, where: str = "true") -> list[tuple]:
    async with tx() as conn:
        return [tuple(r) for r in await conn.execute(text(
            "SELECT p.operation_id, a.number, p.amount, p.status, p.reason FROM payments p "
            f"LEFT JOIN accounts a ON a.id = p.account_id WHERE {where} ORDER BY p.id"))]


async def test_registry_good_and_partial_then_reimport_adds_nothing(api, tx):
    report = await upload(api, "sberbank", GOOD)
    assert (report["lines"], report["loaded"], report["unidentified"], report["duplicates"]) == (3, 3, 1, 0)
    assert report["mode"] == "sync" and D(report["amount"]) == D("4330.50")
    # the reading for ХВ-123456 is recorded as 'bank'; ГВ-654321 is no meter of the account: a warning
    assert report["readings"] == {"not_found": 1, "accepted": 1}
    assert [e for e in report["errors"] if "warning" in e][0]["line"] == 1
    assert await payments(tx) == [
        ("100000000001", "0000101", D("1500.00"), "identified", ""),
        ("100000000002", "0000102", D("830.50"), "identified", ""),
        ("100000000003", None, D("2000.00"), "unidentified", "Лицевой счёт 0000215 не найден")]
    async with tx() as conn:
        readings = (await conn.execute(text("SELECT value, source, read_on FROM readings"))).all()
        allocated = (await conn.execute(text("SELECT sum(amount) FROM payment_allocations"))).scalar()
        stored = (await conn.execute(text("SELECT c.content, f.checksum, f.lines, f.loaded, f.unidentified FROM payment_files f "
                                           "JOIN payment_file_contents c ON c.file_id = f.id"))).one()
    assert [tuple(r) for r in readings] == [(D("123.45"), "bank", date(2026, 11, 15))]
    assert allocated == D("2330.50")  # the identified payments (advances: no charges yet)
    assert stored.content == GOOD and (stored.lines, stored.loaded, stored.unidentified) == (3, 3, 1)

    again = await upload(api, "sberbank", GOOD)
    assert again["duplicate_file"] is True and again["loaded"] == 0 and again["file_id"] == report["file_id"]
    assert "уже загружен" in again["notes"][0]

    # the partial sample's trailer cannot be checked (line 7 has no amount): the registry is refused whole
    refused = await upload(api, "sberbank", PARTIAL, status=422)
    assert "не принят целиком" in refused["error"]["message"]
    # without its trailer the good lines load and each bad line is reported
    partial = await upload(api, "sberbank", PARTIAL.rsplit(b"=", 1)[0])
    assert (partial["lines"], partial["loaded"], partial["unidentified"]) == (8, 2, 0)
    errors = {e["line"]: e.get("error") for e in partial["errors"] if "error" in e}
    assert sorted(errors) == [2, 3, 4, 5, 7, 8], errors
    assert "не найден" not in str(errors) and "повторяется" in errors[5]
    # the same registry with another trailer comment = another checksum: every operation id is known already
    changed = await upload(api, "sberbank", PARTIAL.rsplit(b"=", 1)[0] + b"\n")
    assert changed["loaded"] == 0 and changed["duplicates"] == 2 and not changed["duplicate_file"]
    assert "уже загружена" in [e for e in changed["errors"] if e.get("line") == 1][0]["error"]
    assert len(await payments(tx)) == 5
    r = await api.get(f"/api/payment-files/{partial['file_id']}")
    assert r.status_code == 200 and r.json()["loaded"] == 2 and len(r.json()["errors"]) >= 6
    listed = await api.ok("get", "/api/payment-files")
    assert listed["total"] == 3 and "content" not in listed["items"][0]


async def test_registry_cells_are_stored_as_written_whatever_they_hold(api, tx):
    # COPY's text format is built only when no cell needs escaping: a backslash sends records instead
    plain = "15-11-2026;10:00:00;1;К;OP-Q1;0000102;Петрова \"А\", кв. 'Б';1126;100.00;1.00\n".encode()
    escaped = ("15-11-2026;10:00:00;1;К;OP-Q2;0000105;Кузнецова \\N\\t;;70.00;\n"
               "16-11-2026;10:00:00;;;OP-Q3;0000101;\\;1026;5,5;\n").encode()
    assert (await upload(api, "sberbank", plain))["loaded"] == 1
    assert (await upload(api, "sberbank", escaped))["loaded"] == 2
    async with tx() as conn:
        stored = [tuple(r) for r in await conn.execute(text(
            "SELECT operation_id, payer, purpose, period, amount, commission, line_no FROM payments "
            "WHERE operation_id LIKE 'OP-Q%' ORDER BY operation_id"))]
    assert stored == [
        ("OP-Q1", "Петрова \"А\", кв. 'Б'", "1 К", date(2026, 11, 1), D("100.00"), D("1.00"), 1),
        ("OP-Q2", "Кузнецова \\N\\t", "1 К", None, D("70.00"), D("0.00"), 1),
        ("OP-Q3", "\\", "", date(2026, 10, 1), D("5.50"), D("0.00"), 2)]


async def test_same_operation_in_another_file_closed_account_and_rollback(api, tx):
    one = "15-11-2026;10:00:00;1;К;OP-1;0000102;Петрова;1126;100.00;1.00\n".encode()
    two = ("15-11-2026;10:00:00;1;К;OP-1;0000102;Петрова;1126;100.00;1.00\n"
           "16-11-2026;10:00:00;1;К;OP-2;0000103;Орлов;1126;50.00;0.50\n"
           "16-10-2026;10:00:00;1;К;OP-3;0000105;Кузнецова;1026;70.00;0.70\n").encode()
    first = await upload(api, "sberbank", one)
    second = await upload(api, "sberbank", two)
    assert (first["loaded"], second["loaded"], second["duplicates"], second["unidentified"]) == (1, 2, 1, 1)
    assert await payments(tx, "operation_id IN ('OP-2')") == [
        ("OP-2", None, D("50.00"), "unidentified", "Лицевой счёт 0000103 закрыт 30.06.2025")]
    async with tx() as conn:
        await conn.execute(text("INSERT INTO periods(period, status) VALUES (DATE '2026-10-01', 'closed')"))
    r = await api.post(f"/api/payment-files/{second['file_id']}/rollback")
    assert r.status_code == 409 and r.json()["error"]["code"] == "period_closed", r.text
    assert "2026-10" in r.json()["error"]["message"]
    async with tx() as conn:
        await conn.execute(text("UPDATE periods SET status = 'open' WHERE period = DATE '2026-10-01'"))
    done = await api.ok("post", f"/api/payment-files/{second['file_id']}/rollback", status=200)
    assert done["status"] == "rolled_back" and "сохранены" in done["note"]
    assert [p[3] for p in await payments(tx, f"file_id = {second['file_id']}")] == ["rolled_back", "rolled_back"]
    async with tx() as conn:
        left = (await conn.execute(text(
            "SELECT count(*) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id "
            "WHERE p.status = 'rolled_back'"))).scalar()
    assert left == 0
    r = await api.post(f"/api/payment-files/{second['file_id']}/rollback")
    assert r.status_code == 409
    # loaded again after the rollback: the same row, the operations come back
    again = await upload(api, "sberbank", two)
    assert again["file_id"] == second["file_id"] and again["loaded"] == 2 and again["duplicates"] == 1


async def test_1c_statement(api, tx):
    await api.ok("post", "/api/payment-agents", {"code": "bank1c", "name": "Банк (выписка 1С)", "file_format": "1c"})
    data = STATEMENT.replace("НазначениеПлатежа=НазначениеПлатежа\n",
                             "НазначениеПлатежа=Оплата за воду по л/с 0000105 за октябрь\n", 1)
    report = await upload(api, "bank1c", data.encode("cp1251"))
    assert (report["loaded"], report["unidentified"]) == (2, 1), report
    rows = await payments(tx)
    assert [(r[1], r[2], r[3]) for r in rows] == [("0000105", D("10.10"), "identified"),
                                                  (None, D("10.10"), "unidentified")]
    assert "не найден" in rows[1][4] or "не указан" in rows[1][4]
    again = await upload(api, "bank1c", data.encode("cp1251"))
    assert again["duplicate_file"] and again["loaded"] == 0


@pytest.mark.parametrize(("purpose", "number"), [
    ("Оплата по л/с 0000101 за 10.2026", "0000101"), ("ЛС 123456 вода", "123456"), ("лс№77", "77"),
    ("по лицевому счету: 4501", "4501"), ("Лицевой счёт 12-34", "12-34"), ("за воду, ул. Ленина с 1", None),
    ("Оплата по договору 15", None)])
def test_account_in_purpose(purpose, number):
    assert account_in_purpose(purpose) == number


def receipt_qr(account: str, kopecks: int | None = 123456) -> str:
    fields = {"Name": "МУП Водоканал", "PersonalAcc": "40702810900000000001", "BankName": "ПАО Банк",
              "BIC": "044525225", "CorrespAcc": "30101810400000000225", "PersAcc": account,
              "PaymPeriod": Period(2026, 10), "LastName": "Иванов", "Purpose": "Оплата воды"}
    if kopecks is not None:
        fields["Sum"] = D(kopecks) / 100
    return build_payment_string(fields)


async def test_manual_by_qr_storno_transfer_identify_and_audit(api, tx, client, tenant):
    p = await api.ok("post", "/api/payments", {"qr": receipt_qr("0000101"), "paid_on": "2026-11-20"})
    assert (p["account_number"], p["amount"], p["status"], p["source"], p["agent_code"]) == (
        "0000101", "1234.56", "identified", "manual", "manual")
    assert p["period"] == "2026-10-01" and p["payer"] == "Иванов"
    cash = await api.ok("post", "/api/payments", {"account_id": 2, "amount": "500.00", "paid_on": "2026-11-20",
                                                  "agent": "cash", "note": "касса 1"})
    assert cash["source"] == "cash" and cash["status"] == "identified"
    lost = await api.ok("post", "/api/payments", {"qr": receipt_qr("9999999"), "paid_on": "2026-11-20"})
    assert lost["status"] == "unidentified" and lost["reason"] == "Лицевой счёт 9999999 не найден"
    r = await api.post("/api/payments", {"account_id": 3, "amount": "10", "paid_on": "2026-11-20"})
    assert r.status_code == 422 and "закрыт" in r.text
    r = await api.post("/api/payments", {"account_id": 1, "amount": "-10", "paid_on": "2026-11-20"})
    assert r.status_code == 422
    async with tx() as conn:
        await conn.execute(text("INSERT INTO periods(period, status) VALUES (DATE '2025-01-01', 'closed')"))
    r = await api.post("/api/payments", {"account_id": 1, "amount": "10", "paid_on": "2025-01-20"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "period_closed"

    # storno: allocations removed
    s = await api.ok("post", f"/api/payments/{cash['id']}/storno", {"note": "ошибка кассира"}, status=200)
    assert s["status"] == "storno" and s["reason"] == "ошибка кассира"
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM payment_allocations WHERE payment_id = :p"),
                                   {"p": cash["id"]})).scalar() == 0
    assert (await api.post(f"/api/payments/{cash['id']}/storno")).status_code == 409

    # transfer: the original reversed, the money on the other account
    t = await api.ok("post", f"/api/payments/{p['id']}/transfer", {"account_id": 4}, status=200)
    assert t["storno"]["status"] == "storno" and "0000105" in t["storno"]["reason"]
    assert (t["payment"]["account_number"], t["payment"]["amount"], t["payment"]["source"],
            t["payment"]["storno_of"]) == ("0000105", "1234.56", "transfer", p["id"])
    async with tx() as conn:
        alloc = dict((await conn.execute(text(
            "SELECT payment_id, sum(amount) FROM payment_allocations GROUP BY 1"))).all())
    assert alloc == {t["payment"]["id"]: D("1234.56")}

    # the queue: search by text, amount and date; identify
    for q in ("9999999", "1234,56", "20.11.2026", "Иванов"):
        found = await api.ok("get", f"/api/payments/unidentified?q={q}")
        assert [x["id"] for x in found["items"]] == [lost["id"]], q
    assert (await api.ok("get", "/api/payments/unidentified?q=777"))["total"] == 0
    ok = await api.ok("post", f"/api/payments/{lost['id']}/identify", {"account_id": 2}, status=200)
    assert ok["status"] == "identified" and ok["account_number"] == "0000102"
    assert (await api.ok("get", "/api/payments/unidentified"))["total"] == 0
    assert (await api.post(f"/api/payments/{lost['id']}/identify", {"account_id": 2})).status_code == 409
    async with tx() as conn:
        assert (await conn.execute(text("SELECT sum(amount) FROM payment_allocations WHERE payment_id = :p"),
                                   {"p": lost["id"]})).scalar() == D("1234.56")

    # audit: who did what
    for pid, actions in ((p["id"], {"insert", "update"}), (t["payment"]["id"], {"insert"}),
                         (lost["id"], {"insert", "update"})):
        hist = await api.ok("get", f"/api/audit/payments/{pid}")
        items = hist["items"] if isinstance(hist, dict) else hist
        assert {h["action"] for h in items} == actions, hist
        assert all(h.get("user_id") for h in items), hist
        # the insert is logged by reference (t0015): shown as inserted — the next entry's old state, or the row
        inserted = next(h for h in items if h["action"] == "insert")
        assert inserted["by_reference"] and inserted["new"]["id"] == pid, hist
        later = [h for h in items if h["action"] == "update"]
        assert inserted["new"]["status"] == ("unidentified" if pid == lost["id"] else "identified"), hist
        if later:  # p reversed (storno), lost identified later: the insert shows the state before
            assert inserted["new"] == later[0]["old"] and later[0]["new"]["status"] != later[0]["old"]["status"]

    # permissions: a viewer can neither post nor reverse
    viewer = await as_role(client, tenant, "viewer")
    assert (await viewer.post("/api/payments", {"account_id": 1, "amount": "1", "paid_on": "2026-11-20"})).status_code == 403
    assert (await viewer.post(f"/api/payments/{ok['id']}/storno")).status_code == 403
    assert (await viewer.client.post("/api/payment-files?agent=sberbank", content=GOOD,
                                     headers=viewer.headers)).status_code == 403
    operator = await as_role(client, tenant, "operator")
    assert (await operator.get("/api/payments/unidentified")).status_code == 200


async def test_agents_and_layout(api):
    layout = {"columns": ["operation_id", "date", "account", "amount"], "separator": "|", "readings": False}
    a = await api.ok("post", "/api/payment-agents", {"code": "post", "name": "Почта", "kind": "post",
                                                     "file_layout": layout})
    assert a["file_layout"]["separator"] == "|"
    bad = await api.post("/api/payment-agents", {"code": "bad", "name": "X", "file_layout": {"columns": ["date"]}})
    assert bad.status_code == 422 and "обязательных столбцов" in bad.text
    assert (await api.post("/api/payment-agents", {"code": "post", "name": "Дубль"})).status_code == 409
    assert (await api.patch(f"/api/payment-agents/{a['id']}", {"file_layout": {"separator": 5}})).status_code == 422
    patched = await api.ok("patch", f"/api/payment-agents/{a['id']}", {"name": "Почта России"})
    assert patched["name"] == "Почта России"
    report = await upload(api, "post", b"A-1|20.11.2026|0000101|99,90\n")
    assert report["loaded"] == 1 and report["unidentified"] == 0
    codes = [x["code"] for x in (await api.ok("get", "/api/payment-agents"))["items"]]
    assert codes == ["cash", "manual", "post", "sberbank", "yookassa"]  # yookassa: t0024
    r = await upload(api, "manual", b"x", status=422)
    assert "нет формата" in r["error"]["message"]
    bad_total = GOOD.replace(b"=3;4330.50", b"=3;4330.51")
    r = await upload(api, "sberbank", bad_total, status=422)
    assert "не принят" in r["error"]["message"]


async def test_large_file_becomes_a_job(api, tx, worker):
    lines = "".join(f"20-11-2026;10:00:00;1;К;J-{i};{'0000101' if i % 2 else '0009999'};П;1126;1.00;0\n"
                    for i in range(5001))
    r = await api.client.post("/api/payment-files?agent=sberbank", content=lines.encode(),
                              headers={**api.headers, "Content-Type": "application/octet-stream"})
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]["id"]
    for _ in range(200):
        job = await api.ok("get", f"/api/jobs/{job_id}")
        if job["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.2)
    assert job["status"] == "done", job
    assert (job["result"]["loaded"], job["result"]["unidentified"]) == (5001, 2501)
    assert len(await payments(tx)) == 5001
