"""Dynamic batching: one asyncio scheduler that packs work from concurrent requests into forwards.

Each request puts its inputs (one per response) into a bounded queue as work items, each
with a future. One worker loop takes the oldest items up to ``max_batch_size`` items or
``max_batch_tokens`` padded tokens (longest input x count), runs them on a single forward
thread (one forward at a time) and sets every item's future. While a forward runs, new work
queues up, so under load batches grow by themselves. When the worker is idle it starts at
once, except that it waits up to ``max_wait_s`` for requests that are already being
tokenized (:meth:`Batcher.expecting`): a lone client never pays for a wait that brings
nobody, and a burst of clients shares one forward.

``capacity`` bounds the items admitted and not yet answered (queued or in the forward);
a request that does not fit is refused whole (:class:`QueueFull`), never partly queued.
Batch composition does not change a score: the model code reads each reward at its own
last real token (invariant 2, docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rewardlab.serve.errors import QueueFull, ShuttingDown

__all__ = ["BatchStats", "Batcher"]

log = logging.getLogger("rewardlab.serve")


@dataclass
class _Item:
    payload: Any
    tokens: int
    request: int
    future: asyncio.Future[Any]
    enqueued: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class BatchStats:
    """What one forward did (for metrics): items, padded tokens, seconds."""

    size: int
    padded_tokens: int
    seconds: float


class Batcher:
    """Collect work items across requests and run them in batches through ``run``.

    ``run(payloads) -> results`` is called on one dedicated thread (``executor``) and must return
    one result per payload, in order. ``batching=False`` runs one request per forward (a baseline).
    """

    def __init__(
        self,
        run: Callable[[list[Any]], Sequence[Any]],
        *,
        capacity: int,
        max_batch_size: int,
        max_batch_tokens: int,
        max_wait_s: float,
        batching: bool = True,
        on_batch: Callable[[BatchStats], None] | None = None,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        self._run = run
        self.capacity = capacity
        self.max_batch_size = max_batch_size
        self.max_batch_tokens = max_batch_tokens
        self.max_wait_s = max_wait_s
        self.batching = batching
        self._on_batch = on_batch
        self._queue: collections.deque[_Item] = collections.deque()
        self._admitted = 0  # queued + in the forward
        self._incoming = 0  # requests being prepared that will enqueue soon
        self._arrived = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._ids = itertools.count()
        self._worker: asyncio.Task[None] | None = None
        # One thread runs every forward (``executor``, when given, must have one worker and is not shut down here).
        self._owns_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="rewardlab-forward")

    # ------------------------------------------------------------------ admission
    @property
    def admitted(self) -> int:
        """Items admitted and not yet answered (queued or being scored)."""
        return self._admitted

    @property
    def queued(self) -> int:
        """Items waiting for a forward."""
        return len(self._queue)

    def enqueue(self, payloads: Sequence[Any], tokens: Sequence[int]) -> list[asyncio.Future[Any]]:
        """Admit every payload or none; one future per payload. Raises QueueFull or ShuttingDown."""
        if self._closing:
            raise ShuttingDown("the server is shutting down")
        if not payloads:
            return []
        if self._admitted + len(payloads) > self.capacity:
            raise QueueFull(f"the queue is full ({self._admitted} of {self.capacity} responses admitted)")
        loop = asyncio.get_running_loop()
        request = next(self._ids)
        futures: list[asyncio.Future[Any]] = []
        for payload, n in zip(payloads, tokens):
            fut = loop.create_future()
            fut.add_done_callback(self._release)
            self._queue.append(_Item(payload, int(n), request, fut))
            futures.append(fut)
        self._admitted += len(futures)
        self._idle.clear()
        self._arrived.set()
        self._ensure_worker()
        return futures

    @contextlib.contextmanager
    def expecting(self) -> Iterator[None]:
        """Mark a request that is being prepared and will enqueue soon (an idle worker may wait for it)."""
        self._incoming += 1
        try:
            yield
        finally:
            self._incoming -= 1
            self._arrived.set()  # a worker waiting for this request re-evaluates

    async def submit(self, payloads: Sequence[Any], tokens: Sequence[int], *,
                     timeout: float | None = None) -> list[Any]:
        """Enqueue and wait for every result; TimeoutError after ``timeout`` seconds (the items are dropped)."""
        return await self.wait(self.enqueue(payloads, tokens), timeout)

    @staticmethod
    async def wait(futures: list[asyncio.Future[Any]], timeout: float | None) -> list[Any]:
        """Every future's result; on timeout or cancellation the unanswered items are dropped."""
        try:
            return list(await asyncio.wait_for(asyncio.gather(*futures), timeout))
        finally:
            for fut in futures:  # on timeout or cancellation, queued items are skipped
                fut.cancel()

    def _release(self, fut: asyncio.Future[Any]) -> None:
        self._admitted -= 1
        if self._admitted == 0:
            self._idle.set()

    # ------------------------------------------------------------------ lifecycle
    def _ensure_worker(self) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._loop(), name="rewardlab-batcher")

    async def close(self, drain_timeout: float | None = None) -> None:
        """Refuse new work, let admitted work finish (up to ``drain_timeout`` s), then stop."""
        self._closing = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), drain_timeout)
        for item in self._queue:
            item.future.cancel()
        self._queue.clear()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._owns_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ the worker
    async def _loop(self) -> None:
        while True:
            while not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
            await self._gather_more()
            batch = self._take()
            try:
                if batch:
                    await self._score(batch)
            except Exception as exc:  # a bug here must fail these requests, not stall every later one
                log.exception("the batcher failed on a batch of %d", len(batch))
                for item in batch:
                    _set(item.future, exc=exc)

    async def _gather_more(self) -> None:
        """Wait for requests being prepared, until the oldest item has waited max_wait_s or a batch is full."""
        while self.batching and self._incoming > 0 and not self._full():
            remaining = self._queue[0].enqueued + self.max_wait_s - time.monotonic()
            if remaining <= 0:
                return
            self._arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
            self._drop_cancelled()
            if not self._queue:
                return

    def _full(self) -> bool:
        count, longest = 0, 0
        for item in self._queue:
            count, longest = count + 1, max(longest, item.tokens)
            if count >= self.max_batch_size or longest * count >= self.max_batch_tokens:
                return True
        return False

    def _drop_cancelled(self) -> None:
        self._queue = collections.deque(i for i in self._queue if not i.future.done())

    def _take(self) -> list[_Item]:
        """The next batch, oldest first, within the size and padded-token budgets."""
        self._drop_cancelled()
        batch: list[_Item] = []
        longest = 0
        while self._queue and len(batch) < self.max_batch_size:
            head = self._queue[0]
            if not self.batching and batch and head.request != batch[0].request:
                break
            wider = max(longest, head.tokens)
            if batch and wider * (len(batch) + 1) > self.max_batch_tokens:
                break
            batch.append(self._queue.popleft())
            longest = wider
        return batch

    async def _score(self, batch: list[_Item]) -> None:
        batch.sort(key=lambda i: -i.tokens)  # longest first, as the offline scorer batches
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        try:
            results = await loop.run_in_executor(self._executor, self._run, [i.payload for i in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"the backend returned {len(results)} results for {len(batch)} inputs")
        except Exception as exc:
            if len(batch) == 1:
                log.error("scoring failed: %s: %s", type(exc).__name__, exc)
                _set(batch[0].future, exc=exc)
                return
            # Score one by one so that a single bad input fails only its own request.
            log.warning("a batch of %d failed (%s); retrying its items one by one", len(batch), type(exc).__name__)
            for item in batch:
                await self._score([item])
            return
        seconds = time.perf_counter() - t0
        for item, result in zip(batch, results):
            _set(item.future, result=result)
        if self._on_batch is not None:
            self._on_batch(BatchStats(len(batch), max(i.tokens for i in batch) * len(batch), seconds))


def _set(fut: asyncio.Future[Any], *, result: Any = None, exc: BaseException | None = None) -> None:
    if fut.done():  # the request timed out or went away
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)
