"""Receipts of many accounts in one set-based pass: the same receipts as `build_receipt` of each account, field
by field, for every account of a demo-like town (a year of billing with late readings recalculated, bank
registries, penalties, an advance, penalties paid, an account without charges, closed accounts), with the
same number of statements for 3 accounts as for all; which accounts get a receipt and in what order."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import event, text

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.payments.allocation import allocate_accounts
from aquabill.billing_core.penalties.run import run_penalties
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import (
    build_receipt,
    build_receipts,
    select_accounts,
    set_receipt_delivery,
)
from aquabill.demo.appeals import MOSCOW
from aquabill.demo.billing import seed_billing
from aquabill.demo.lived_in import seed_lived_in
from aquabill.demo.tenant import seed_registry
from aquabill.tenants.context import tenant_transaction
from tests.integration.penalties.test_penalty_run import pay

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=MOSCOW)
OPEN, CLOSED = Period(2026, 11), Period(2026, 10)
TOWN = 90


async def seed_town(conn, _tenant=None) -> None:
    """The demo's town (registry, billing, lived-in), penalties of the open month, and the odd accounts:
    #2 paid far too much (an advance), #3 paid everything with penalties, a new account without charges
    (opened in the open month), #7 closed in September with its debt, one closed long ago and settled."""
    await seed_registry(conn, accounts_count=TOWN, seed=42)
    await seed_billing(conn, today=NOW.date())
    await seed_lived_in(conn, now=NOW)
    await run_penalties(conn, OPEN)
    await pay(conn, 2, date(2026, 11, 20), "50000.00")
    receipt = await build_receipt(conn, 3, OPEN)
    await pay(conn, 3, date(2026, 11, 21), str(receipt.due))
    await conn.execute(text("UPDATE payments SET penalty = :x WHERE account_id = 3 AND paid_on = DATE '2026-11-21'"),
                       {"x": receipt.penalty["closing"]})
    await allocate_accounts(conn, [2, 3])
    for number, opened, closed in (("09999901", date(2026, 11, 20), None), ("09999902", date(2015, 1, 1),
                                                                             date(2016, 1, 1))):
        await conn.execute(text(
            "INSERT INTO premises(house_id, number, area_m2, is_communal) "
            "SELECT min(house_id), 'Н-' || :n, 30, false FROM premises"), {"n": number})
        await conn.execute(text(
            "INSERT INTO accounts(number, premise_id, holder, opened_on, closed_on, status) "
            "SELECT :n, max(id), 'Новиков Пётр Ильич', :o, :c, :s FROM premises"),
            {"n": number, "o": opened, "c": closed, "s": "closed" if closed else "open"})
    await conn.execute(text("UPDATE accounts SET status = 'closed', closed_on = DATE '2026-09-30' WHERE id = 7"))


@pytest.fixture(scope="module")
async def town(make_tenant):
    return await make_tenant(seed=seed_town)


@pytest.fixture
def tx(core, town):
    def open_tx(user_id=None):
        return tenant_transaction(core.engines, town.tenant, user_id)

    return open_tx


async def _all_ids(conn) -> list[int]:
    return list((await conn.execute(text("SELECT id FROM accounts ORDER BY id"))).scalars())


async def test_the_same_receipts_as_one_by_one(tx):
    async with tx() as conn:
        ids = await _all_ids(conn)
        assert len(ids) == TOWN + 2
        for period in (OPEN, CLOSED, Period(2025, 1)):
            batch = await build_receipts(conn, period, ids)
            assert [r.account["id"] for r in batch] == ids
            for receipt in batch:
                single = await build_receipt(conn, receipt.account["id"], period)
                assert receipt.as_dict() == single.as_dict(), receipt.account["number"]
                assert receipt == single  # field by field, Decimals as Decimals
        # what the town holds: the comparison above covered each kind of receipt
        batch = {r.account["id"]: r for r in await build_receipts(conn, OPEN, ids)}
        assert any(x.recalculated for r in batch.values() for x in r.lines), "no recalculation"
        assert sum(r.penalty["charged"] > 0 for r in batch.values()) > 10, "no penalties"
        assert any(x.service.startswith("Аванс") for x in batch[2].lines) and batch[2].due == 0
        assert batch[3].due == 0 and batch[3].penalty["paid"] > 0 and batch[3].penalty["closing"] == 0
        new = ids[-2]
        assert batch[new].lines == [] and batch[new].due == 0 and batch[new].qr is not None
        # every receipt has its QR and the due date of the rule in force (the 15th since 01.03.2026)
        assert all(r.qr and r.pay_by == date(2026, 12, 15) for r in batch.values())


