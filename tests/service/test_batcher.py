"""The compute queue: results reach the right caller, errors stay in their slot, waiting reads coalesce.

The reads use the shipped recognizer; one subclass also counts its model calls, and trips over one
particular input the way a bug would (not as bad input), to check that a bug fails only its own read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from inkdigit import paths
from inkdigit.engine.imageio import ImageInputError
from inkdigit.engine.recognizer import Prediction, ReadRequest, ReadResult, Recognizer
from inkdigit.service.batcher import Batcher
from tests.conftest import png_bytes, render

BOOM = b"this input trips an unforeseen bug"


class CountingRecognizer(Recognizer):
    """The shipped recognizer, counting its ``read_many`` calls; ``BOOM`` fails like a bug would."""

    calls: list[int]

    def read_many(self, requests: Sequence[ReadRequest]) -> list[ReadResult]:
        self.calls.append(len(requests))
        if any(r.image == BOOM for r in requests):
            raise RuntimeError("unforeseen")
        return super().read_many(requests)


@pytest.fixture(scope="module")
def rec() -> CountingRecognizer:
    r = CountingRecognizer(paths.store().find("cnn-v1"), threads=1)
    r.calls = []
    return r


@pytest.fixture(scope="module")
def digits(mnist_test) -> list[tuple[bytes, int]]:
    return [(png_bytes(render(mnist_test.images[i])), int(mnist_test.labels[i])) for i in range(20)]


def _digit(p: Prediction) -> int | None:
    return p.digit


def _run(coro_fn: Any, threads: int = 1, max_batch: int = 32) -> Any:
    async def main() -> Any:
        batcher = Batcher(threads, max_batch)
        batcher.start()
        try:
            return await coro_fn(batcher)
        finally:
            batcher.stop()

    return asyncio.run(main())


def test_each_caller_gets_its_own_result_and_reads_waiting_together_share_a_call(
        rec: CountingRecognizer, digits: list[tuple[bytes, int]]) -> None:
    release = threading.Event()

    async def scenario(b: Batcher) -> tuple[list[Any], int, int]:
        blocker = asyncio.ensure_future(b.run(release.wait, 10))  # keeps the thread busy ...
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(b.read(rec, ReadRequest(data), _digit)) for data, _ in digits]
        await asyncio.sleep(0.05)
        release.set()  # ... while 20 reads queue up behind it
        results = await asyncio.gather(*waiting)
        await blocker
        return list(results), b.batches, b.jobs

    rec.calls.clear()
    results, batches, jobs = _run(scenario)
    assert results == [label for _, label in digits]
    assert jobs == 21 and batches == 2  # the blocker alone, then all 20 together ...
    assert rec.calls == [20]  # ... read with one model call


def test_batches_are_capped(rec: CountingRecognizer, digits: list[tuple[bytes, int]]) -> None:
    release = threading.Event()

    async def scenario(b: Batcher) -> int:
        blocker = asyncio.ensure_future(b.run(release.wait, 10))
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(b.read(rec, ReadRequest(data), _digit)) for data, _ in digits[:10]]
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(blocker, *waiting)
        return b.batches

    rec.calls.clear()
    assert _run(scenario, max_batch=4) == 1 + 3  # 4 + 4 + 2
    assert rec.calls == [4, 4, 2]


def test_bad_input_and_a_bug_each_fail_only_their_own_read(
        rec: CountingRecognizer, digits: list[tuple[bytes, int]]) -> None:
    release = threading.Event()
    sent = [digits[0][0], b"not an image", digits[1][0], BOOM, digits[2][0]]

    async def scenario(b: Batcher) -> tuple[list[Any], Any]:
        blocker = asyncio.ensure_future(b.run(release.wait, 10))
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(b.read(rec, ReadRequest(data), _digit)) for data in sent]
        await asyncio.sleep(0.05)
        release.set()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        await blocker
        return list(results), await b.read(rec, ReadRequest(digits[3][0]), _digit)

    results, after = _run(scenario)
    assert isinstance(results[1], ImageInputError) and results[1].code == "not_an_image"
    assert isinstance(results[3], RuntimeError)
    assert [results[i] for i in (0, 2, 4)] == [digits[i][1] for i in range(3)]
    assert after == digits[3][1]  # and the thread keeps working


def test_finish_runs_on_the_compute_thread_and_its_error_reaches_the_caller(
        rec: CountingRecognizer, digits: list[tuple[bytes, int]]) -> None:
    def broken(p: Prediction) -> None:
        raise KeyError("finish")

    async def scenario(b: Batcher) -> tuple[int, int]:
        with pytest.raises(KeyError):
            await b.read(rec, ReadRequest(digits[0][0]), broken)
        return threading.get_ident(), await b.read(rec, ReadRequest(digits[0][0]), lambda _: threading.get_ident())

    loop_thread, worker_thread = _run(scenario)
    assert loop_thread != worker_thread


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
