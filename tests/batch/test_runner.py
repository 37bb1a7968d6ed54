"""Chunks are read wherever, and written in input order, each once, with bounded memory."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from inkdigit.batch.rows import BatchTask, Row
from inkdigit.batch.runner import Chunk, chunks, run_ordered
from inkdigit.batch.sources import Item


def test_items_are_cut_into_numbered_chunks() -> None:
    items = [Item(f"{i}.png", file=f"/{i}.png") for i in range(7)]
    got = list(chunks(iter(items), 3))
    assert [c.index for c in got] == [0, 1, 2] and [len(c.items) for c in got] == [3, 3, 1]
    assert [i for c in got for i in c.items] == items


class Backwards:
    """Finishes the chunks in flight latest first: the worst order for the writer, every time."""

    def __init__(self, in_flight: int) -> None:
        self.in_flight = in_flight
        self.most_held = 0
        self.held: set[int] = set()

    def submit(self, chunk: Chunk) -> int:
        self.held.add(chunk.index)
        self.most_held = max(self.most_held, len(self.held))
        return chunk.index

    def wait(self, pending: Collection[int]) -> Collection[int]:
        return [max(pending)]

    def result(self, handle: int) -> list[Row]:
        return [Row(f"{handle}-{k}.png", BatchTask.digit.value, "m") for k in range(2)]


@pytest.mark.parametrize("in_flight", [1, 3, 8])
def test_rows_are_written_in_input_order_whatever_order_chunks_finish_in(in_flight: int) -> None:
    executor = Backwards(in_flight)
    written: list[list[Row]] = []

    def write(rows: list[Row]) -> None:
        written.append(rows)
        executor.held.discard(int(rows[0].path.split("-")[0]))

    run_ordered(chunks((Item(str(i), file=str(i)) for i in range(40)), 2), executor, write)
    assert [r.path for rows in written for r in rows] == [f"{c}-{k}.png" for c in range(20) for k in range(2)]
    assert executor.most_held == in_flight  # never more chunks submitted and unwritten than allowed
