"""What the cash desk's tests share: a tenant with a small registry and debts, a cash point «Касса № 1» (VAT 22)
with an active edge agent, two third-party services, a cashier (role cashier) logged in over the API and as a
browser; and the agent's side played by hand: its result recorded (`commands.record_result`) and applied
(`outcomes.apply`) in one transaction, as the gateway does (the end-to-end run through the real agent is the
integrator's test).

Account 00100127 (id 1) owes cold water 300.00 and sewage 200.00 for 2026-10, cold water 310.00 for 2026-11, and
penalties 15.00; 00100128 (id 2) owes nothing; 00100129 (id 3) is closed."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date
from decimal import Decimal as D
from typing import Any

from sqlalchemy import text

from aquabill.cash import commands, outcomes
from aquabill.cash.dues import load_dues
from aquabill.platform.auth import users as users_repo
from aquabill.platform.auth.passwords import hash_password
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api

CASHIER = ("kassa1", "cashier-pass-1", "Иванова А. П.")
FN = "7281440500123456"
_fd = itertools.count(101)


async def seed(conn, _tenant) -> None:
    await conn.execute(text("INSERT INTO settlements(kind, name) VALUES ('г.', 'Приозёрск')"))
    await conn.execute(text("INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Ленина')"))
    await conn.execute(text("INSERT INTO houses(street_id, number, improvement) VALUES (1, '5', 'full')"))
    await conn.execute(text("INSERT INTO premises(house_id, number, area_m2) SELECT 1, n::text, 40 "
                            "FROM generate_series(1, 3) n"))
    await conn.execute(text(
        "INSERT INTO accounts(number, premise_id, holder, opened_on, status, closed_on) VALUES "
        "('00100127', 1, 'Смирнова Е. А.', DATE '2020-01-01', 'open', NULL), "
        "('00100128', 2, 'Петров П. П.', DATE '2020-01-01', 'open', NULL), "
        "('00100129', 3, 'Орлов О. О.', DATE '2020-01-01', 'closed', DATE '2025-06-30')"))
    for code, period, amount in (("cold_water", date(2026, 10, 1), "300.00"), ("sewage", date(2026, 10, 1), "200.00"),
                                 ("cold_water", date(2026, 11, 1), "310.00")):
        await conn.execute(text(
            "INSERT INTO charges(account_id, service_id, period, method, amount) "
            "SELECT 1, id, :p, 'norm', :x FROM services WHERE code = :c"),
            {"p": period, "x": D(amount), "c": code})
    await conn.execute(text(
        "INSERT INTO penalty_charges(account_id, month_of_origin, period, kind, amount, days, debt) "
        "VALUES (1, DATE '2026-09-01', DATE '2026-11-01', 'accrual', 15.00, 40, 500)"))
    await conn.execute(text(
        "INSERT INTO cash_points(name, address, tax_system, vat, cash_limit) "
        "VALUES ('Касса № 1', 'ул. Ленина, д. 1', 1, '22', 50000)"))
    await conn.execute(text(
        "INSERT INTO edge_agents(cash_point_id, name, status, key_hash, enrolled_at) "
        "VALUES (1, 'kassa-pc', 'active', :h, now())"), {"h": hashlib.sha256(b"test-agent-key").hexdigest()})
    await conn.execute(text(
        "INSERT INTO cash_services(code, name, supplier_name, supplier_inn, supplier_phone, commission_percent, "
        "commission_min) VALUES ('tko', 'Вывоз ТКО', 'ООО «ЭкоСервис»', '7707083893', '+78001234567', 1, 10), "
        "('intercom', 'Домофон', 'ИП Сидоров С. С.', '500100732259', '', 0, 0)"))
    await users_repo.create_user(conn, login=CASHIER[0], full_name=CASHIER[2], email=None,
                                 password_hash=hash_password(CASHIER[1]), role_codes=["cashier"])


async def cashier_api(client, handle) -> Api:
    r = await client.post("/api/auth/login", json={"tenant": handle.tenant.slug, "login": CASHIER[0],
                                                   "password": CASHIER[1]})
    assert r.status_code == 200, r.text
    return Api(client, {"Authorization": f"Bearer {r.json()['token']}"})


async def cashier_cookie(client, handle) -> None:
    r = await client.post("/login", data={"tenant": handle.tenant.slug, "login": CASHIER[0], "password": CASHIER[1],
                                          "next": "/"}, follow_redirects=False)
    assert r.status_code == 302, r.text


def fiscal(**kw: Any) -> dict[str, Any]:
    """A receipt's result as the agent reports it (a new FD number each time unless given)."""
    return {"fn_number": FN, "fd_number": next(_fd), "fiscal_sign": 3_141_592_653, "fiscal_at": "2026-12-07T10:15:00+03:00",
            "shift_number": 17, "change": "0.00", "card": None, "recovered": False, **kw}


class Desk:
    """The tenant's transaction and the agent's side, by hand."""

    def __init__(self, core, handle) -> None:
        self.core, self.handle = core, handle

    def tx(self):
        return tenant_transaction(self.core.engines, self.handle.tenant)

    async def rows(self, sql: str, **args) -> list[tuple]:
        async with self.tx() as conn:
            return [tuple(r) for r in await conn.execute(text(sql), args)]

    async def value(self, sql: str, **args):
        async with self.tx() as conn:
            return (await conn.execute(text(sql), args)).scalar()

    async def command(self, command_id: int) -> dict[str, Any]:
        async with self.tx() as conn:
            return await commands.get(conn, command_id)

    async def last_command(self, kind: str) -> dict[str, Any]:
        command_id = await self.value("SELECT max(id) FROM edge_commands WHERE kind = :k", k=kind)
        assert command_id is not None, f"no {kind} command"
        return await self.command(command_id)

    async def result(self, command_id: int, *, ok: bool = True, result: dict | None = None,
                     error: dict | None = None) -> list | None:
        """The gateway's step: the result recorded and applied in one transaction; None for a duplicate."""
        async with self.tx() as conn:
            recorded = await commands.record_result(conn, 1, command_id, ok, result, error)
            if recorded is None:
                return None
            return await outcomes.apply(conn, recorded, ok=ok, result=result, error=error)

    async def apply_again(self, command_id: int, *, ok: bool = True, result: dict | None = None,
                          error: dict | None = None) -> list:
        """The outcome applied once more for a command already recorded (as a resent result would be)."""
        async with self.tx() as conn:
            command = await commands.get(conn, command_id)
            return await outcomes.apply(conn, command, ok=ok, result=result, error=error)

    async def open_shift(self, api: Api, number: int = 17) -> dict[str, Any]:
        shift = await api.ok("post", "/api/cash/shifts", {"point_id": 1})
        command = await self.last_command("open_shift")
        await self.result(command["id"], result={"shift_number": number, "fd_number": next(_fd),
                                                 "fiscal_sign": 2_718_281_828, "fiscal_at": "2026-12-07T08:00:00+03:00",
                                                 "fn_number": FN})
        return shift

    async def balance(self, account_id: int = 1) -> D:
        """What the account owes now (debts + penalties − advance), as the desk shows it."""
        async with self.tx() as conn:
            return (await load_dues(conn, account_id)).total
