"""Where the rows go: JSON Lines, CSV or Parquet, chosen by the output's extension.

Every writer streams: JSON Lines and CSV write (and flush) each chunk's rows as they come, so a run
that is killed leaves every row it wrote, at worst with half a last line, which a resumed run cuts
off. Parquet is written through ``pyarrow.parquet.ParquetWriter``, a row group per
:data:`ROW_GROUP` rows, into ``.NAME.partial`` beside the output, renamed onto it when the run
ends (also when it stops on an error or Ctrl-C): a Parquet file is readable only once its footer is
written, so a killed run leaves the output as it was and the partial file, never a broken output.

``--resume`` reads back what the output holds (:func:`read_existing`): the paths are skipped, the
rows kept. JSON Lines and CSV are appended to; Parquet rows are copied, a batch at a time, into the
new file. The same columns (:data:`~inkdigit.batch.rows.COLUMNS`) in every format: in CSV, ``top``
is a JSON string and a null an empty field; booleans are ``true``/``false``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from inkdigit.batch.rows import COLUMNS, Row

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
#: rows per Parquet row group (rows are small: a row group of this many is about a megabyte)
ROW_GROUP = 8192


class SinkError(ValueError):
    """An output that cannot be written or resumed (its extension, what it already holds)."""


class Sink(Protocol):
    """Takes rows in order; ``close`` makes the output complete (call it whatever happened)."""

    def write(self, rows: Sequence[Row]) -> None: ...

    def close(self) -> None: ...


@dataclass
class Existing:
    """What an output already holds: its paths (skipped by ``--resume``), and the task and model
    of its first row (a resumed run must ask the same)."""

    done: set[str] = field(default_factory=set)
    task: str | None = None
    model: str | None = None

    def add(self, row: dict[str, Any]) -> None:
        self.done.add(str(row["path"]))
        if self.task is None:
            self.task, self.model = row.get("task"), row.get("model")


def output_format(path: Path) -> str:
    """``jsonl``, ``csv`` or ``parquet``, by the extension; anything else is a :class:`SinkError`."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SinkError(f"{path}: the output's extension says its format: {', '.join(FORMATS)}")
    return fmt


