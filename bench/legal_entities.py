"""Benchmark of a legal entities' month (#16): the calculation, then the documents — UPD (or act) XML built and
validated against the FNS XSD for every contract.

    .venv/bin/python bench/legal_entities.py [--contracts 50000] [--period 2026-11-01] [--smoke]

Starts its own PostgreSQL (or a database on DATABASE_URL's server) with one tenant, generates the data set of
`bench/legal_data.py` (N contracts with 3 points each: metered, unmetered by the pipe's capacity, discharge;
timed apart, not part of the goal), then times, in the same run:

1. the calculation: `legal_entities.calc.run.run_month(conn, period)` (one transaction, commit included);
2. the documents: `legal_entities.issue.month.issue_month(conn, period)` (it builds and validates the XML of
   every document); the documents are counted by kind and 1 % of the stored XML files (at least 20) are
   validated again here with `channels.fns_upd.validate.validate`;
3. the baseline: one three-line UPD of the same shape built and validated without the database
   (`build_upd` + `validate`) in a loop, as many times as part 2 made XML files (at most --baseline-max, the
   rest extrapolated), and the ratio part 2 / baseline.

Prints each part's wall time (and the server's and this process's CPU, much less sensitive to other work on a
shared machine; the XML worker processes of `channels/fns_upd/issue_xml.py` are not in this process's CPU), the
total against the goal (≤ 120 s for 50,000 contracts), the load average, the peak memory.
A part whose module does not exist yet prints «не реализовано». `--smoke`: 200 contracts; the goal is judged
for 50,000 contracts only. Exit code 1 when a part is missing or fails, or the goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import os
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from benchlib import bench_tenant, peak_rss_mb
from legal_data import SELLER, generate
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction

GOAL_S = 120.0
GOAL_CONTRACTS = 50_000
SMOKE_CONTRACTS = 200
MISSING = "не реализовано"


def function_of(module: str, name: str):
    """`module.name`, or None while the module (being written by its owner) does not exist."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except ModuleNotFoundError:
        return None
    return getattr(importlib.import_module(module), name, None)


