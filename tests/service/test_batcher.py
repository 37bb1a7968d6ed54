"""The compute queue: results reach the right caller, errors stay in their slot, waiting jobs coalesce."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from inkdigit.service.batcher import Batcher


def _double_all(items: list[tuple[Any, ...]]) -> list[Any]:
    return [ValueError(f"bad {x}") if x < 0 else 2 * x for (x,) in items]


def _run(coro_fn: Any, threads: int = 1, max_batch: int = 32) -> Any:
    async def main() -> Any:
        batcher = Batcher(threads, max_batch)
        batcher.start()
        try:
            return await coro_fn(batcher)
        finally:
            batcher.stop()

    return asyncio.run(main())


def test_each_caller_gets_its_own_result_and_jobs_waiting_together_share_a_call() -> None:
    release = threading.Event()

    async def scenario(b: Batcher) -> tuple[list[int], int, int]:
        blocker = asyncio.ensure_future(b.run(release.wait, 10))  # keeps the thread busy ...
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(b.run_batched(_double_all, i)) for i in range(20)]
        await asyncio.sleep(0.05)
        release.set()  # ... while 20 jobs queue up behind it
        results = await asyncio.gather(*waiting)
        await blocker
        return list(results), b.batches, b.jobs

    results, batches, jobs = _run(scenario)
    assert results == [2 * i for i in range(20)]
    assert jobs == 21 and batches == 2  # the blocker alone, then all 20 in one call


def test_batches_are_capped() -> None:
    release = threading.Event()

    async def scenario(b: Batcher) -> int:
        blocker = asyncio.ensure_future(b.run(release.wait, 10))
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(b.run_batched(_double_all, i)) for i in range(10)]
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(blocker, *waiting)
        return b.batches

    assert _run(scenario, max_batch=4) == 1 + 3  # 4 + 4 + 2


def test_an_error_stays_in_its_own_slot() -> None:
    async def scenario(b: Batcher) -> list[Any]:
        return list(await asyncio.gather(*(b.run_batched(_double_all, x) for x in (1, -1, 3)),
                                         return_exceptions=True))

    ok1, err, ok3 = _run(scenario)
    assert (ok1, ok3) == (2, 6)
    assert isinstance(err, ValueError) and str(err) == "bad -1"


def test_a_failing_batch_fails_each_member_and_the_thread_keeps_working() -> None:
    def broken(items: list[tuple[Any, ...]]) -> list[Any]:
        raise RuntimeError("boom")

    async def scenario(b: Batcher) -> tuple[list[Any], int]:
        failed = await asyncio.gather(*(b.run_batched(broken, i) for i in range(3)), return_exceptions=True)
        return list(failed), await b.run_batched(_double_all, 21)

    failed, after = _run(scenario)
    assert all(isinstance(f, RuntimeError) for f in failed)
    assert after == 42


def test_a_plain_job_returns_or_raises_in_the_caller() -> None:
    async def scenario(b: Batcher) -> int:
        with pytest.raises(ZeroDivisionError):
            await b.run(lambda: 1 / 0)
        return int(await b.run(sum, [1, 2, 3]))

    assert _run(scenario, threads=2) == 6


def test_work_runs_off_the_event_loop_thread() -> None:
    async def scenario(b: Batcher) -> tuple[int, int]:
        return threading.get_ident(), await b.run(threading.get_ident)

    loop_thread, worker_thread = _run(scenario)
    assert loop_thread != worker_thread
