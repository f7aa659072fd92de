"""Benchmark of printing receipts (ЕПД) as PDF (`aquabill.channels.print`): 100,000 receipts rendered by a pool of
processes (both cores of this machine), each rendering chunks of 1,000 receipts into one PDF file as a print
bundle; as the baseline, the same number of blank pages written with the same library (reportlab) the same way
in the same run.

    .venv/bin/python bench/receipts.py [--count 100000] [--per-file 1000] [--workers 2]

The receipts are synthetic `billing_core.receipts.Receipt` objects built without a database, with a realistic
variety: 2–4 services (volume, tariff, debt, recalculation, payment), an advance on some, penalties on about a
third, long addresses on about a fifth, the payee's GOST R 56042 payment string for the QR. Each worker builds
its chunk's receipts, then renders them (the two timed apart). Prints receipts/second (wall clock, building
included), the render time a receipt (wall and CPU: the CPU time holds when other work shares the cores), the blank-page baseline, the ratio, the size of the bundles and the peak
memory (ru_maxrss of this process and of the largest worker). Goal: ≥ 500 receipts/s with both cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from aquabill.billing_core.payments.qr import build_payment_string
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import PayeeRequisites, Receipt, ReceiptLine

GOAL = 500.0
PERIOD = Period(2026, 5)
PAYEE = PayeeRequisites(name="МУП «Водоканал г. Приозёрска»", personal_acc="40702810900000000001",
                        bank_name="Северо-Западный банк ПАО Сбербанк", bic="044030653",
                        corresp_acc="30101810500000000653", inn="4712000000", kpp="471201001",
                        address="188760, Ленинградская обл., г. Приозёрск, ул. Калинина, д. 11",
                        phone="+7 (813) 793-12-34", email="abonent@vodokanal.example")
SERVICES = (("Холодное водоснабжение", "cold_water", "52.34"), ("Водоотведение", "sewage", "38.11"),
            ("Горячее водоснабжение (теплоноситель)", "hot_water", "45.12"),
            ("Холодная вода на общедомовые нужды", "odn_cold", "52.34"),
            ("Подогрев воды (тепловая энергия)", "heating", "2890.4400"))
STREETS = ("ул. Ленина", "ул. Калинина", "пр. Гагарина", "ул. Героев Советского Союза Маргелова",
           "Ленинградское шоссе", "ул. Комсомольская", "пер. Речной")
HOLDERS = ("Иванов Иван Иванович", "Петрова Мария Сергеевна", "Константинопольская Анастасия Владимировна",
           "Смирнов Алексей Петрович", "Кузнецова Ольга Николаевна", None)
ZERO = Decimal("0.00")
MONEY = ("opening", "charged", "recalculated", "paid", "closing")


def _amount(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def synthetic_receipt(n: int) -> Receipt:
    """The n-th synthetic receipt (the same n, the same receipt)."""
    rng = random.Random(n)
    lines = []
    for name, code, tariff in rng.sample(SERVICES, rng.randint(2, 4)):
        vol = Decimal(rng.randint(500, 15000)) / 1000
        charged = (vol * Decimal(tariff)).quantize(Decimal("0.01"))
        opening = _amount(rng, 0, 3000) if rng.random() < 0.6 else ZERO
        recalc = -_amount(rng, 1, 80) if rng.random() < 0.15 else ZERO
        paid = opening if rng.random() < 0.7 else ZERO
        lines.append(ReceiptLine(name, code, vol, Decimal(tariff), opening, charged, recalc, paid,
                                 opening + charged + recalc - paid))
    if rng.random() < 0.1:
        advance = -_amount(rng, 10, 300)
        lines.append(ReceiptLine("Аванс (переплата)", None, None, None, advance, ZERO, ZERO, ZERO, advance))
    totals = {k: sum((getattr(x, k) for x in lines), ZERO) for k in MONEY}
    penalty = dict.fromkeys(("opening", "charged", "storno", "paid", "closing"), ZERO)
    if rng.random() < 0.33:
        penalty.update(opening=_amount(rng, 0, 200), charged=_amount(rng, 1, 50))
        penalty["closing"] = penalty["opening"] + penalty["charged"]
    due = max(totals["closing"] + penalty["closing"], ZERO)
    street = rng.choice(STREETS)
    address = f"188760, Ленинградская обл., г. Приозёрск, {street}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 300)}"
    if rng.random() < 0.2:
        address = (f"188760, Ленинградская область, Приозерский муниципальный район, Приозерское городское "
                   f"поселение, г. Приозёрск, {street}, д. {rng.randint(1, 120)}, корп. {rng.randint(1, 4)}, "
                   f"кв. {rng.randint(1, 300)}")
    number = f"{100000 + n:08d}"
    account = {"id": n, "number": number, "holder": rng.choice(HOLDERS), "address": address,
               "area_m2": Decimal(rng.randint(180, 1200)) / 10}
    qr = build_payment_string({
        "Name": PAYEE.name, "PersonalAcc": PAYEE.personal_acc, "BankName": PAYEE.bank_name, "BIC": PAYEE.bic,
        "CorrespAcc": PAYEE.corresp_acc, "PayeeINN": PAYEE.inn, "KPP": PAYEE.kpp, "Sum": due, "PersAcc": number,
        "PaymPeriod": PERIOD, "Purpose": f"Оплата за {PERIOD.first_day:%m.%Y}, л/с {number}",
        "PayerAddress": address})
    return Receipt(PERIOD, account, PAYEE, lines, totals, penalty, due, pay_by=date(2026, 6, 15),
                   pay_by_text="Оплатите до 15.06.2026 включительно: до 15-го числа месяца, следующего за "
                               "расчётным (ч. 1 ст. 155 ЖК РФ).", qr=qr)


def _layout():
    from aquabill.channels.print import ReceiptLayout

    return ReceiptLayout(tenant_name=PAYEE.name, header_text="Водоснабжение и водоотведение Приозерского района",
                         notes="Показания приборов учёта передавайте с 15 по 25 число месяца: в личном кабинете, "
                               "в Telegram-боте или по телефону +7 (813) 793-12-34.",
                         footer_text="188760, г. Приозёрск, ул. Калинина, д. 11 · vodokanal.example",
                         contact_lines="Абонентский отдел: +7 (813) 793-12-35\n"
                                       "Аварийно-диспетчерская служба: +7 (813) 793-00-01")


def render_chunk(task: tuple[int, int, str]) -> tuple[int, int, float, float, float]:
    """Build receipts [start, start + count) and render them into one bundle:
    (pages, bytes, build s, render s, render CPU s)."""
    from aquabill.channels.print import render_receipts

    start, count, folder = task
    t0 = time.perf_counter()
    receipts = [synthetic_receipt(n) for n in range(start, start + count)]
    t1, c1 = time.perf_counter(), time.process_time()
    pdf = render_receipts(receipts, _layout())
    t2, c2 = time.perf_counter(), time.process_time()
    Path(folder, f"receipts-{start:07d}.pdf").write_bytes(pdf)
    return count, len(pdf), t1 - t0, t2 - t1, c2 - c1


def blank_chunk(task: tuple[int, int, str]) -> tuple[int, int, float, float, float]:
    """The baseline: the same number of blank A4 pages in one reportlab document."""
    import io

    from reportlab.pdfgen.canvas import Canvas

    start, count, folder = task
    t0, c0 = time.perf_counter(), time.process_time()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(595.2756, 841.8898), invariant=1)
    for _ in range(count):
        canvas.showPage()
    canvas.save()
    Path(folder, f"blank-{start:07d}.pdf").write_bytes(buffer.getvalue())
    return count, len(buffer.getvalue()), 0.0, time.perf_counter() - t0, time.process_time() - c0


def run(pool, fn, count: int, per_file: int, folder: Path) -> dict:
    tasks = [(s, min(per_file, count - s), str(folder)) for s in range(0, count, per_file)]
    t0 = time.perf_counter()
    results = pool.map(fn, tasks, chunksize=1)
    wall = time.perf_counter() - t0
    return {"wall": wall, "pages": sum(r[0] for r in results), "bytes": sum(r[1] for r in results),
            "build": sum(r[2] for r in results), "render": sum(r[3] for r in results),
            "cpu": sum(r[4] for r in results), "files": len(tasks)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--per-file", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=multiprocessing.cpu_count())
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="aquabill-receipts-"))
    try:
        print(f"{args.count} receipts, {args.per_file} a PDF file, {args.workers} worker processes on "
              f"{multiprocessing.cpu_count()} cores; bundles in {folder}", flush=True)
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            pool.map(render_chunk, [(10**8, 20, str(folder))] * args.workers)  # start up, load fonts
            blank = run(pool, blank_chunk, args.count, args.per_file, folder)
            work = run(pool, render_chunk, args.count, args.per_file, folder)
        mine, workers = (resource.getrusage(who).ru_maxrss / 1024
                         for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        blank_rate = blank["pages"] / blank["wall"]
        rate = work["pages"] / work["wall"]
        print(f"blank pages  : {blank['pages']} in {blank['wall']:.2f} s = {blank_rate:,.0f} pages/s "
              f"({blank['bytes'] / blank['files'] / 1e6:.2f} MB a file)")
        print(f"receipts     : {work['pages']} in {work['wall']:.2f} s = {rate:,.0f} receipts/s "
              f"({work['bytes'] / work['files'] / 1e6:.2f} MB a file of {args.per_file}, "
              f"{work['bytes'] / work['pages'] / 1024:.1f} KiB a receipt)")
        cpu = work["cpu"] / work["pages"]
        print(f"per receipt  : render {work['render'] / work['pages'] * 1000:.2f} ms wall, {cpu * 1000:.2f} ms CPU "
              f"(a core's {1 / cpu:,.0f} receipts/s); build (synthetic) {work['build'] / work['pages'] * 1000:.2f} ms")
        print(f"peak memory  : this process {mine:.0f} MB, the largest worker {workers:.0f} MB (ru_maxrss)")
        print(f"receipts / blank pages: {rate:,.0f} / {blank_rate:,.0f} = {rate / blank_rate:.3f} "
              f"(a receipt costs {blank_rate / rate:.0f} blank pages)")
        print(f"goal ≥ {GOAL:.0f} receipts/s with {args.workers} processes: {'met' if rate >= GOAL else 'NOT met'}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
