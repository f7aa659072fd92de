"""Cash points and their agents over the API and the pages: validation against t0030's checks, unique names,
agents added, codes issued (the command line shown once), keys revoked, permissions (cash view / admin)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import text

from aquabill.cash import agents, commands
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api, as_role


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant()


@pytest.fixture
def api(client, tenant) -> Api:
    return Api(client, tenant.headers)


async def _point(api: Api, name: str, **kw) -> dict:
    return await api.ok("post", "/api/cash/points", {"name": name, **kw})


async def test_a_point_is_created_listed_and_edited(api):
    p = await _point(api, "Касса № 1", address="г. Тверь, ул. Ленина, 5", place="Абонентский отдел, окно 1",
                     tax_system=1, vat="none", cash_limit="50000.00")
    assert (p["name"], p["tax_system"], p["vat"], p["cash_limit"], p["active"], p["agents"]) == (
        "Касса № 1", 1, "none", "50000.00", True, [])
    listed = await api.ok("get", "/api/cash/points?limit=500")
    assert [x["id"] for x in listed["items"] if x["name"] == "Касса № 1"] == [p["id"]]
    changed = await api.ok("patch", f"/api/cash/points/{p['id']}", {"vat": "22", "tax_system": 2, "active": False})
    assert (changed["vat"], changed["tax_system"], changed["active"], changed["address"]) == (
        "22", 2, False, "г. Тверь, ул. Ленина, 5")


@pytest.mark.parametrize("body, field", [
    ({"tax_system": 3}, "tax_system"), ({"tax_system": 8}, "tax_system"), ({"cash_limit": "-1"}, "cash_limit"),
    ({"cash_limit": "10.005"}, "cash_limit"), ({"cash_limit": "1000000000000"}, "cash_limit"),
    ({"cash_limit": "NaN"}, "cash_limit"), ({"name": "   "}, "name"), ({"address": "a\x00b"}, "address")])
async def test_bad_point_values_are_refused_in_russian(api, body, field):
    r = await api.post("/api/cash/points", {"name": "Касса проверки", **body})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"][0]["field"] == field
    assert re.search("[а-я]", r.json()["error"]["message"])


async def test_a_vat_outside_the_check_is_refused_by_the_schema(api):
    r = await api.post("/api/cash/points", {"name": "Касса НДС", "vat": "18"})
    assert r.status_code == 400


async def test_the_name_is_unique_whatever_its_case(api):
    first = await _point(api, "Касса уникальная")
    r = await api.post("/api/cash/points", {"name": "касса УНИКАЛЬНАЯ"})
    assert r.status_code == 409 and "уже есть" in r.json()["error"]["message"]
    other = await _point(api, "Касса другая")
    r = await api.patch(f"/api/cash/points/{other['id']}", {"name": "Касса уникальная"})
    assert r.status_code == 409
    assert (await api.ok("patch", f"/api/cash/points/{first['id']}", {"name": "Касса уникальная"}))["id"] == first["id"]


async def test_unknown_point_and_agent_are_404(api):
    assert (await api.get("/api/cash/points/2147483647")).status_code == 404
    assert (await api.get("/api/cash/agents/2147483647")).status_code == 404
    assert (await api.post("/api/cash/points/2147483647/agents", {"name": "Окно"})).status_code == 404
    assert (await api.post("/api/cash/agents/2147483647/code")).status_code == 404


async def test_agent_code_enroll_and_revoke(api, client, tenant, core):
    p = await _point(api, "Касса с агентом")
    agent = await api.ok("post", f"/api/cash/points/{p['id']}/agents", {"name": "Окно 1"})
    assert (agent["status"], agent["online"]) == ("pending", False)
    first = await api.ok("post", f"/api/cash/agents/{agent['id']}/code")
    second = await api.ok("post", f"/api/cash/agents/{agent['id']}/code")
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}", second["code"])
    assert second["command"] == (f"aquabill-edge enroll --server http://testserver.local --tenant {tenant.tenant.slug} "
                                 f"--code {second['code']}")
    # a new code voids the unused one
    r = await client.post("/edge/enroll", json={"tenant": tenant.tenant.slug, "code": first["code"], "name": "pc"})
    assert r.status_code == 403
    r = await client.post("/edge/enroll", json={"tenant": tenant.tenant.slug, "code": second["code"].lower(),
                                                "name": "kassa-pc", "version": "0.1.0"})
    assert r.status_code == 200, r.text
    enrolled = await api.ok("get", f"/api/cash/agents/{agent['id']}")
    assert (enrolled["status"], enrolled["version"], enrolled["device"]) == ("active", "0.1.0", {"host": "kassa-pc"})
    assert "key_hash" not in enrolled
    revoked = await api.ok("post", f"/api/cash/agents/{agent['id']}/revoke", {}, status=200)
    assert revoked["status"] == "revoked" and revoked["revoked_by"] is not None
    r = await api.post(f"/api/cash/agents/{agent['id']}/code")
    assert r.status_code == 409 and "отозван" in r.json()["error"]["message"]
    # the enrollment and the revocation are in the audit log, without the key's hash
    async with tenant_transaction(core.engines, tenant.tenant) as conn:
        rows = (await conn.execute(text(
            "SELECT new_row FROM audit_log WHERE table_name = 'edge_agents' AND row_id = :r AND action = 'update' "
            "ORDER BY id"), {"r": str(agent["id"])})).scalars().all()
    assert [r["status"] for r in rows] == ["active", "revoked"]
    assert all("key_hash" not in r for r in rows)


async def test_the_points_page_renders_for_an_admin_with_codes_and_commands(api, client, tenant):
    p = await _point(api, "Касса страницы", address="ул. Мира, 1")
    agent = await api.ok("post", f"/api/cash/points/{p['id']}/agents", {"name": "Окно страницы"})
    listing = await client.get("/cash/points", headers=tenant.headers)
    assert listing.status_code == 200 and "Касса страницы" in listing.text and "ул. Мира, 1" in listing.text
    page = await client.get(f"/cash/points/{p['id']}", headers=tenant.headers)
    assert page.status_code == 200
    assert "Окно страницы" in page.text and "Выдать код подключения" in page.text
    issued = await client.post(f"/cash/agents/{agent['id']}/code", headers=tenant.headers)
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    code = re.search(r'id="enrollment-code-value">([A-Z0-9-]+)<', issued.text).group(1)
    assert f"aquabill-edge enroll --server http://testserver.local --tenant {tenant.tenant.slug} --code {code}" \
        in issued.text
    again = await client.get(f"/cash/points/{p['id']}", headers=tenant.headers)
    assert code not in again.text  # shown once
    part = await client.get(f"/cash/points/{p['id']}/agents", headers=tenant.headers)
    assert part.status_code == 200 and "Окно страницы" in part.text


async def test_the_page_shows_the_register_and_the_commands_in_russian(api, client, tenant, core):
    p = await _point(api, "Касса с регистратором")
    agent = await api.ok("post", f"/api/cash/points/{p['id']}/agents", {"name": "Окно 2"})
    register = {"model": "ШТРИХ-М-01Ф", "serial": "0012345678", "fn_number": "7281440500123456", "mode": 2,
                "mode_text": "Открытая смена, 24 часа не кончились", "shift_open": True, "shift_number": 12,
                "last_fd": 345}
    async with tenant_transaction(core.engines, tenant.tenant, 1) as conn:
        await agents.touch(conn, agent["id"], address="10.1.2.3", version="0.1.0",
                           device={"register": register, "terminal": None}, every_seconds=0)
        done = await commands.enqueue(conn, agent_id=agent["id"], kind="x_report", key=uuid.uuid4(), payload={},
                                      user_id=1)
        await commands.record_result(conn, agent["id"], done["id"], True, {"printed": True}, None)
        failed = await commands.enqueue(conn, agent_id=agent["id"], kind="receipt", key=uuid.uuid4(), payload={},
                                        user_id=1)
        await commands.record_result(conn, agent["id"], failed["id"], False, None,
                                     {"code": "register_error", "message": "Нет бумаги", "retryable": False})
        await commands.enqueue(conn, agent_id=agent["id"], kind="status", key=uuid.uuid4(), payload={}, user_id=1)
    page = await client.get(f"/cash/points/{p['id']}", headers=tenant.headers)
    assert page.status_code == 200
    for shown in ("ШТРИХ-М-01Ф", "зав. № 0012345678", "ФН 7281440500123456", "смена № 12 открыта", "с адреса 10.1.2.3",
                  "X-отчёт", "выполнена", "Чек", "ошибка", "Нет бумаги", "Запрос состояния", "в очереди"):
        assert shown in page.text, shown
    listing = await client.get("/cash/points?offset=0", headers=tenant.headers)
    assert "ФН 7281440500123456" in listing.text and "открыта № 12" in listing.text
    listed = await api.ok("get", "/api/cash/points?limit=500")
    mine = next(x for x in listed["items"] if x["id"] == p["id"])
    assert mine["agents"][0]["device"]["register"] == register and mine["agents"][0]["online"] is False
    commands_page = await api.ok("get", f"/api/cash/agents/{agent['id']}/commands?limit=2")
    assert (commands_page["total"], [c["status_name"] for c in commands_page["items"]]) == (3, ["в очереди", "ошибка"])


async def test_page_forms_create_a_point_and_refuse_a_bad_one(client, tenant):
    ok = await client.post("/cash/points", headers=tenant.headers, follow_redirects=False,
                           data={"name": "Касса из формы", "tax_system": "2", "vat": "20", "cash_limit": "1 000,50"})
    assert ok.status_code == 303
    page = await client.get(ok.headers["location"], headers=tenant.headers)
    assert "Касса из формы" in page.text and "1\u202f000,50" in page.text
    bad = await client.post("/cash/points", headers=tenant.headers, data={"name": "Касса плохая", "tax_system": "8"})
    assert bad.status_code == 422 and "ЕНВД не применяется" in bad.text


async def test_permissions_view_and_admin(client, tenant, api):
    p = await _point(api, "Касса прав")
    operator = await as_role(client, tenant, "operator")  # no "cash" at all
    assert (await operator.get("/cash/points")).status_code == 403
    assert (await operator.get("/api/cash/points")).status_code == 403
    cashier = await as_role(client, tenant, "cashier")  # cash view + edit, not admin
    assert (await cashier.get("/cash/points")).status_code == 200
    assert (await cashier.get(f"/api/cash/points/{p['id']}")).status_code == 200
    assert (await cashier.post("/api/cash/points", {"name": "Касса кассира"})).status_code == 403
    assert (await cashier.post(f"/api/cash/points/{p['id']}/agents", {"name": "Окно"})).status_code == 403
    page = await cashier.get(f"/cash/points/{p['id']}")
    assert "Добавить агента" not in page.text
