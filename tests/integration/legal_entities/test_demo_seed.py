"""The demo's organisations on a fresh tenant: a few hundred counterparties whose every INN, KPP, OGRN / OGRNIP,
BIC and account passes its check, contracts of each kind with their sites, points, meters, readings and
sub-subscribers; the same seed gives the same data; a second run changes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import text

from aquabill.demo.organisations import seed_organisations
from aquabill.demo.tenant import seed_registry
from aquabill.legal_entities import requisites
from aquabill.legal_entities.contract_card import contract_card
from aquabill.legal_entities.counterparty_store import get_counterparty
from aquabill.tenants.context import tenant_transaction

TODAY = date(2026, 12, 7)


async def _registry(conn, tenant=None) -> None:
    await seed_registry(conn, accounts_count=120)


@pytest.fixture(scope="module")
async def seeded(core, make_tenant):
    handle = await make_tenant(seed=_registry)
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        counts = await seed_organisations(conn, today=TODAY)
    return handle, counts


async def test_the_seed_makes_a_few_hundred_organisations_with_contracts(seeded, core):
    handle, counts = seeded
    assert counts == {"counterparties": 300, "contracts": 306, "points": 790, "meters": 432, "subs": 23}
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        kinds = dict((await conn.execute(text("SELECT kind, count(*) FROM contracts GROUP BY kind"))).all())
        statuses = dict((await conn.execute(text("SELECT status, count(*) FROM contracts GROUP BY status"))).all())
        assert set(kinds) == {"cold_water", "sewage", "combined", "stormwater"}
        assert set(statuses) == {"draft", "active", "terminated"}
        supply, metered = (await conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE metered) FROM contract_points WHERE kind = 'supply'"))).one()
        assert (supply, metered) == (469, 432)  # 19 of 20 of the supply points of signed contracts metered
        readings = (await conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE r.consumption > 0) FROM readings r "
            "JOIN meters m ON m.id = r.meter_id WHERE m.kind = 'commercial'"))).one()
        assert readings[0] == readings[1] > 0
        with_houses = (await conn.execute(text("SELECT count(*) FROM contract_objects WHERE house_id IS NOT NULL"))
                       ).scalar_one()
        assert with_houses > 0


async def test_every_requisite_passes_its_check(seeded, core):
    handle, _ = seeded
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        parties = (await conn.execute(text("SELECT kind, inn, kpp, ogrn FROM counterparties"))).all()
        accounts = (await conn.execute(text(
            "SELECT bic, account, corr_account FROM counterparty_bank_accounts"))).all()
        mains = Counter(r.counterparty_id for r in await conn.execute(text(
            "SELECT counterparty_id FROM counterparty_bank_accounts WHERE main")))
    problems = []
    for p in parties:
        problems.append(requisites.inn_problem(p.inn))
        if p.kind == "org":
            problems += [requisites.kpp_problem(p.kpp), requisites.ogrn_problem(p.ogrn)]
            assert len(p.inn) == 10
        else:
            problems.append(requisites.ogrnip_problem(p.ogrn))
            assert (len(p.inn), p.kpp) == (12, "")
    for a in accounts:
        problems += [requisites.account_problem(a.account, a.bic),
                     requisites.corr_account_problem(a.corr_account, a.bic)]
    assert [p for p in problems if p] == []
    assert len(parties) == 300 and len(accounts) >= 300
    assert set(mains.values()) == {1} and len(mains) == 300


async def test_the_cards_of_seeded_objects_read_back(seeded, core):
    handle, _ = seeded
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        hosted = (await conn.execute(text(
            "SELECT o.contract_id FROM contract_point_subs s JOIN contract_points p ON p.id = s.point_id "
            "JOIN contract_objects o ON o.id = p.object_id ORDER BY s.id LIMIT 1"))).scalar_one()
        card = await contract_card(conn, hosted, TODAY)
        stormwater = (await conn.execute(text(
            "SELECT min(id) FROM contracts WHERE kind = 'stormwater'"))).scalar_one()
        storm = await contract_card(conn, stormwater, TODAY)
        someone = await get_counterparty(conn, card["counterparty_id"])
    points = [p for o in card["objects"] for p in o["points"]]
    assert any(p["subs"] for p in points)
    assert card["in_force"] is not None and card["in_force"]["payment_terms"]["due_day"] in (10, 15)
    assert storm["in_force"]["stormwater_area_m2"] is not None and storm["in_force"]["runoff_coefficient"] is not None
    assert card["id"] in [c["id"] for c in someone["contracts"]]


async def test_a_second_run_changes_nothing(seeded, core):
    handle, _ = seeded
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        before = (await conn.execute(text("SELECT count(*) FROM counterparties"))).scalar_one()
        assert await seed_organisations(conn, today=TODAY) == {"counterparties": 0}
        assert (await conn.execute(text("SELECT count(*) FROM counterparties"))).scalar_one() == before
