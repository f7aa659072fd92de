"""The receipt's due date on the page and in the API, before and after the change of art. 155 part 1 on
01.03.2026, with the tenant's contract day (`payment_due_day`, seeded 10)."""

from sqlalchemy import text

from tests.integration.billing_core.api_helpers import Api, login_cookie


async def test_receipt_due_date_before_and_after_march_2026(client, penalty_tenant, tx):
    api = Api(client, penalty_tenant.headers)
    december = await api.ok("get", "/api/accounts/1/receipt?period=2026-12")
    assert december["pay_by"] == "2027-01-15"
    january = await api.ok("get", "/api/accounts/1/receipt?period=2026-01")
    assert january["pay_by"] == "2026-02-10" and "(ч. 1 ст. 155 ЖК РФ)" in january["pay_by_text"]

    await login_cookie(client, penalty_tenant)
    page = await client.get("/accounts/1/receipt?period=2026-12")
    assert page.status_code == 200
    assert ("Оплатите до 15.01.2027 включительно: до 15-го числа месяца, следующего за расчётным "
            "(ч. 1 ст. 155 ЖК РФ в редакции, действующей с 01.03.2026).") in page.text
    assert "до 10-го числа" not in page.text
    page = await client.get("/accounts/1/receipt?period=2026-01")
    assert "Оплатите до 10.02.2026 включительно: до 10-го числа" in page.text

    async with tx() as conn:  # a contract's 20th: counted for January 2026, not for December 2026
        await conn.execute(text("UPDATE billing_settings SET value = '20' WHERE key = 'payment_due_day'"))
    try:
        assert (await api.ok("get", "/api/accounts/1/receipt?period=2026-01"))["pay_by"] == "2026-02-20"
        assert (await api.ok("get", "/api/accounts/1/receipt?period=2026-12"))["pay_by"] == "2027-01-15"
    finally:
        async with tx() as conn:
            await conn.execute(text("UPDATE billing_settings SET value = '10' WHERE key = 'payment_due_day'"))