async def backend_cpu(conn) -> float | None:
    """CPU seconds used so far by this connection's server process (a local server only)."""
    pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # noqa: ASYNC240
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Steps:
    """The function's progress reports as steps: the seconds since the previous report, by the label of the
    report that ends them (the calculation and the documents report a step when it is done); labels are taken
    up to their colon («Сформировано XML: 100 из 400» → «Сформировано XML»)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    async def __call__(self, percent: float, label: str = "", *_args, **_kwargs) -> None:
        now = time.perf_counter()
        key = label.split(":")[0] or f"{percent:.0f} %"
        self.seconds[key] = self.seconds.get(key, 0.0) + now - self.last
        self.last = now

    def slowest(self, k: int = 4) -> str:
        top = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:k]
        return ", ".join(f"«{label}» {s:.1f} s" for label, s in top)


async def timed(engines, tenant, fn, *args) -> tuple[dict, float, float | None, float, Steps]:
    """Run `fn(conn, *args, progress=…)` in its own transaction: (result, wall s incl. commit, server CPU s,
    this process's CPU s, the steps by its progress reports)."""
    steps = Steps()
    t0, p0 = time.perf_counter(), time.process_time()
    async with tenant_transaction(engines, tenant) as conn:
        c0 = await backend_cpu(conn)
        result = await fn(conn, *args, progress=steps)
        c1 = await backend_cpu(conn)
    await steps(100, "фиксация транзакции")
    server = c1 - c0 if None not in (c0, c1) else None
    return result, time.perf_counter() - t0, server, time.process_time() - p0, steps


def _cpu(server: float | None, python: float) -> str:
    return (f"server CPU {server:.1f} s, " if server is not None else "") + f"this process's CPU {python:.1f} s"


def sample_document():
    """A UPD like the bench's: a buyer organisation, three lines at 22 % (metered water, water by the pipe's
    capacity, sewage)."""
    from aquabill.legal_entities.documents import (
        Document,
        DocumentRef,
        Function,
        Party,
        Person,
        Signer,
        TextAddress,
        make_line,
    )
    from aquabill.legal_entities.requisites import complete_inn
    from aquabill.legal_entities.vat import VAT_22

    seller = Party(name=SELLER["name"], inn=SELLER["inn"], kpp=SELLER["kpp"], address=TextAddress(SELLER["address"]),
                   edo_id=f"2BM-{SELLER['inn']}-{SELLER['kpp']}")
    inn = complete_inn("575200123")
    buyer = Party(name="ООО «Абонент 123»", inn=inn, kpp=inn[:4] + "01001",
                  address=TextAddress("302000, Орловская обл., г. Бенчмарк, ул. Заводская, д. 124"),
                  edo_id=f"2BM-{inn}-{inn[:4]}01001")
    lines = (make_line(1, "Холодное водоснабжение (по прибору учёта) за ноябрь 2026 г.", VAT_22,
                       quantity=Decimal("143.000"), price=Decimal("65.70")),
             make_line(2, "Холодное водоснабжение (по пропускной способности) за ноябрь 2026 г.", VAT_22,
                       quantity=Decimal("1526.814"), price=Decimal("65.70")),
             make_line(3, "Водоотведение за ноябрь 2026 г.", VAT_22, quantity=Decimal("1669.814"),
                       price=Decimal("50.45")))
    return Document(function=Function.SCHFDOP, number="ВК-000123", date=date(2026, 11, 30), seller=seller,
                    buyer=buyer, lines=lines, signer=Signer(Person("Петрова", "Анна", "Сергеевна"),
                                                            "Главный бухгалтер"),
                    contract=DocumentRef("Договор холодного водоснабжения и водоотведения", "Б-000123",
                                         date(2024, 1, 15)),
                    period=(date(2026, 11, 1), date(2026, 11, 30)))


def baseline(count: int) -> tuple[float, float]:
    """Build and validate the sample UPD `count` times: (wall s, s a document)."""
    from aquabill.channels.fns_upd import build_upd, validate

    doc = sample_document()
    formed_at = datetime(2026, 12, 1, 9, 0, 0)
    build_upd(doc, formed_at=formed_at)  # the schema compiled, the modules loaded
    t0 = time.perf_counter()
    for _ in range(count):
        upd = build_upd(doc, formed_at=formed_at)
        if validate(upd.content, upd.name):
            raise SystemExit("the baseline UPD does not validate: the bench's sample is out of date")
    wall = time.perf_counter() - t0
    return wall, wall / max(count, 1)


async def check_documents(engines, tenant, period: date) -> tuple[dict[str, int], int, int, int]:
    """(documents by kind, with XML, sampled, valid of the sample): 1 % of the XML files (at least 20),
    validated again here."""
    from aquabill.channels.fns_upd.validate import validate

    async with tenant_transaction(engines, tenant) as conn:
        kinds = dict((await conn.execute(text(
            "SELECT kind, count(*) FROM legal_documents WHERE period = :p GROUP BY kind ORDER BY kind"),
            {"p": period})).all())
        with_xml = (await conn.execute(text(
            "SELECT count(*) FROM legal_documents WHERE period = :p AND xml IS NOT NULL"), {"p": period})).scalar()
        sample = (await conn.execute(text(
            "SELECT file_name, xml FROM legal_documents WHERE period = :p AND xml IS NOT NULL "
            "ORDER BY id % 100, id LIMIT :k"), {"p": period, "k": max(20, with_xml // 100)})).all()
    valid = sum(1 for r in sample if not validate(bytes(r.xml), r.file_name or None))
    return kinds, with_xml, len(sample), valid


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=GOAL_CONTRACTS)
    ap.add_argument("--period", type=date.fromisoformat, default=date(2026, 11, 1))
    ap.add_argument("--baseline-max", type=int, default=5000, help="UPDs built in the baseline loop at most")
    ap.add_argument("--smoke", action="store_true", help=f"{SMOKE_CONTRACTS} contracts, no goal")
    args = ap.parse_args()
    n = SMOKE_CONTRACTS if args.smoke else args.contracts
    period = args.period.replace(day=1)
    ok = True
    async with bench_tenant() as (server, engines, tenant):
        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            counts = await generate(conn, n, period)
        async with tenant_transaction(engines, tenant) as conn:
            await conn.execute(text("ANALYZE"))
        print(f"{server.describe()}; period {period:%m.%Y}; generated "
              + ", ".join(f"{v:,} {k}" for k, v in counts.items())
              + f" in {time.perf_counter() - t0:.1f} s (not part of the goal)", flush=True)

        parts: dict[str, float] = {}
        run_month = function_of("aquabill.legal_entities.calc.run", "run_month")
        if run_month is None:
            print(f"1. calculation (run_month): {MISSING}")
            ok = False
        else:
            try:
                result, wall, server_cpu, py_cpu, steps = await timed(engines, tenant, run_month, period)
            except Exception as exc:  # noqa: BLE001 - the bench reports a failing part and goes on
                print(f"1. calculation (run_month): FAILED — {type(exc).__name__}: {exc}")
                ok = False
            else:
                parts["calculation"] = wall
                async with tenant_transaction(engines, tenant) as conn:
                    methods = (await conn.execute(text(
                        "SELECT method, count(*), sum(amount) FROM legal_charges WHERE posted_period = :p "
                        "GROUP BY 1 ORDER BY 1"), {"p": period})).all()
                print(f"1. calculation (run_month): {wall:8.2f} s  ({_cpu(server_cpu, py_cpu)}); "
                      f"{result.get('contracts', '?'):,} contracts, {result.get('lines', '?'):,} lines, "
                      f"{result.get('amount', '?')} ₽")
                print("   by method: " + ", ".join(f"{m} {c:,} ({s} ₽)" for m, c, s in methods))
                print(f"   slowest steps: {steps.slowest()}")

        issue_month = function_of("aquabill.legal_entities.issue.month", "issue_month")
        made = 0
        if issue_month is None:
            print(f"2. documents (issue_month): {MISSING}")
            ok = False
        elif "calculation" not in parts:
            print("2. documents (issue_month): skipped — no calculation to issue documents for")
            ok = False
        else:
            try:
                result, wall, server_cpu, py_cpu, steps = await timed(engines, tenant, issue_month, period)
            except Exception as exc:  # noqa: BLE001
                print(f"2. documents (issue_month): FAILED — {type(exc).__name__}: {exc}")
                ok = False
            else:
                parts["documents"] = wall
                kinds, made, sampled, valid = await check_documents(engines, tenant, period)
                print(f"2. documents (issue_month): {wall:8.2f} s  ({_cpu(server_cpu, py_cpu)}); "
                      + ", ".join(f"{k} {v:,}" for k, v in kinds.items())
                      + f"; with XML {made:,} ({wall / max(made, 1) * 1000:.2f} ms each)")
                print(f"   slowest steps: {steps.slowest()}")
                print(f"   XML checked again here (1 %): {valid} of {sampled} valid against the XSD")
                ok = ok and valid == sampled and made > 0

        count = made or n
        loop = min(count, args.baseline_max)
        wall, each = baseline(loop)
        print(f"3. baseline, one UPD built + validated {loop:,} times without the database: {wall:.2f} s "
              f"({each * 1000:.2f} ms each; × {count:,} = {each * count:.2f} s)")
        if "documents" in parts and made:
            print(f"   ratio documents / baseline: {parts['documents']:.2f} / {each * count:.2f} = "
                  f"{parts['documents'] / (each * count):.2f}")

        total = sum(parts.values())
        goal = GOAL_S
        complete = set(parts) == {"calculation", "documents"}
        print(f"total: {' + '.join(f'{k} {v:.2f}' for k, v in parts.items()) or '—'} = {total:.2f} s"
              f"{'' if complete else ' (parts missing)'}; goal ≤ {GOAL_S:.0f} s for {GOAL_CONTRACTS:,} contracts: "
              + ("not judged (smoke)" if args.smoke else f"not judged ({n:,} contracts)" if n != GOAL_CONTRACTS
                 else "met" if complete and total <= goal else "NOT met"))
        print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores; "
              f"peak RSS of this process {peak_rss_mb():.0f} MiB")
        if n == GOAL_CONTRACTS:
            ok = ok and complete and total <= goal
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(asyncio.run(main()))
