"""Cut the items into chunks, read them somewhere, write their rows in input order.

Whatever reads the chunks (this process, a pool of processes, a Dask cluster) is a
:class:`ChunkExecutor`; :func:`run_ordered` is the one loop over it. It keeps at most
``executor.in_flight`` chunks submitted or finished-but-not-yet-written, so memory stays bounded
whatever the input's size (the items are enumerated lazily, a chunk at a time), and it hands rows
on strictly in chunk order (a reorder buffer), so the output is in input order and every chunk's
rows are written exactly once, even when chunks finish out of order or are read again elsewhere.

Local runs: ``--workers 1`` reads in this process (:class:`InlineExecutor`); ``--workers N`` in N
processes started with ``spawn`` (:class:`PoolExecutor`), each loading the model once, in its
initializer, with its share of the cores for ONNX Runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from inkdigit.batch.rows import BatchTask, Row, read_chunk
from inkdigit.batch.sources import Item
from inkdigit.engine.defaults import TOP_K_DEFAULT

if TYPE_CHECKING:
    from inkdigit.engine.recognizer import Recognizer

#: files per chunk: big enough that one model call reads many digits, small enough to spread
CHUNK_SIZE = 64

H = TypeVar("H", bound=Hashable)


@dataclass(frozen=True)
class Chunk:
    """Consecutive items; ``index`` is the chunk's place in the input."""

    index: int
    items: tuple[Item, ...]


@dataclass(frozen=True)
class ReadSpec:
    """How every image of a run is read."""

    task: BatchTask = BatchTask.digit
    top: int = TOP_K_DEFAULT


def chunks(items: Iterable[Item], size: int = CHUNK_SIZE) -> Iterator[Chunk]:
    """``items`` in chunks of ``size`` (the last may be shorter), numbered from 0."""
    batch: list[Item] = []
    index = 0
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield Chunk(index, tuple(batch))
            index, batch = index + 1, []
    if batch:
        yield Chunk(index, tuple(batch))


class ChunkExecutor(Protocol[H]):
    """Reads chunks somewhere: ``submit`` one, ``wait`` until one or more of ``pending`` finished
    (returns those), take its rows with ``result`` (raises what reading raised)."""

    in_flight: int

    def submit(self, chunk: Chunk) -> H: ...

    def wait(self, pending: Collection[H]) -> Collection[H]: ...

    def result(self, handle: H) -> list[Row]: ...


def run_ordered(source: Iterable[Chunk], executor: ChunkExecutor[H], write: Callable[[list[Row]], None]) -> None:
    """Read every chunk through ``executor`` and ``write`` each chunk's rows, in chunk order."""
    chunk_iter = iter(source)
    pending: dict[H, int] = {}
    finished: dict[int, list[Row]] = {}
    next_index = 0
    exhausted = False
    while True:
        while not exhausted and len(pending) + len(finished) < max(1, executor.in_flight):
            chunk = next(chunk_iter, None)
            if chunk is None:
                exhausted = True
            else:
                pending[executor.submit(chunk)] = chunk.index
        if not pending:
            break
        for handle in executor.wait(pending):
            finished[pending.pop(handle)] = executor.result(handle)
        while next_index in finished:
            write(finished.pop(next_index))
            next_index += 1
    if finished:  # chunks numbered with a gap: a bug in the caller, never rows silently dropped
        raise RuntimeError(f"chunks {sorted(finished)} were read but chunk {next_index} never came")


@dataclass(eq=False)
class _Done:
    """A chunk read at once: its handle holds its rows."""

    rows: list[Row]


class InlineExecutor:
    """Reads each chunk in this process, as it is submitted."""

    in_flight = 1

    def __init__(self, rec: Recognizer, spec: ReadSpec) -> None:
        self.rec, self.spec = rec, spec

    def submit(self, chunk: Chunk) -> _Done:
        return _Done(read_chunk(self.rec, chunk.items, self.spec.task, self.spec.top))

    def wait(self, pending: Collection[_Done]) -> Collection[_Done]:
        return list(pending)

    def result(self, handle: _Done) -> list[Row]:
        return handle.rows


#: the recognizer of a pool process, loaded by its initializer
_pool_recognizer: Recognizer | None = None


def _init_pool(card: str, threads: int) -> None:
    from inkdigit.engine.recognizer import Recognizer

    global _pool_recognizer
    _pool_recognizer = Recognizer(card, threads)


def _read_in_pool(items: tuple[Item, ...], spec: ReadSpec) -> list[Row]:
    if _pool_recognizer is None:
        raise RuntimeError("a pool process read a chunk before loading its model")
    return read_chunk(_pool_recognizer, items, spec.task, spec.top)


class PoolExecutor:
    """Reads chunks in ``workers`` spawned processes, two chunks in flight per process."""

    def __init__(self, card: Path, spec: ReadSpec, workers: int) -> None:
        threads = max(1, min(4, (os.cpu_count() or 1) // workers))
        self.spec = spec
        self.in_flight = 2 * workers
        self.pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_pool,
                                        initargs=(str(card), threads))

    def submit(self, chunk: Chunk) -> Future[list[Row]]:
        return self.pool.submit(_read_in_pool, chunk.items, self.spec)

    def wait(self, pending: Collection[Future[list[Row]]]) -> Collection[Future[list[Row]]]:
        return wait(pending, return_when=FIRST_COMPLETED).done

    def result(self, handle: Future[list[Row]]) -> list[Row]:
        return handle.result()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
