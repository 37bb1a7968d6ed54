"""The same run on an existing Dask distributed cluster (``--scheduler tcp://HOST:PORT``).

The model travels once per worker: a :class:`ModelPlugin` carries the card and weights
(:class:`~inkdigit.batch.model.ModelFiles`), and each worker, when it joins (also one that joins
mid-run), writes them into its own local directory and loads the recognizer once. A task is then
pure: (model digest, how to read, a chunk of items) → rows. Image files are read by the workers
from their absolute paths, so the workers must see the same filesystem as this machine (a shared
path); archive members travel as bytes inside their chunk (see :mod:`inkdigit.batch.sources`).

Rows come back to this process and are written by :func:`~inkdigit.batch.runner.run_ordered`,
in order. A worker lost mid-run loses nothing: the scheduler gives its chunks, running or finished
but not yet fetched, to the others, and each chunk's future yields its rows once, so no row is
lost or written twice. Only a chunk that kills worker after worker fails the run
(``distributed.scheduler.allowed-failures``), with the rows before it written.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from distributed import Client, Future, WorkerPlugin, as_completed

from inkdigit.batch.model import ModelFiles, load_files, loaded
from inkdigit.batch.rows import BatchTask, Row, read_chunk
from inkdigit.batch.runner import Chunk, ReadSpec
from inkdigit.batch.sources import Item

#: seconds to wait for the scheduler to answer
CONNECT_TIMEOUT = 10


class ClusterError(RuntimeError):
    """The cluster cannot be used: unreachable, or its workers cannot load the model."""


class ModelPlugin(WorkerPlugin):
    """Loads a model on every worker of the cluster, once, from the files it carries."""

    def __init__(self, files: ModelFiles) -> None:
        self.files = files
        self.name = f"inkdigit-model-{files.digest[:16]}"

    def setup(self, worker: Any) -> None:
        # one ONNX Runtime thread: each task runs the model on its own worker thread, and the
        # cluster's workers × threads are the parallelism. A worker cannot see how many others share
        # its machine, so more threads per model call could only oversubscribe the cores (two
        # workers on a 2-core machine: 88 canvas images/s with two threads each, 92 with one)
        load_files(self.files, Path(worker.local_directory) / "inkdigit-models", threads=1)


def read_on_worker(digest: str, task: str, top: int, items: tuple[Item, ...]) -> list[Row]:
    """A chunk's rows, read on a worker with the model its plugin loaded (the task Dask runs)."""
    return read_chunk(loaded(digest), items, BatchTask(task), top)


class DaskExecutor:
    """Reads chunks as tasks on a cluster: two chunks in flight per worker thread at the start."""

    def __init__(self, client: Client, files: ModelFiles, spec: ReadSpec) -> None:
        self.client, self.digest, self.spec = client, files.digest, spec
        self.run = uuid.uuid4().hex[:12]
        self.in_flight = max(2, 2 * sum(client.nthreads().values()))
        self._completed = as_completed(loop=client.loop)  # this client's, not a process-wide default

    def submit(self, chunk: Chunk) -> Future:
        # a key of its own per chunk: a chunk read again after a worker died keeps it, and is
        # fetched once; two runs on one cluster never share one
        future = self.client.submit(read_on_worker, self.digest, self.spec.task.value, self.spec.top, chunk.items,
                                    key=f"inkdigit-batch-{self.run}-{chunk.index}")
        self._completed.add(future)
        return future

    def wait(self, pending: Collection[Future]) -> Collection[Future]:
        """The futures done (finished or failed): at least one, blocking until then."""
        return [next(self._completed), *self._completed.next_batch(block=False)]

    def result(self, handle: Future) -> list[Row]:
        rows: list[Row] = handle.result()
        handle.release()  # the worker may drop the rows now
        return rows


@contextmanager
def connect(address: str, files: ModelFiles, spec: ReadSpec) -> Iterator[DaskExecutor]:
    """A :class:`DaskExecutor` on the scheduler at ``address``, the model loaded on its workers."""
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        try:
            client.register_plugin(ModelPlugin(files))
        except Exception as exc:  # whatever setup raised on a worker (no inkdigit there, a bad card)
            raise ClusterError(f"the workers at {address} cannot load model {files.name}: "
                               f"{type(exc).__name__}: {exc} (they need inkdigit installed)") from exc
        yield DaskExecutor(client, files, spec)
    finally:
        client.close()
