"""Writing signed-in readings to the history with group commit.

Every signed-in reading is one history row and one image row, committed before the response
is sent (an acknowledged reading survives ``kill -9``). The readings that arrive while a commit
is under way go in the next one together (``coalesce.Coalescer``): one transaction, one
multi-row insert per table. Alone, a reading is committed at once; under load, the batch grows
with the load. A batch that fails (say, an account deleted between a reading's sign-in check
and its write) is written again row by row, so one bad row fails alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from inkdigit.service.coalesce import Coalescer
from inkdigit.service.db.models import Reading, ReadingImage

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

    def columns(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "created_at": self.created_at, "kind": self.kind, "source": self.source,
                "model": self.model, "answer": self.answer, "confidence": self.confidence,
                "is_digit": self.is_digit, "elapsed_ms": self.elapsed_ms, "result": self.result}


class HistoryKeeper:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._writes = Coalescer(self._insert, MAX_BATCH)

    async def keep(self, row: Row) -> int:
        """Commit ``row``; its id once it is on disk."""
        return await self._writes.submit(row)

    async def drain(self) -> None:
        """Wait for the rows still being written (at shutdown)."""
        await self._writes.wait()

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
