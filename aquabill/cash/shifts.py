"""Cashier shifts at a cash point: open (row 'opening' + the agent's `open_shift`), X report, close (Z report:
'closing' + `close_shift`), and what a shift took (totals, set-based over its receipts).

One shift not closed per cash point (unique index `cash_shifts_one_open`). The register's answer moves the
shift on (outcomes.py): opening → open (its number and the opening document) | failed; closing → closed (the
Z report, and the automatic cash order) | open again with the error. A shift is closed only when none of its
receipts is still on its way (pending / printing) or failed and neither retried nor cancelled: the cash in
the drawer must match the fiscal documents of the shift.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.cash import commands

STATUSES = {"opening": "Открывается…", "open": "Открыта", "closing": "Закрывается…", "closed": "Закрыта",
            "failed": "Не открыта"}
LIVE = ("opening", "open", "closing")
KEYS = uuid.UUID("5d0c7f0e-1b8e-4d43-9a55-0c1f3e2a7b61")  # namespace of the shifts' command keys
ZERO = Decimal("0.00")

COLUMNS = """s.id, s.cash_point_id, s.agent_id, s.cashier_id, s.cashier_name, s.status, s.shift_number, s.opened_at,
    s.closed_at, s.opened_doc, s.closed_doc, s.error, s.created_at, p.name AS point_name"""
FROM = "cash_shifts s JOIN cash_points p ON p.id = s.cash_point_id"


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


def open_key(shift_id: int) -> uuid.UUID:
    """The `open_shift` command's key of a shift (a shift is opened once; a failed one is a new row)."""
    return uuid.uuid5(KEYS, f"shift:{shift_id}:open")


async def get_point(conn: AsyncConnection, point_id: int) -> dict[str, Any]:
    r = (await conn.execute(text(
        "SELECT id, name, address, place, tax_system, vat, cash_limit, active FROM cash_points WHERE id = :id"),
        {"id": point_id})).first()
    if r is None:
        raise NotFound("Касса не найдена", field="point_id")
    return _row(r)


