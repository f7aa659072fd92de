"""Coalescing concurrent sends into batches: a peer that takes many messages in one request (SMS.ru's
`multi`, a multi-row INSERT) is asked once for up to `size` of them.

`Batcher.submit(item)` waits for the item's result. Up to `workers` flushes are in flight at once; a worker
takes whatever is waiting when it is free (no timer: an idle batcher sends a lone item at once, a busy one
gathers the items that arrived while its previous request ran). Two items with the same `key` never go in one
batch (the second waits for the next), so a peer's per-key answer stays unambiguous.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class BatcherClosed(Exception):
    """The batcher was closed before the item was sent."""


class Batcher(Generic[T, R]):
    def __init__(self, flush: Callable[[list[T]], Awaitable[list[R]]], *, size: int = 100, workers: int = 4,
                 key: Callable[[T], Hashable] | None = None) -> None:
        self._flush = flush
        self.size = size
        self.workers = workers
        self._key = key or id
        self._items: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._closed = False
        self.flushes = 0  # requests made (diagnostics, the benchmark)

    async def submit(self, item: T) -> R:
        if self._closed:
            raise BatcherClosed
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._items.append((item, future))
        self._ready.set()
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        return await future

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        keys: set[Hashable] = set()
        held: list[tuple[T, asyncio.Future[R]]] = []
        while self._items and len(batch) < self.size:
            item, future = self._items.popleft()
            if future.done():  # its caller was cancelled
                continue
            key = self._key(item)
            if key in keys:
                held.append((item, future))
                continue
            keys.add(key)
            batch.append((item, future))
        self._items.extendleft(reversed(held))
        return batch

    async def _work(self) -> None:
        while True:
            while not self._items:
                self._ready.clear()
                await self._ready.wait()
            batch = self._take()
            if not batch:
                continue
            self.flushes += 1
            try:
                results = await self._flush([item for item, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(BatcherClosed())
                raise
            except Exception as exc:  # the flush should answer every item; a bug must not hang the callers
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            if len(results) != len(batch):
                results = [RuntimeError("the flush answered a different number of items")] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def close(self) -> None:
        """Stop the workers; an item not sent yet fails with `BatcherClosed`."""
        self._closed = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        while self._items:
            _, future = self._items.popleft()
            if not future.done():
                future.set_exception(BatcherClosed())
