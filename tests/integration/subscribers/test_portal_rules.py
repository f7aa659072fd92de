"""Staff set the tenant's portal rules: the reading window and what proves an account is one's own."""

from __future__ import annotations

from tests.integration.billing_core.api_helpers import login_cookie


async def test_rules_default_then_changed_through_api_and_page(client, make_tenant):
    t = await make_tenant()
    r = await client.get("/api/portal/rules", headers=t.headers)
    assert r.json() == {"reading_first_day": 15, "reading_last_day": 25, "link_check": "receipt_amount",
                        "link_check_name": "Сумма к оплате по последней квитанции"}
    r = await client.put("/api/portal/rules", headers=t.headers,
                         json={"reading_first_day": 25, "reading_last_day": 5, "link_check": "surname"})
    assert r.status_code == 200 and r.json()["link_check"] == "surname"
    r = await client.put("/api/portal/rules", headers=t.headers,
                         json={"reading_first_day": 1, "reading_last_day": 20, "link_check": "passport"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "link_check"
    assert (await client.get("/api/portal/rules", headers=t.headers)).json()["reading_first_day"] == 25

    await login_cookie(client, t)
    page = await client.post("/portal/rules", data={"reading_first_day": "40", "reading_last_day": "5",
                                                    "link_check": "surname"})
    assert page.status_code == 200 and "День месяца — от 1 до 31" in page.text
    page = await client.post("/portal/rules", data={"reading_first_day": "20", "reading_last_day": "26",
                                                    "link_check": "receipt_amount"})
    assert "Правила личного кабинета сохранены" in page.text and 'value="20"' in page.text
    audit = (await client.get("/api/audit?table=billing_settings", headers=t.headers)).json()
    assert any(e["action"] == "update" for e in audit["items"])
