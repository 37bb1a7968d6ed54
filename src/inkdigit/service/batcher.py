"""Where a worker process does its CPU work: compute threads fed by one FIFO queue, micro-batching.

Why not ``anyio.to_thread`` per request: each hand-off wakes a thread and then the event loop, and
under load those wake-ups (and the GIL changing hands at each) cost as much as reading the image.
Here a compute thread takes *every* job waiting when it comes free (up to ``max_batch``), runs
them back to back, with one model call per recognizer for all the single-image reads among them
(:meth:`Recognizer.read_many`), and hands all the results back to the event loop in one wake-up.
At low load a batch is one job and nothing waits for company; under load batches grow by
themselves, which is when amortising pays.

The event loop never runs engine code: it only queues jobs and receives results.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from inkdigit.engine.recognizer import Prediction, ReadRequest, ReadResult, Recognizer

log = logging.getLogger("inkdigit.service")

T = TypeVar("T")


@dataclass
class _Read:
    """One image for ``recognizer``; ``finish`` turns its prediction into what the caller awaits."""

    recognizer: Recognizer
    request: ReadRequest
    finish: Callable[[Prediction], Any]


@dataclass
class _Job:
    """Either ``call()`` run alone, or one ``read`` coalesced with the others waiting for its recognizer."""

    future: asyncio.Future[Any]
    call: Callable[[], Any] | None = None
    read: _Read | None = None
    outcome: tuple[bool, Any] = field(default=(False, None))


_STOP = object()


class Batcher:
    """``threads`` compute threads sharing one queue; ``await run(...)`` / ``await read(...)``."""

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

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a compute thread; its exception, if any, is raised here."""
        job = _Job(self._future(), call=lambda: fn(*args))
        self._queue.put(job)
        result: T = await job.future
        return result

    async def read(self, recognizer: Recognizer, request: ReadRequest, finish: Callable[[Prediction], T]) -> T:
        """Read one image, coalesced with the other reads waiting for the same recognizer, and
        return ``finish(prediction)`` (run on the compute thread too: building a response is CPU
        work). Raises the image's ``ImageInputError`` if it cannot be read."""
        job = _Job(self._future(), read=_Read(recognizer, request, finish))
        self._queue.put(job)
        result: T = await job.future
        return result

    def _future(self) -> asyncio.Future[Any]:
        if self._loop is None:
            raise RuntimeError("Batcher.start() was not called from the serving event loop")
        return self._loop.create_future()

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
        groups: dict[Recognizer, list[_Job]] = {}
        for job in jobs:
            if job.read is not None:
                groups.setdefault(job.read.recognizer, []).append(job)
                continue
            assert job.call is not None
            try:
                job.outcome = (True, job.call())
            except Exception as exc:  # handed to the awaiting request, which decides
                job.outcome = (False, exc)
        for recognizer, members in groups.items():
            for member, result in zip(members, _read_isolated(recognizer, members), strict=True):
                if isinstance(result, BaseException):
                    member.outcome = (False, result)
                    continue
                assert member.read is not None
                try:
                    member.outcome = (True, member.read.finish(result))
                except Exception as exc:
                    member.outcome = (False, exc)


def _read_isolated(recognizer: Recognizer, members: list[_Job]) -> list[ReadResult | Exception]:
    """One ``read_many`` call for all ``members``. Bad input already stays in its own slot; should
    the call fail otherwise (a bug), each image is read again alone, so that only its own request
    fails (with the exception, which the app's error handler logs)."""
    requests = [m.read.request for m in members if m.read is not None]
    try:
        return list(recognizer.read_many(requests))
    except Exception as exc:
        if len(requests) == 1:
            return [exc]
        log.warning("a coalesced read of %d images failed; reading them one by one", len(requests))
    alone: list[ReadResult | Exception] = []
    for request in requests:
        try:
            alone.extend(recognizer.read_many([request]))
        except Exception as exc:
            alone.append(exc)
    return alone


def _deliver(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():  # the client went away and the request was cancelled
            continue
        ok, value = job.outcome
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)
