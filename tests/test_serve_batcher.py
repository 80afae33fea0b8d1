"""The dynamic batcher alone: packing, budgets, admission, isolation of failures, draining (asyncio, no model)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from rewardlab.serve.batcher import Batcher, BatchStats
from rewardlab.serve.errors import QueueFull, ShuttingDown


class Recorder:
    """A forward that records its batches and answers ``payload * 10`` (``"bad"`` raises)."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[Any]] = []
        self.gate = gate

    def __call__(self, payloads: list[Any]) -> Sequence[Any]:
        if self.gate is not None and not self.gate.wait(30):
            raise RuntimeError("gate never opened")
        self.batches.append(list(payloads))
        if "bad" in payloads:
            raise ValueError("bad input")
        return [p * 10 for p in payloads]


def _batcher(run: Recorder, **kw: Any) -> Batcher:
    opts: dict[str, Any] = dict(capacity=100, max_batch_size=4, max_batch_tokens=10_000, max_wait_s=30.0)
    opts.update(kw)
    return Batcher(run, **opts)


def test_concurrent_requests_share_forwards_up_to_max_batch_size() -> None:
    async def main() -> tuple[list[Any], Recorder]:
        run = Recorder()
        b = _batcher(run)  # a long max_wait: only full batches may start
        results = await asyncio.gather(*(b.submit([i], [5]) for i in range(8)))
        await b.close()
        return results, run

    results, run = asyncio.run(main())
    assert results == [[i * 10] for i in range(8)]
    assert run.batches == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_the_padded_token_budget_bounds_a_batch_and_batches_run_longest_first() -> None:
    async def main() -> Recorder:
        run = Recorder()
        stats: list[BatchStats] = []
        b = _batcher(run, max_batch_size=64, max_batch_tokens=30, max_wait_s=0.0, on_batch=stats.append)
        await asyncio.gather(b.submit([1, 2], [5, 10]), b.submit([3], [10]), b.submit([4], [2]))
        await b.close()
        assert all(s.padded_tokens <= 30 for s in stats)
        return run

    run = asyncio.run(main())
    assert run.batches == [[2, 3, 1], [4]]  # 10 x 3 = 30 tokens fit; the fourth would make 40


def test_a_lone_request_waits_at_most_max_wait() -> None:
    async def main() -> list[Any]:
        b = _batcher(Recorder(), max_wait_s=0.01)
        out = await asyncio.wait_for(b.submit([7], [3]), 5)
        await b.close()
        return out

    assert asyncio.run(main()) == [70]


def test_without_batching_each_forward_holds_one_request() -> None:
    async def main() -> Recorder:
        run = Recorder()
        b = _batcher(run, batching=False)
        await asyncio.gather(b.submit([1, 2], [3, 3]), b.submit([3, 4], [3, 3]), b.submit([5], [3]))
        await b.close()
        return run

    assert asyncio.run(main()).batches == [[1, 2], [3, 4], [5]]


def test_admission_is_all_or_nothing_and_bounded() -> None:
    async def main() -> None:
        gate = threading.Event()
        b = _batcher(Recorder(gate), capacity=3, max_wait_s=0.0)
        first = b.enqueue([1, 2], [1, 1])
        with pytest.raises(QueueFull):
            b.enqueue([3, 4], [1, 1])  # 2 + 2 > 3: refused whole
        assert b.admitted == 2
        gate.set()
        assert await asyncio.gather(*first) == [10, 20]
        assert await b.submit([3, 4], [1, 1]) == [30, 40]  # room again
        await b.close()

    asyncio.run(main())


def test_one_failing_input_fails_only_its_own_request() -> None:
    async def main() -> list[Any]:
        b = _batcher(Recorder(), max_batch_size=8, max_wait_s=30.0, max_batch_tokens=3)  # 3 items fill it
        out = await asyncio.gather(b.submit([1], [1]), b.submit(["bad"], [1]), b.submit([2], [1]),
                                   return_exceptions=True)
        await b.close()
        return out

    good1, bad, good2 = asyncio.run(main())
    assert good1 == [10] and good2 == [20] and isinstance(bad, ValueError)


def test_timed_out_work_is_dropped_before_it_reaches_the_model() -> None:
    async def main() -> Recorder:
        gate = threading.Event()
        run = Recorder(gate)
        b = _batcher(run, max_batch_size=1, max_wait_s=0.0)
        first = b.enqueue([1], [1])  # occupies the forward thread
        with pytest.raises(asyncio.TimeoutError):
            await b.submit([2], [1], timeout=0.05)
        gate.set()
        assert await first[0] == 10
        await b.close()
        return run

    assert asyncio.run(main()).batches == [[1]]


def test_close_refuses_new_work_and_drains_admitted_work() -> None:
    async def main() -> None:
        gate = threading.Event()
        b = _batcher(Recorder(gate), max_wait_s=0.0)
        admitted = b.enqueue([1, 2], [1, 1])
        closing = asyncio.create_task(b.close(drain_timeout=30))
        await asyncio.sleep(0)  # let close() start (a yield, not a timed wait)
        with pytest.raises(ShuttingDown):
            b.enqueue([3], [1])
        gate.set()
        await closing
        assert [f.result() for f in admitted] == [10, 20]

    asyncio.run(main())


def test_an_idle_worker_starts_at_once_when_nobody_else_is_coming() -> None:
    async def main() -> list[Any]:
        b = _batcher(Recorder(), max_wait_s=30.0)  # a wait would time this out
        out = await asyncio.wait_for(b.submit([1], [1]), 5)
        await b.close()
        return out

    assert asyncio.run(main()) == [10]


def test_the_worker_waits_for_requests_that_are_being_prepared() -> None:
    async def main() -> Recorder:
        run = Recorder()
        b = _batcher(run, max_wait_s=30.0)
        with b.expecting():  # a second request is being tokenized
            first = b.enqueue([1], [1])
            await asyncio.sleep(0)  # the worker runs, sees it coming, and waits
            second = b.enqueue([2], [1])
        await asyncio.gather(*first, *second)
        await b.close()
        return run

    assert asyncio.run(main()).batches == [[1, 2]]


def test_plan_forwards_cuts_where_padding_costs_more_than_a_forward() -> None:
    from rewardlab.serve.packing import plan_forwards

    lengths = [10, 100, 12, 98]
    # One forward: 4 + 100 * 4 = 404; cut into [100, 98] + [12, 10]: 2 * 4 + 200 + 24 = 232.
    assert plan_forwards(lengths, overhead_tokens=4, max_size=64) == [[1, 3], [2, 0]]
    assert plan_forwards(lengths, overhead_tokens=10_000, max_size=64) == [[1, 3, 2, 0]]  # a GPU: never cut
    # The cap forces two forwards; the cheapest pair is still by length: 2 * 10000 + 200 + 24.
    assert plan_forwards(lengths, overhead_tokens=10_000, max_size=3) == [[1, 3], [2, 0]]
    assert plan_forwards([], overhead_tokens=4, max_size=8) == []
    assert sorted(i for g in plan_forwards([5] * 7, overhead_tokens=0, max_size=2) for i in g) == list(range(7))
