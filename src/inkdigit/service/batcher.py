"""Where a worker process does its CPU work: compute threads fed by one FIFO queue, micro-batching.

Why not ``anyio.to_thread`` per request: each hand-off wakes a thread and then the event loop, and
under load those wake-ups (and the GIL changing hands at each) cost as much as reading the image.
Here a compute thread takes *every* job waiting when it comes free (up to ``max_batch``), runs
them back to back, with one model call for all the single-image reads, and hands all the
results back to the event loop in one wake-up. At low load a batch is one job and nothing waits
for company; under load batches grow by themselves, which is when amortising pays.

The event loop never runs engine code: it only queues jobs and receives results.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("inkdigit.service")


@dataclass
class _Job:
    """``fn(*args)`` run alone; or, when ``batch_fn`` is set, ``args`` is one item of a batched call."""

    fn: Callable[..., Any] | None
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    batch_fn: Callable[[list[tuple[Any, ...]]], list[Any]] | None = None
    outcome: tuple[bool, Any] = field(default=(False, None))


_STOP = object()


class Batcher:
    """``threads`` compute threads sharing one queue; ``await run(...)`` / ``await run_batched(...)``."""

    def __init__(self, threads: int = 1, max_batch: int = 8) -> None:
        self.threads = threads
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0  # counters, for tests and curiosity
        self.jobs = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for i in range(self.threads):
            t = threading.Thread(target=self._work, name=f"inkdigit-compute-{i}", daemon=True)
            t.start()
            self._workers.append(t)

    def stop(self) -> None:
        for _ in self._workers:
            self._queue.put(_STOP)
        for t in self._workers:
            t.join(timeout=10)
        self._workers.clear()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on a compute thread; its exception, if any, is raised here."""
        return await self._submit(_Job(fn, args, self._future()))

    async def run_batched(self, batch_fn: Callable[[list[tuple[Any, ...]]], list[Any]], *args: Any) -> Any:
        """One item of ``batch_fn(items)``: jobs with the same ``batch_fn`` waiting together are
        run as one call. ``batch_fn`` returns one result per item, an exception instance to raise."""
        return await self._submit(_Job(None, args, self._future(), batch_fn))

    def _future(self) -> asyncio.Future[Any]:
        if self._loop is None:
            raise RuntimeError("Batcher.start() was not called from the serving event loop")
        return self._loop.create_future()

    async def _submit(self, job: _Job) -> Any:
        self._queue.put(job)
        return await job.future

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            jobs = [first]
            while len(jobs) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    self._queue.put(_STOP)  # finish this batch, then stop
                    break
                jobs.append(nxt)
            self._execute(jobs)
            self.batches += 1
            self.jobs += len(jobs)
            assert self._loop is not None
            try:
                self._loop.call_soon_threadsafe(_deliver, jobs)
            except RuntimeError:  # the loop closed while we worked: nobody is waiting any more
                return

    @staticmethod
    def _execute(jobs: list[_Job]) -> None:
        groups: dict[Callable[..., Any], list[_Job]] = {}
        for job in jobs:
            if job.batch_fn is not None:
                groups.setdefault(job.batch_fn, []).append(job)
                continue
            assert job.fn is not None
            try:
                job.outcome = (True, job.fn(*job.args))
            except Exception as exc:  # handed to the awaiting request, which decides
                job.outcome = (False, exc)
        for batch_fn, members in groups.items():
            try:
                results = batch_fn([m.args for m in members])
            except Exception as exc:
                log.exception("batched compute failed for %d jobs", len(members))
                results = [exc] * len(members)
            for member, result in zip(members, results, strict=True):
                member.outcome = (False, result) if isinstance(result, BaseException) else (True, result)


def _deliver(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():  # the client went away and the request was cancelled
            continue
        ok, value = job.outcome
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)
