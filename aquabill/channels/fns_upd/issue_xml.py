"""The XML renderer of issued documents (the port `aquabill.legal_entities.issue.render`): each UPD / act /
invoice built by `upd.build_upd` (a UKD by `ukd.build_ukd`, format 5.01, or `ukd502.build_ukd502`, format 5.02, as
its `format_version` says) and validated against its XSD (`ensure_valid`, file name = @ИдФайл) before anything is
stored. Importing this module registers it.

Building and validating one UPD takes ≈0.35 ms of one core: a batch of many documents is split between worker
processes (forkserver, `AQUABILL_XML_WORKERS`, default: the cores but one — see `workers`); small batches,
and every batch on a 2-core machine, stay in-process (in a thread, while the issue writes the previous chunk). The pool is started once per process (`warm_up`:
the issue starts it while it reads the charges) and kept; the fork server imports the main module and this one
once, the workers are forked from it. Per document: the tree is built (the seller's block copied from one
built per process), validated as a tree (XSD + `checks`: no parsing back of the bytes) and serialised once.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from aquabill.channels.fns_upd.upd import serialize, upd_tree
from aquabill.channels.fns_upd.validate import ensure_valid_tree
from aquabill.legal_entities.documents import Document
from aquabill.legal_entities.issue.render import XmlFile, XmlJob, use_renderer

POOL_FROM = 400  # documents in a batch from which the worker processes pay off
_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def workers() -> int:
    """`AQUABILL_XML_WORKERS`, by default one core less than the machine has: the issuing process and
    PostgreSQL (writing the documents meanwhile) need one. Measured on the 2-core development machine
    (bench/legal_entities.py, 10,000 contracts, 07.12.2026): two worker processes 6.43/6.58 s, in-process
    rendering 6.26/6.33 s with less CPU in all — the pool pays only with cores to spare."""
    raw = os.environ.get("AQUABILL_XML_WORKERS", "").strip()
    if raw.isdigit():
        return int(raw)
    return max(1, (os.cpu_count() or 1) - 1)


def render_one(job: XmlJob) -> XmlFile:
    doc = job.document
    if isinstance(doc, Document):
        # the port's documents come checked (render.XmlJob); the XSD and `checks` still judge the file
        file_id, root = upd_tree(doc, formed_at=job.formed_at, guid=job.guid, checked=True)
        ensure_valid_tree(root, file_id.file_name)  # the tree that is serialised next: no parsing back
        return XmlFile(file_id.file_name, serialize(root))
    if doc.format_version == "5.02":  # a rate the 5.01 lists lack (legal_entities.issue.ukd.format_for)
        from aquabill.channels.fns_upd.ukd502 import build_ukd502, ensure_valid_ukd502

        name, content = build_ukd502(doc, formed_at=job.formed_at, guid=job.guid)
        ensure_valid_ukd502(content, name)
        return XmlFile(name, content)
    from aquabill.channels.fns_upd.ukd import build_ukd, ensure_valid_ukd

    name, content = build_ukd(doc, formed_at=job.formed_at, guid=job.guid)
    ensure_valid_ukd(content, name)
    return XmlFile(name, content)


def _render_list(jobs: list[XmlJob]) -> list[XmlFile]:
    return [render_one(j) for j in jobs]


def _executor(size: int) -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            ctx = multiprocessing.get_context("forkserver")
            # the fork server imports the main module and this one once; the workers are forked from it with
            # both imported (without "__main__" here each worker would import the main module again)
            ctx.set_forkserver_preload(["__main__", "aquabill.channels.fns_upd.issue_xml"])
            _pool = ProcessPoolExecutor(max_workers=size, mp_context=ctx)
        return _pool


def _ready() -> None:
    """A worker's first task: the schema compiled before the documents come."""
    from aquabill.channels.fns_upd.validate import schema

    schema()


def warm_up(count: int) -> None:
    """Start the worker processes (non-blocking) when `count` documents will need them."""
    size = workers()
    if count >= POOL_FROM and size >= 2:
        pool = _executor(size)
        for _ in range(size):
            pool.submit(_ready)


def shutdown() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def render_all(jobs: Sequence[XmlJob]) -> list[XmlFile]:
    """The files of `jobs`, in order; the first invalid one raises `Invalid` (nothing is stored then)."""
    jobs = list(jobs)
    size = workers()
    if len(jobs) < POOL_FROM or size < 2:
        return _render_list(jobs)
    step = -(-len(jobs) // size)
    parts = [jobs[i:i + step] for i in range(0, len(jobs), step)]
    out: list[XmlFile] = []
    for files in _executor(size).map(_render_list, parts):
        out.extend(files)
    return out


use_renderer(render_all, warm_up)
