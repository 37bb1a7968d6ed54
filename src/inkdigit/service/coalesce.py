"""Sharing one database round among the concurrent requests that need the same kind of work.

The history write and the token check run on every signed-in reading; done one request at a
time, each cost a connection, a driver thread hand-off per statement and (for writes) a commit,
and that, not the reading, bounded throughput. A ``Coalescer`` runs its batch function at once
for a lone caller; callers that arrive while a batch is under way go together in the next one.
Each caller gets its own item's result once its batch is done (for a write: committed). A batch
that fails is run again item by item, so one bad item fails only its own caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Coalescer(Generic[K, V]):
    def __init__(self, run: Callable[[list[K]], Awaitable[list[V]]], max_batch: int = 256) -> None:
        """``run(items)`` answers one result per item, in order."""
        self._run, self.max_batch = run, max_batch
        self._pending: list[tuple[K, asyncio.Future[V]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: K) -> V:
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await asyncio.shield(future)  # a client that leaves does not cancel the batch

    async def wait(self) -> None:
        """Wait for the batches under way (at shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            try:
                results = await self._run([item for item, _ in batch])
            except Exception:
                for item, future in batch:
                    try:
                        future.set_result((await self._run([item]))[0])
                    except Exception as exc:  # that caller's request answers it
                        future.set_exception(exc)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    future.set_result(result)