def read_existing(path: Path) -> Existing:
    """What ``path`` holds (nothing if it does not exist). A half-written last line of JSON Lines or
    CSV (a killed run) is cut off here, so the rows appended next start on a line of their own."""
    existing = Existing()
    if not path.exists():
        return existing
    fmt = output_format(path)
    if fmt != "parquet":
        _cut_partial_line(path)
    for row in read_rows(path):
        existing.add(row)
    return existing


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of an output as plain values (``top`` a list of objects, nulls None)."""
    fmt = output_format(path)
    if fmt == "jsonl":
        yield from _jsonl_rows(path)
    elif fmt == "csv":
        yield from _csv_rows(path)
    else:
        yield from _parquet_rows(path)


def open_sink(path: Path, resume: Existing | None = None) -> Sink:
    """A writer for ``path`` (its parent made if need be): a new output, or with ``resume`` the
    output :func:`read_existing` read, continued."""
    fmt = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keep = resume is not None and path.exists()
    if fmt == "jsonl":
        return JsonlSink(path, append=keep)
    if fmt == "csv":
        return CsvSink(path, append=keep)
    return ParquetSink(path, keep=keep)


def _cut_partial_line(path: Path) -> None:
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        end, step = size, 65536
        while end > 0:  # find the last newline, reading backwards
            start = max(0, end - step)
            f.seek(start)
            at = f.read(end - start).rfind(b"\n")
            if at >= 0:
                f.truncate(start + at + 1)
                return
            end = start
        f.truncate(0)


class JsonlSink:
    """One JSON object per line, flushed per chunk."""

    def __init__(self, path: Path, append: bool) -> None:
        self._f = path.open("a" if append else "w", encoding="utf-8")

    def write(self, rows: Sequence[Row]) -> None:
        self._f.write("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in rows))
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise SinkError(f"{path}, line {n}: not JSON; is this an output of inkdigit batch?") from None
            if not isinstance(row, dict) or "path" not in row:
                raise SinkError(f"{path}, line {n}: no 'path'; is this an output of inkdigit batch?")
            yield row


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


class CsvSink:
    """A header, then one record per row, flushed per chunk."""

    def __init__(self, path: Path, append: bool) -> None:
        self._f = path.open("a" if append else "w", encoding="utf-8", newline="")
        self._w = csv.writer(self._f, lineterminator="\n")
        if not append or self._f.tell() == 0:
            self._w.writerow(COLUMNS)

    def write(self, rows: Sequence[Row]) -> None:
        self._w.writerows([_csv_value(v) for v in r.to_dict().values()] for r in rows)
        self._f.flush()

    def close(self) -> None:
        self._f.close()


_INTS, _FLOATS, _BOOLS = {"digit"}, {"confidence"}, {"is_digit", "is_empty"}


def _from_csv(column: str, text: str) -> Any:
    if text == "":
        return None
    if column in _INTS:
        return int(text)
    if column in _FLOATS:
        return float(text)
    if column in _BOOLS:
        return text == "true"
    if column == "top":
        return json.loads(text)
    return text


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        if tuple(header) != COLUMNS:
            raise SinkError(f"{path}: its columns are not those of inkdigit batch ({', '.join(COLUMNS)})")
        for record in reader:
            if len(record) != len(COLUMNS):
                raise SinkError(f"{path}, line {reader.line_num}: {len(record)} fields, not {len(COLUMNS)}")
            try:
                yield {c: _from_csv(c, v) for c, v in zip(COLUMNS, record, strict=True)}
            except ValueError:
                raise SinkError(f"{path}, line {reader.line_num}: a value of the wrong type") from None


def parquet_schema() -> Any:
    """The Arrow schema of a Parquet output."""
    from inkdigit.batch.extras import pyarrow

    pa = pyarrow()
    alt = pa.struct([("digit", pa.int64()), ("confidence", pa.float64())])
    return pa.schema([("path", pa.string()), ("task", pa.string()), ("digit", pa.int64()), ("text", pa.string()),
                      ("formatted", pa.string()), ("confidence", pa.float64()), ("is_digit", pa.bool_()),
                      ("is_empty", pa.bool_()), ("top", pa.list_(alt)), ("model", pa.string()),
                      ("error_code", pa.string()), ("error_message", pa.string())])


class ParquetSink:
    """Row groups into ``.NAME.partial``, renamed onto the output by :meth:`close`."""

    def __init__(self, path: Path, keep: bool) -> None:
        from inkdigit.batch.extras import pyarrow, pyarrow_parquet

        self._pq = pyarrow_parquet("a Parquet output")
        self._pa = pyarrow()
        self._schema = parquet_schema()
        self._path = path
        self._partial = path.with_name(f".{path.name}.partial")
        self._writer = self._pq.ParquetWriter(self._partial, self._schema)
        self._buffer: list[dict[str, Any]] = []
        if keep:  # the rows already there, a batch at a time, then the new ones after them
            for batch in self._pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP):
                self._writer.write_table(self._pa.Table.from_batches([batch]).cast(self._schema))

    def write(self, rows: Sequence[Row]) -> None:
        self._buffer.extend(r.to_dict() for r in rows)
        if len(self._buffer) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(self._pa.Table.from_pylist(self._buffer, schema=self._schema))
            self._buffer = []

    def close(self) -> None:
        self._flush()
        self._writer.close()
        os.replace(self._partial, self._path)


def _parquet_rows(path: Path) -> Iterator[dict[str, Any]]:
    from inkdigit.batch.extras import pyarrow_parquet

    pq = pyarrow_parquet("a Parquet output")
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow's ArrowInvalid: no footer, not Parquet
        raise SinkError(f"{path}: not a complete Parquet file ({exc})") from exc
    if tuple(pf.schema_arrow.names) != COLUMNS:
        raise SinkError(f"{path}: its columns are not those of inkdigit batch ({', '.join(COLUMNS)})")
    for batch in pf.iter_batches(batch_size=ROW_GROUP):
        yield from batch.to_pylist()
