"""A payment's insert is audited by reference (t0015: who, when, which row) with the SHA-256 of the row as
inserted (t0018): the audit API shows the row as inserted and whether it matches (`verified`)."""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.billing_core.payments.intake import create_payment
from tests.integration.billing_core.api_helpers import Api


async def inserted(api: Api, payment_id: int) -> dict:
    items = (await api.ok("get", f"/api/audit/payments/{payment_id}"))["items"]
    return next(e for e in items if e["action"] == "insert")


async def test_the_row_shown_for_an_insert_is_checked_against_its_digest(client, billing_tenant, tx):
    api = Api(client, billing_tenant.headers)
    a = await api.ok("post", "/api/payments", {"account_id": 1, "amount": "100.50", "paid_on": "2024-03-05",
                                               "note": "касса, окно (2)"})
    async with tx(7) as conn:  # written in another time zone and date style than the API reads in
        await conn.execute(text("SET LOCAL timezone = 'Asia/Vladivostok'"))
        await conn.execute(text("SET LOCAL datestyle = 'German'"))
        b = await create_payment(conn, amount=D("70.00"), paid_on=date(2024, 3, 6), account_id=2, user_id=7)

    # as inserted and never changed since: the row as it stands matches
    for payment, amount in ((a, 100.5), (b, 70.0)):
        entry = await inserted(api, payment["id"])
        assert (entry["by_reference"], entry["verified"], entry["new"]["amount"]) == (True, True, amount)
        assert entry["old"] is None
    # changed later (storno): the insert shows the update's old state, which matches
    await api.ok("post", f"/api/payments/{a['id']}/storno", {"note": "ошибка"}, status=200)
    entry = await inserted(api, a["id"])
    assert (entry["verified"], entry["new"]["status"]) == (True, "identified")

    # the logged old state altered: shown as logged, not verified
    async with tx() as conn:
        await conn.execute(text(
            "UPDATE audit_log SET old_row = jsonb_set(old_row, '{amount}', '1000.50') "
            "WHERE table_name = 'payments' AND row_id = :r AND action = 'update'"), {"r": str(a["id"])})
    entry = await inserted(api, a["id"])
    assert (entry["verified"], entry["new"]["amount"]) == (False, 1000.5)
    # the row changed behind the audit triggers' back: not verified
    async with tx() as conn:
        await conn.execute(text("ALTER TABLE payments DISABLE TRIGGER audit_update"))
        await conn.execute(text("UPDATE payments SET amount = 7000 WHERE id = :p"), {"p": b["id"]})
        await conn.execute(text("ALTER TABLE payments ENABLE TRIGGER audit_update"))
    entry = await inserted(api, b["id"])
    assert (entry["verified"], entry["new"]["amount"]) == (False, 7000.0)
    # an insert logged before digests were kept: nothing to check against
    async with tx() as conn:
        await conn.execute(text(
            "UPDATE audit_log SET row_hash = NULL WHERE table_name = 'payments' AND row_id = :r AND action = 'insert'"),
            {"r": str(b["id"])})
    entry = await inserted(api, b["id"])
    assert (entry["by_reference"], entry["verified"]) == (True, None)


async def test_a_column_added_later_keeps_the_digests_of_earlier_rows(client, billing_tenant, tx):
    api = Api(client, billing_tenant.headers)
    a = await api.ok("post", "/api/payments", {"account_id": 1, "amount": "12.34", "paid_on": "2024-03-05"})
    async with tx() as conn:
        await conn.execute(text("ALTER TABLE payments ADD COLUMN cashier_note text"))
    try:
        entry = await inserted(api, a["id"])
        assert (entry["verified"], entry["new"]["cashier_note"]) == (True, None)
    finally:
        async with tx() as conn:
            await conn.execute(text("ALTER TABLE payments DROP COLUMN cashier_note"))