async def list_points(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Active cash points with their agent (if one is enrolled) and the shift not closed, for the desk."""
    return [_row(r) for r in await conn.execute(text(
        "SELECT p.id, p.name, p.address, p.vat, p.tax_system, "
        "(SELECT g.id FROM edge_agents g WHERE g.cash_point_id = p.id AND g.status = 'active' "
        " ORDER BY g.id DESC LIMIT 1) AS agent_id "
        "FROM cash_points p WHERE p.active ORDER BY p.name"))]


async def point_agent(conn: AsyncConnection, point_id: int) -> dict[str, Any]:
    """The active agent of the cash point (the one that drives its register)."""
    r = (await conn.execute(text(
        "SELECT id, name, last_seen_at FROM edge_agents WHERE cash_point_id = :p AND status = 'active' "
        "ORDER BY id DESC LIMIT 1"), {"p": point_id})).first()
    if r is None:
        raise Invalid("К кассе не подключён агент кассы: подключите его в разделе «Кассы и агенты»",
                      field="point_id")
    return _row(r)


async def cashier_name(conn: AsyncConnection, user_id: int) -> str:
    r = (await conn.execute(text("SELECT login, full_name FROM users WHERE id = :id"), {"id": user_id})).first()
    if r is None:
        raise NotFound("Пользователь не найден")
    return (r.full_name or r.login)[:64]  # tag 1021: String 64


async def get_shift(conn: AsyncConnection, shift_id: int, *, lock: bool = False) -> dict[str, Any]:
    r = (await conn.execute(text(f"SELECT {COLUMNS} FROM {FROM} WHERE s.id = :id"
                                 + (" FOR UPDATE OF s" if lock else "")), {"id": shift_id})).first()
    if r is None:
        raise NotFound("Смена не найдена")
    return _row(r)


async def current_shift(conn: AsyncConnection, point_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    """The point's shift not closed yet (opening, open or closing), if any."""
    r = (await conn.execute(text(f"SELECT {COLUMNS} FROM {FROM} WHERE s.cash_point_id = :p "
                                 "AND s.status IN ('opening', 'open', 'closing')"
                                 + (" FOR UPDATE OF s" if lock else "")), {"p": point_id})).first()
    return _row(r) if r else None


async def last_shift(conn: AsyncConnection, point_id: int) -> dict[str, Any] | None:
    r = (await conn.execute(text(f"SELECT {COLUMNS} FROM {FROM} WHERE s.cash_point_id = :p ORDER BY s.id DESC "
                                 "LIMIT 1"), {"p": point_id})).first()
    return _row(r) if r else None


async def require_open_shift(conn: AsyncConnection, point_id: int, user_id: int) -> dict[str, Any]:
    """The cashier's open shift at the point, locked against closing; a clear refusal otherwise."""
    shift = await current_shift(conn, point_id, lock=True)
    if shift is None:
        raise Invalid("Смена не открыта: нажмите «Открыть смену», чтобы принимать оплату", field="point_id",
                      code="no_shift")
    if shift["status"] == "opening":
        raise Invalid("Смена ещё открывается: дождитесь ответа кассы", field="point_id", code="no_shift")
    if shift["status"] == "closing":
        raise Invalid("Смена закрывается: оплата не принимается", field="point_id", code="no_shift")
    if shift["cashier_id"] != user_id:
        raise Invalid(f"Смена на этой кассе открыта другим кассиром ({shift['cashier_name']}): "
                      "оплату принимает он, или закройте его смену", field="point_id", code="no_shift")
    return shift


async def open_shift(conn: AsyncConnection, *, point_id: int, user_id: int) -> dict[str, Any]:
    """A new shift of the cashier at the point ('opening') and the register's `open_shift`; the cashier's own
    shift already opening or open is returned as it is."""
    point = await get_point(conn, point_id)
    if not point["active"]:
        raise Invalid(f"Касса «{point['name']}» отключена", field="point_id")
    agent = await point_agent(conn, point_id)
    shift = await current_shift(conn, point_id, lock=True)
    if shift is not None:
        if shift["cashier_id"] == user_id and shift["status"] in ("opening", "open"):
            return shift
        raise Conflict(f"На кассе «{point['name']}» уже открыта смена кассира {shift['cashier_name']}"
                       + ("" if shift["status"] != "closing" else " (закрывается)"))
    name = await cashier_name(conn, user_id)
    shift_id = (await conn.execute(text(
        "INSERT INTO cash_shifts(cash_point_id, agent_id, cashier_id, cashier_name) VALUES (:p, :a, :u, :n) "
        "ON CONFLICT DO NOTHING RETURNING id"), {"p": point_id, "a": agent["id"], "u": user_id, "n": name})).scalar()
    if shift_id is None:  # another cashier opened one meanwhile (the unique index)
        raise Conflict(f"На кассе «{point['name']}» уже открыта смена")
    await commands.enqueue(conn, agent_id=agent["id"], kind="open_shift", key=open_key(shift_id), user_id=user_id,
                           payload={"cashier": {"name": name, "inn": ""}, "shift_id": shift_id})
    return await get_shift(conn, shift_id)


async def x_report(conn: AsyncConnection, *, point_id: int, user_id: int) -> dict[str, Any]:
    """The X report (the shift's figures, nothing closed) printed by the register of the open shift."""
    shift = await current_shift(conn, point_id)
    if shift is None or shift["status"] != "open":
        raise Invalid("X-отчёт печатается при открытой смене", field="point_id")
    return await commands.enqueue(conn, agent_id=shift["agent_id"], kind="x_report", key=uuid.uuid4(),
                                  user_id=user_id, payload={"cashier": {"name": await cashier_name(conn, user_id),
                                                                        "inn": ""}, "shift_id": shift["id"]})


async def close_shift(conn: AsyncConnection, *, point_id: int, user_id: int,
                      shift_id: int | None = None) -> dict[str, Any]:
    """The Z report: the open shift ('closing') and the register's `close_shift`; refused while a receipt of the
    shift is on its way or failed without a retry or cancel. `shift_id`: the shift the caller means."""
    shift = await current_shift(conn, point_id, lock=True)
    if shift is None or (shift_id is not None and shift["id"] != shift_id):
        raise Conflict("Смена уже закрыта" if shift_id is not None else "Смена не открыта")
    if shift["status"] == "closing":
        return shift
    if shift["status"] != "open":
        raise Invalid("Смена ещё открывается: дождитесь ответа кассы", field="point_id")
    waiting = (await conn.execute(text(
        "SELECT count(*) FILTER (WHERE status IN ('pending', 'printing')) AS printing, "
        "count(*) FILTER (WHERE status = 'failed') AS failed FROM cash_receipts WHERE shift_id = :s"),
        {"s": shift["id"]})).one()
    if waiting.printing:
        raise Conflict(f"Смену нельзя закрыть: {waiting.printing} чек(ов) ещё печатается. Дождитесь ответа кассы")
    if waiting.failed:
        raise Conflict(f"Смену нельзя закрыть: {waiting.failed} чек(ов) с ошибкой. Повторите или отмените их")
    await conn.execute(text("UPDATE cash_shifts SET status = 'closing', error = NULL WHERE id = :id"),
                       {"id": shift["id"]})
    await commands.enqueue(conn, agent_id=shift["agent_id"], kind="close_shift", key=uuid.uuid4(), user_id=user_id,
                           payload={"cashier": {"name": await cashier_name(conn, user_id), "inn": ""},
                                    "shift_id": shift["id"]})
    return await get_shift(conn, shift["id"])


# ---- what a shift took ------------------------------------------------------------------------------------

TOTALS_SQL = """
SELECT r.shift_id,
       coalesce(sum(r.total) FILTER (WHERE r.operation = 'sale' AND r.tender = 'cash'), 0) AS cash_in,
       coalesce(sum(r.total) FILTER (WHERE r.operation = 'sale' AND r.tender = 'card'), 0) AS card_in,
       coalesce(sum(r.total) FILTER (WHERE r.operation = 'refund' AND r.tender = 'cash'), 0) AS cash_refunds,
       coalesce(sum(r.total) FILTER (WHERE r.operation = 'refund' AND r.tender = 'card'), 0) AS card_refunds,
       coalesce(sum(r.total - r.commission) FILTER (WHERE r.cash_service_id IS NOT NULL AND r.operation = 'sale'), 0)
         - coalesce(sum(r.total - r.commission) FILTER (WHERE r.cash_service_id IS NOT NULL
                                                        AND r.operation = 'refund'), 0) AS third_party,
       coalesce(sum(r.commission) FILTER (WHERE r.operation = 'sale'), 0)
         - coalesce(sum(r.commission) FILTER (WHERE r.operation = 'refund'), 0) AS commission,
       count(*) FILTER (WHERE r.operation = 'sale') AS sales, count(*) FILTER (WHERE r.operation = 'refund') AS refunds
FROM cash_receipts r WHERE r.status = 'done' AND r.shift_id = ANY(:ids)
GROUP BY r.shift_id"""
TOTAL_KEYS = ("cash_in", "card_in", "cash_refunds", "card_refunds", "third_party", "commission")


def _empty_totals() -> dict[str, Any]:
    return {**{k: ZERO for k in TOTAL_KEYS}, "sales": 0, "refunds": 0, "count": 0, "net_cash": ZERO,
            "net": ZERO}


async def shift_totals(conn: AsyncConnection, shift_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per shift, over its fiscalized receipts: cash and card taken, refunds, third parties' money, commission,
    number of receipts; `net_cash` = cash in − cash refunds (what the shift's cash order books)."""
    out = {i: _empty_totals() for i in shift_ids}
    for r in await conn.execute(text(TOTALS_SQL), {"ids": list(shift_ids)}):
        t = {k: Decimal(getattr(r, k)) for k in TOTAL_KEYS}
        t.update(sales=r.sales, refunds=r.refunds, count=r.sales + r.refunds,
                 net_cash=t["cash_in"] - t["cash_refunds"],
                 net=t["cash_in"] + t["card_in"] - t["cash_refunds"] - t["card_refunds"])
        out[r.shift_id] = t
    return out


async def list_shifts(conn: AsyncConnection, *, point_id: int | None = None, limit: int = 50,
                      offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Shifts newest first, each with its totals."""
    where, params = ("WHERE s.cash_point_id = :p", {"p": point_id}) if point_id else ("", {})
    rows = [_row(r) for r in await conn.execute(text(
        f"SELECT {COLUMNS} FROM {FROM} {where} ORDER BY s.id DESC LIMIT :lim OFFSET :off"),
        {**params, "lim": limit, "off": offset})]
    total = (await conn.execute(text(f"SELECT count(*) FROM cash_shifts s {where}"), params)).scalar_one()
    totals = await shift_totals(conn, [r["id"] for r in rows])
    for r in rows:
        r["totals"] = totals[r["id"]]
    return rows, total
