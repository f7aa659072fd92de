"""Audiences on the small town of support.py: each filter gives the right accounts; addresses per channel with
opt-outs and the bots' «stop»; the count does not write anything."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.base.errors import Invalid, NotFound
from aquabill.notifications.audiences import audience_accounts, check_places, count_audience, parse_audience
from aquabill.notifications.recipients import NO_ADDRESS, OPTED_OUT, reach_select, resolved_sql
from aquabill.tenants.context import tenant_transaction
from tests.integration.notifications.support import TODAY, town

ALL = ["email", "sms", "telegram", "max", "autocall", "inbox"]


@pytest.fixture(scope="module")
async def town_tenant(make_tenant):
    return (await make_tenant(seed=town)).tenant


@pytest.fixture
def tx(core, town_tenant):
    return lambda: tenant_transaction(core.engines, town_tenant)


async def accounts(tx, **raw) -> list[int]:
    async with tx() as conn:
        return await audience_accounts(conn, parse_audience(raw), TODAY)


@pytest.mark.parametrize("raw, expected", [
    ({}, list(range(1, 11))),  # the whole tenant, open accounts only
    ({"house_ids": [1]}, [1, 2, 3, 4]),
    ({"house_ids": [1, 2]}, [1, 2, 3, 4, 5, 6, 7]),
    ({"street_ids": [2]}, [8, 9, 10]),
    ({"request_id": 1}, [8, 9, 10]),  # the house of the planned-works request
    ({"request_id": 1, "house_ids": [2]}, [5, 6, 7, 8, 9, 10]),  # places are united
    ({"debt_over": "1000"}, [1]),  # 1 500 > 1 000; account 5 owes exactly 1 000
    ({"debt_over": "999.99"}, [1, 5]),
    ({"debt_months": 2}, [1]),
    ({"debt_months": 1}, [1, 5]),
    ({"debt_months": 1, "house_ids": [2]}, [5]),  # conditions and places together
    ({"verification_days": 30}, [1]),  # not 6 (100 days) nor 7 (its meter is removed)
    ({"verification_days": 100}, [1, 6]),
])
async def test_each_filter_gives_its_accounts(tx, raw, expected):
    assert await accounts(tx, **raw) == expected
    async with tx() as conn:
        assert await count_audience(conn, parse_audience(raw), TODAY) == len(expected)


async def resolved(tx, channels, **raw) -> dict[int, tuple]:
    sql, params = resolved_sql(parse_audience(raw), channels, TODAY)
    async with tx() as conn:
        rows = await conn.execute(text(sql + " SELECT * FROM resolved ORDER BY account_id"), params)
        return {r.account_id: (r.addresses, list(r.channels), r.note, r) for r in rows}


async def test_addresses_per_channel(tx):
    found = await resolved(tx, ALL)
    assert found[1][0] == {"email": "a1@mail.example", "sms": "+79160000001", "autocall": "+79160000001"}
    assert found[1][1] == ["email", "sms", "autocall"]
    assert found[2][0] == {"sms": "+79160000002", "autocall": "+79160000002"}
    # the subscriber's confirmed e-mail, its Telegram chat with notices on, its inbox
    assert found[3][0] == {"email": "s1@mail.example", "telegram": "7001", "inbox": "1"}
    assert found[4][0] == {} and found[4][1] == [] and found[4][2] == NO_ADDRESS
    assert "email" not in found[5][0]  # «нет» is not an address
    # subscriber 2: its e-mail is not confirmed, its chat said «stop»; still its inbox
    assert found[7][0] == {"inbox": "2"}
    r1 = found[1][3]
    assert (r1.debt, r1.debt_months, r1.verification_date is not None) == (Decimal("1500.00"), 3, True)
    assert "ул. Речная, д. 1, кв. 1" in r1.address


async def test_channel_order_is_the_campaigns(tx):
    found = await resolved(tx, ["telegram", "sms", "email"], house_ids=[1])
    assert found[1][1] == ["sms", "email"]
    assert found[3][1] == ["telegram", "email"]


async def test_opt_outs_are_honoured(core, town_tenant, tx):
    async with tx() as conn:
        await conn.execute(text("INSERT INTO notification_optouts(account_id, channel) VALUES (1, 'email')"))
        await conn.execute(text("INSERT INTO notification_optouts(address, channel) VALUES ('+79160000002', NULL)"))
        await conn.execute(text("INSERT INTO notification_optouts(account_id, channel) VALUES (6, NULL)"))
        await conn.execute(text("INSERT INTO notification_optouts(address, channel) VALUES ('7001', 'telegram')"))
    try:
        found = await resolved(tx, ALL)
        assert found[1][0] == {"sms": "+79160000001", "autocall": "+79160000001"}  # e-mail refused by the account
        assert found[2][0] == {}  # the number refused everything
        assert found[6][0] == {} and found[6][2] == OPTED_OUT
        assert found[3][0] == {"email": "s1@mail.example", "inbox": "1"}  # the chat refused Telegram only
    finally:
        async with tx() as conn:
            await conn.execute(text("DELETE FROM notification_optouts"))


async def test_reach_is_counted_without_writing(tx):
    sql, params = resolved_sql(parse_audience({}), ["telegram", "email", "sms"], TODAY)
    async with tx() as conn:
        r = (await conn.execute(text(sql + reach_select(["telegram", "email", "sms"])), params)).one()
        written = (await conn.execute(text("SELECT count(*) FROM campaign_recipients"))).scalar_one()
    assert (r.total, r.reachable) == (10, 7)  # 4, 5 and 7 have nothing on these channels
    assert (r.reach_telegram, r.reach_email, r.reach_sms) == (1, 3, 5)
    assert (r.first_telegram, r.first_email, r.first_sms) == (1, 2, 4)
    assert written == 0


async def test_bad_filters_are_refused(tx):
    for raw, field in (({"house_ids": ["x"]}, "house_ids"), ({"debt_over": "много"}, "debt_over"),
                       ({"debt_months": 500}, "debt_months"), ({"verification_days": -1}, "verification_days"),
                       ({"colour": 1}, "audience"), ({"house_ids": [2 ** 40]}, "house_ids")):
        with pytest.raises(Invalid) as err:
            parse_audience(raw)
        assert err.value.fields[0]["field"] == field
    async with tx() as conn:
        for raw in ({"house_ids": [99]}, {"street_ids": [99]}, {"request_id": 99}):
            with pytest.raises(NotFound):
                await check_places(conn, parse_audience(raw))
        assert await check_places(conn, parse_audience({"request_id": 1})) == ["г. Тестовск, ул. Лесная, д. 5"]
