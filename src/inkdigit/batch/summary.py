"""What a batch run did, counted as its rows are written: shown at the end of ``inkdigit batch``."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from inkdigit.batch.rows import BatchTask, Row


@dataclass
class Summary:
    """Rows written this run, unreadable files by error code, answers by kind, and the time taken.

    ``answers`` counts, for digits, each digit read and ``not a digit`` and ``blank``; for
    numbers, ``read`` (every piece a digit), ``partly read`` and ``blank``."""

    task: BatchTask
    skipped: int = 0
    rows: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    def add(self, rows: Sequence[Row]) -> None:
        self.rows += len(rows)
        for row in rows:
            if row.error_code is not None:
                self.errors[row.error_code] += 1
            elif row.is_empty:
                self.answers["blank"] += 1
            elif self.task is BatchTask.number:
                self.answers["read" if row.is_digit else "partly read"] += 1
            else:
                self.answers[str(row.digit) if row.is_digit else "not a digit"] += 1

    def finish(self) -> None:
        self.finished = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    @property
    def rate(self) -> float:
        """Images read per second this run."""
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def unreadable(self) -> int:
        return sum(self.errors.values())
