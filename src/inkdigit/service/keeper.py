"""Writing signed-in readings to the history with group commit.

Every signed-in reading is one history row and one image row, committed before the response
is sent (an acknowledged reading survives ``kill -9``). Committed one by one, each costs a
transaction: a connection from the pool, a driver thread hand-off per statement, a WAL sync;
under load that, not the reading, bounded throughput. Here the readings that arrive while a
commit is under way wait for the next one, and go in together: one transaction, one
multi-row insert per table. Alone, a reading is committed at once (no added wait); under load,
the batch grows with the load. Each waiter is answered only when its batch is committed.

A batch that fails (say, an account deleted between a reading's sign-in check and its write) is
retried row by row, so one bad row fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from inkdigit.service.db.models import Reading, ReadingImage

log = logging.getLogger("inkdigit.service.history")
_readings, _images = cast(Table, Reading.__table__), cast(Table, ReadingImage.__table__)
MAX_BATCH = 256


@dataclass
class Row:
    """One reading to keep: the ``reading`` columns and its image."""

    user_id: uuid.UUID
    created_at: datetime
    kind: str
    source: str
    model: str
    answer: str
    confidence: float
    is_digit: bool
    elapsed_ms: float
    result: dict[str, Any]
    media_type: str
    image: bytes
    done: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def columns(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "created_at": self.created_at, "kind": self.kind, "source": self.source,
                "model": self.model, "answer": self.answer, "confidence": self.confidence,
                "is_digit": self.is_digit, "elapsed_ms": self.elapsed_ms, "result": self.result}


class HistoryKeeper:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._pending: list[Row] = []
        self._writer: asyncio.Task[None] | None = None

    async def keep(self, row: Row) -> int:
        """Commit ``row``; its id once it is on disk."""
        self._pending.append(row)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return await asyncio.shield(row.done)  # a client that leaves does not cancel the batch

    async def drain(self) -> None:
        """Wait for the rows still being written (at shutdown)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                ids = await self._insert(batch)
            except Exception:
                for row in batch:
                    try:
                        row.done.set_result((await self._insert([row]))[0])
                    except Exception as exc:
                        log.warning("a reading could not be kept: %s", exc)
                        row.done.set_exception(exc)
            else:
                for row, reading_id in zip(batch, ids, strict=True):
                    row.done.set_result(reading_id)

    async def _insert(self, rows: list[Row]) -> list[int]:
        async with self.engine.begin() as connection:
            inserted = await connection.execute(
                insert(_readings).returning(_readings.c.id, sort_by_parameter_order=True),
                [row.columns() for row in rows])
            ids = [int(i) for i in inserted.scalars()]
            await connection.execute(insert(_images), [
                {"reading_id": i, "media_type": row.media_type, "data": row.image} for i, row in zip(ids, rows,
                                                                                                       strict=True)])
        return ids
