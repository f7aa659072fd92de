"""Rendering receipts off the event loop: a process pool shared by everything that renders a PDF in this
process (the printing job, the portal's and the staff's PDF links, the bots, the mailing of receipts).

A receipt takes ~1.5 ms of one core (receipt_pdf.py): a bundle of 500 blocks a core for most of a second,
so it never runs on the event loop. The receipts cross the process boundary as their `as_dict()` snapshots
(plain JSON-like data; `Receipt.from_dict` rebuilds them in the worker) and the layout as its fields.
Workers are started by a fork server (never `fork` of a process with an event loop and threads), the
renderer's modules preloaded; the pool is created on first use and `shutdown()` ends it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from typing import Any

from aquabill.billing_core.receipts import Receipt
from aquabill.channels.print.layout import ReceiptLayout

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def pool_size() -> int:
    """AQUABILL_PRINT_WORKERS, else the cores less one (at least one)."""
    raw = os.environ.get("AQUABILL_PRINT_WORKERS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, (os.cpu_count() or 2) - 1)


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["aquabill.channels.print.receipt_pdf"])
            _pool = ProcessPoolExecutor(max_workers=pool_size(), mp_context=ctx)
        return _pool


def shutdown() -> None:
    """End the pool's workers (the next render starts a new pool)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _render(snapshots: list[dict[str, Any]], layout: dict[str, Any]) -> bytes:
    """In the worker: the receipts back from their snapshots, one PDF."""
    from aquabill.channels.print.receipt_pdf import render_receipts

    return render_receipts([Receipt.from_dict(s) for s in snapshots], ReceiptLayout(**layout))


async def render_in_pool(receipts: Iterable[Receipt | dict[str, Any]], layout: ReceiptLayout | None = None) -> bytes:
    """One PDF of the receipts (or their `as_dict()` snapshots), one page each in the order given, rendered
    in the pool: the same bytes as `render_receipts` in this process. A pool whose worker died is replaced
    once."""
    snapshots = [r.as_dict() if isinstance(r, Receipt) else r for r in receipts]
    fields = asdict(layout or ReceiptLayout())
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), _render, snapshots, fields)
    except BrokenProcessPool:
        shutdown()
        return await loop.run_in_executor(_executor(), _render, snapshots, fields)
