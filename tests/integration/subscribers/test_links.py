"""Linking accounts on the portal: by the last receipt's sum or by the holder's surname (the tenant's setting),
the same answer for a wrong number and a wrong check value, the attempt limit, several accounts, unlinking,
and staff revoking a link on the account card (the portal loses the account)."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import text

from aquabill.base.errors import NotFound
from aquabill.subscribers.links import LINK_REFUSAL, require_linked
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.conftest import small_registry
from tests.portal_support import portal_user

HOLDERS = ("Иванов Иван Иванович", "Петрова Анна Сергеевна", "Ёлкин Пётр", "Сидоров Олег")


async def _seed(conn, tenant=None) -> None:
    """Four accounts ЛС1–ЛС4; January 2024 charged: ЛС1 1234.56, ЛС2 400.00 (then 100.00 paid in January, so its
    receipt asks 300.00), ЛС3 none; ЛС4 50.00 in December and 70.00 in January (the last receipt, January's,
    asks 120.00)."""
    await small_registry(conn, tenant, 4)
    for i, holder in enumerate(HOLDERS, 1):
        await conn.execute(text("UPDATE accounts SET holder = :h WHERE id = :i"), {"h": holder, "i": i})
    await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, amount) "
        "SELECT v.a, s.id, v.p, 'norm', v.amount FROM services s, (VALUES (1, DATE '2024-01-01', 1234.56), "
        "(2, DATE '2024-01-01', 400.00), (4, DATE '2023-12-01', 50.00), (4, DATE '2024-01-01', 70.00)) "
        "v(a, p, amount) WHERE s.code = 'cold_water'"))
    await conn.execute(text(
        "INSERT INTO payments(agent_id, operation_id, source, paid_on, amount, account_id, account_text, status) "
        "SELECT g.id, 'P-2', 'manual', DATE '2024-01-20', 100, 2, 'ЛС2', 'identified' FROM payment_agents g "
        "WHERE g.code = 'manual'"))


@pytest.fixture(scope="module")
async def utility(make_tenant, client):
    handle = await make_tenant(f"lk{secrets.token_hex(3)}", seed=_seed)
    r = await client.post("/api/payments/allocate", headers=handle.headers, json={"account_id": 2})
    assert r.status_code == 202, r.text
    return handle


async def _set_check(core, utility, kind: str) -> None:
    async with tenant_transaction(core.engines, utility.tenant) as conn:
        await conn.execute(text("UPDATE billing_settings SET value = CAST(:v AS jsonb) WHERE key = 'portal_link_check'"),
                           {"v": f'"{kind}"'})


async def _link(client, user, number: str, check: str):
    return await client.post("/api/my/links", headers=user.headers, json={"number": number, "check": check})


async def test_link_by_the_last_receipts_sum(client, core, utility):
    await _set_check(core, utility, "receipt_amount")
    user = await portal_user(core, utility.tenant)
    listed = await client.get("/api/my/links", headers=user.headers)
    assert listed.json()["items"] == [] and listed.json()["check"]["kind"] == "receipt_amount"

    r = await _link(client, user, "ЛС1", "1 234,56")
    assert r.status_code == 201, r.text
    assert r.json() == {"id": 1, "number": "ЛС1", "address": "г. Тестовск, ул. Речная, д. 1, кв. 1",
                        "holder": "Иванов Иван Иванович"}
    again = await _link(client, user, "ЛС1", "1234.56")  # already linked: the same account, still one link
    assert again.status_code == 201 and again.json()["id"] == 1
    assert (await _link(client, user, "ЛС2", "300,00 ₽")).status_code == 201  # after the January payment
    assert (await _link(client, user, "ЛС4", "50.00")).status_code == 422  # December's receipt is not the last
    assert (await _link(client, user, "ЛС4", "120.00")).status_code == 201  # January's: 50.00 owed + 70.00
    listed = await client.get("/api/my/links", headers=user.headers)
    assert [a["number"] for a in listed.json()["items"]] == ["ЛС1", "ЛС2", "ЛС4"]
    async with tenant_transaction(core.engines, utility.tenant) as conn:
        links = (await conn.execute(text("SELECT count(*) FROM subscriber_links WHERE subscriber_id = :s"),
                                    {"s": user.subscriber_id})).scalar_one()
    assert links == 3


async def test_wrong_number_and_wrong_check_get_the_same_answer(client, core, utility):
    await _set_check(core, utility, "receipt_amount")
    user = await portal_user(core, utility.tenant)
    answers = [await _link(client, user, number, check) for number, check in (
        ("ЛС1", "1234.55"),  # a wrong sum
        ("ЛС9", "1234.56"),  # no such account
        ("ЛС3", "0"),  # an account without a receipt
        ("ЛС1", "not a sum"),
    )]
    assert {(r.status_code, r.text) for r in answers} == {(422, answers[0].text)}
    assert answers[0].json()["error"] == {"code": "validation_error", "message": LINK_REFUSAL,
                                          "fields": [{"field": "number", "message": LINK_REFUSAL}]}


async def test_link_by_surname(client, core, utility):
    await _set_check(core, utility, "surname")
    try:
        user = await portal_user(core, utility.tenant)
        assert (await client.get("/api/my/links", headers=user.headers)).json()["check"]["kind"] == "surname"
        assert (await _link(client, user, "ЛС2", "ПЕТ")).status_code == 201
        assert (await _link(client, user, "ЛС3", "елк")).status_code == 201  # ё is е
        assert (await _link(client, user, "ЛС4", "Си")).status_code == 422  # three letters are asked for
        assert (await _link(client, user, "ЛС4", "Сидоров")).status_code == 201  # the whole surname starts with them
        assert (await _link(client, user, "ЛС1", "1234.56")).status_code == 422  # the receipt's sum proves nothing now
    finally:
        await _set_check(core, utility, "receipt_amount")


async def test_attempts_are_limited(client, core, utility):
    user = await portal_user(core, utility.tenant)
    for _ in range(5):
        assert (await _link(client, user, "ЛС1", "1.00")).status_code == 422
    r = await _link(client, user, "ЛС1", "1234.56")  # even the right pair now waits
    assert r.status_code == 409 and r.json()["error"]["code"] == "too_many_attempts"
    assert "Повторите через 60 мин." in r.json()["error"]["message"]
    async with tenant_transaction(core.engines, utility.tenant) as conn:
        failures = (await conn.execute(text("SELECT count(*) FROM link_attempts WHERE actor = :a AND NOT ok"),
                                       {"a": f"subscriber:{user.subscriber_id}"})).scalar_one()
    assert failures == 5  # counted though each refusal rolled its request back
    other = await portal_user(core, utility.tenant)  # the limit is the actor's own
    assert (await _link(client, other, "ЛС1", "1234.56")).status_code == 201


async def test_unlink_on_the_pages_and_the_api(client, core, utility):
    user = await portal_user(core, utility.tenant, account_ids=[1, 2])
    page = await client.get("/my/link", headers=user.headers)
    assert page.status_code == 200 and "Сумма «Итого к оплате» из последней квитанции" in page.text
    assert "ЛС1" in page.text and "ЛС2" in page.text
    r = await client.post("/my/link", headers=user.headers, data={"number": "ЛС4", "check": "120,00"})
    assert r.status_code == 200 and "Лицевой счёт ЛС4" in r.text and "привязан" in r.text
    r = await client.post("/my/link", headers=user.headers, data={"number": "ЛС4", "check": "1"})
    assert r.status_code == 422 and LINK_REFUSAL in r.text

    r = await client.post("/my/accounts/1/unlink", headers=user.headers, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/my/link"
    r = await client.delete("/api/my/links/2", headers=user.headers)
    assert r.status_code == 200
    assert [a["number"] for a in (await client.get("/api/my/links", headers=user.headers)).json()["items"]] == ["ЛС4"]
    for unlinked in (1, 3, 999):  # unlinked, never linked, no such account: one answer
        r = await client.delete(f"/api/my/links/{unlinked}", headers=user.headers)
        assert r.status_code == 404 and r.json()["error"]["message"] == "Лицевой счёт не найден"
    async with tenant_transaction(core.engines, utility.tenant) as conn:
        reason = (await conn.execute(text(
            "SELECT revoked_reason FROM subscriber_links WHERE subscriber_id = :s AND account_id = 1"),
            {"s": user.subscriber_id})).scalar_one()
    assert reason == "Отвязан абонентом"


async def test_staff_see_and_revoke_links_and_the_portal_loses_the_account(client, core, utility):
    user = await portal_user(core, utility.tenant, account_ids=[3], email=f"lk{secrets.token_hex(3)}@mail.example")
    staff = utility.headers
    r = await client.get("/api/accounts/3/subscriber-links", headers=staff)
    mine = next(x for x in r.json()["items"] if x["subscriber_id"] == user.subscriber_id)
    assert mine["revoked_at"] is None and mine["email"].startswith("lk")

    section = await client.get("/accounts/3/subscriber-links", headers=staff)
    assert section.status_code == 200 and 'id="links-section"' in section.text and mine["email"] in section.text
    assert f"/accounts/3/subscriber-links/{mine['id']}/revoke" in section.text

    no_reason = await client.post(f"/api/accounts/3/subscriber-links/{mine['id']}/revoke", headers=staff, json={})
    assert no_reason.status_code == 422
    wrong_account = await client.post(f"/api/accounts/2/subscriber-links/{mine['id']}/revoke", headers=staff,
                                      json={"reason": "Не владелец"})
    assert wrong_account.status_code == 404
    r = await client.post(f"/api/accounts/3/subscriber-links/{mine['id']}/revoke", headers=staff,
                          json={"reason": "Не владелец"})
    assert r.status_code == 200 and r.json()["revoked_at"] and r.json()["revoked_reason"] == "Не владелец"
    assert r.json()["revoked_by"] == 1
    again = await client.post(f"/api/accounts/3/subscriber-links/{mine['id']}/revoke", headers=staff,
                              json={"reason": "Ещё раз"})
    assert again.status_code == 409

    assert (await client.get("/api/my/links", headers=user.headers)).json()["items"] == []
    async with tenant_transaction(core.engines, utility.tenant) as conn:
        with pytest.raises(NotFound):
            await require_linked(conn, user.subscriber_id, 3)
    section = await client.get("/accounts/3/subscriber-links", headers=staff)
    assert "отозвана" in section.text and "Не владелец" in section.text

    history = await client.get(f"/api/audit/subscriber_links/{mine['id']}", headers=staff)
    update = next(e for e in history.json()["items"] if e["action"] == "update")
    assert update["user_id"] == 1 and update["new"]["revoked_reason"] == "Не владелец"


async def test_revoke_needs_accounts_edit(client, core, utility, make_tenant):
    user = await portal_user(core, utility.tenant, account_ids=[4])
    r = await client.post("/api/users", headers=utility.headers, json={
        "login": f"viewer{secrets.token_hex(3)}", "password": "viewer-password", "full_name": "Смотритель",
        "roles": ["viewer"]})
    assert r.status_code == 201, r.text
    login = await client.post("/api/auth/login", json={"tenant": utility.tenant.slug, "login": r.json()["login"],
                                                         "password": "viewer-password"})
    viewer = {"Authorization": f"Bearer {login.json()['token']}"}
    links = (await client.get("/api/accounts/4/subscriber-links", headers=viewer)).json()["items"]
    link = next(x for x in links if x["subscriber_id"] == user.subscriber_id)
    r = await client.post(f"/api/accounts/4/subscriber-links/{link['id']}/revoke", headers=viewer,
                          json={"reason": "Проверка"})
    assert r.status_code == 403
    section = await client.get("/accounts/4/subscriber-links", headers=viewer)
    assert section.status_code == 200 and "/revoke" not in section.text