async def test_given_order_duplicates_and_refusals(tx):
    async with tx() as conn:
        some = [5, 1, 5, 40]
        assert [r.account["id"] for r in await build_receipts(conn, OPEN, some)] == some
        assert await build_receipts(conn, OPEN, []) == []
        with pytest.raises(NotFound, match="#999999"):
            await build_receipts(conn, OPEN, [1, 999999])


async def test_a_fixed_number_of_statements(tx):
    async with tx() as conn:
        ids = await _all_ids(conn)
        counts = []
        for chosen in (ids[:3], ids):
            seen: list[str] = []

            def count(_conn, _cursor, statement, *_args, _seen=seen):
                _seen.append(statement)

            event.listen(conn.sync_connection, "before_cursor_execute", count)
            try:
                await build_receipts(conn, OPEN, chosen)
            finally:
                event.remove(conn.sync_connection, "before_cursor_execute", count)
            counts.append(len(seen))
        assert counts[0] == counts[1] <= 8, counts


def _natural(value: str) -> tuple:
    m = re.match(r"\d+", value)
    return (int(m.group()) if m else float("inf"), value)


async def test_which_accounts_and_in_what_order(tx):
    async with tx() as conn:
        ids = await _all_ids(conn)
        new, settled = ids[-2], ids[-1]
        chosen = await select_accounts(conn, OPEN)
        assert settled not in chosen and new in chosen and 7 in chosen and sorted(chosen) == ids[:-1]
        assert new not in await select_accounts(conn, CLOSED)
        # the rule: open on a day of the month, or a balance on its receipt
        left_out = set(ids) - set(chosen)
        for r in await build_receipts(conn, OPEN, sorted(left_out)):
            assert r.totals["closing"] == 0 and r.penalty["closing"] == 0
        assert 7 in await select_accounts(conn, Period(2027, 6))  # closed, still in debt
        assert 2 in await select_accounts(conn, Period(2027, 6))  # open
        # the delivery route: street, house number, flat number in human order
        rows = {r.id: r for r in await conn.execute(text(
            "SELECT a.id, st.name AS street, h.number AS house, h.id AS house_id, p.number AS flat, a.number "
            "FROM accounts a JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id "
            "JOIN streets st ON st.id = h.street_id"))}
        route = sorted(chosen, key=lambda i: (rows[i].street, _natural(rows[i].house), rows[i].house_id,
                                              _natural(rows[i].flat), rows[i].number))
        assert chosen == route
        flats = [rows[i].flat for i in chosen if rows[i].house_id == rows[chosen[0]].house_id]
        assert flats[:11] == [str(n) for n in range(1, 12)], flats  # 2 before 10

        house = rows[chosen[0]].house_id
        assert await select_accounts(conn, OPEN, house_id=house) == [i for i in chosen if rows[i].house_id == house]
        street_id = (await conn.execute(text("SELECT street_id FROM houses WHERE id = :h"), {"h": house})).scalar()
        by_street = await select_accounts(conn, OPEN, street_id=street_id)
        assert by_street and all(rows[i].street == rows[chosen[0]].street for i in by_street)
        assert await select_accounts(conn, OPEN, account_ids=[40, 3, 999999, settled, -1, 2**40]) == [
            i for i in chosen if i in (40, 3)]
        assert await select_accounts(conn, OPEN, delivery="email") == []
        await conn.execute(text("UPDATE accounts SET email = 'x' || id || '@example.ru' WHERE id IN (4, 9)"))
        for account in (9, 4):
            await set_receipt_delivery(conn, account, "email")
        assert await select_accounts(conn, OPEN, delivery="email") == [i for i in chosen if i in (4, 9)]
        assert len(await select_accounts(conn, OPEN, delivery="paper")) == len(chosen) - 2
        with pytest.raises(Invalid):
            await select_accounts(conn, OPEN, delivery="pigeon")
