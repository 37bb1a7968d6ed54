"""Every output format holds the same rows, streams them, and tells a resumed run what it holds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from inkdigit.batch.rows import COLUMNS, Alternative, Row
from inkdigit.batch.sinks import SinkError, open_sink, read_existing, read_rows

ROWS = [
    Row("a.png", "digit", "cnn-v5", digit=7, confidence=0.99, is_digit=True, is_empty=False,
        top=(Alternative(7, 0.99), Alternative(1, 0.005))),
    Row("b.png", "digit", "cnn-v5", digit=None, confidence=0.41, is_digit=False, is_empty=False,
        top=(Alternative(3, 0.41),)),
    Row("blank.png", "digit", "cnn-v5", confidence=0.0, is_digit=False, is_empty=True, top=()),
    Row("z.zip!x, \"quoted\".png", "digit", "cnn-v5", error_code="not_an_image",
        error_message="The file is not an image."),
]
NUMBER = Row("n.png", "number", "cnn-v5", text="4217", formatted="4,217", confidence=0.97, is_digit=True,
             is_empty=False)


@pytest.fixture(params=["jsonl", "csv", "parquet"])
def fmt(request: pytest.FixtureRequest) -> str:
    if request.param == "parquet":
        pytest.importorskip("pyarrow")
    return str(request.param)


def _read(path: Path) -> list[Row]:
    return [Row.from_dict(r) for r in read_rows(path)]


def test_rows_round_trip(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    sink = open_sink(out)
    sink.write(ROWS[:2])
    sink.write([*ROWS[2:], NUMBER])
    sink.close()
    assert _read(out) == [*ROWS, NUMBER]
    assert all(tuple(r) == COLUMNS for r in read_rows(out))


def test_resume_reads_what_is_there_and_appends_after_it(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    sink = open_sink(out)
    sink.write(ROWS[:2])
    sink.close()
    existing = read_existing(out)
    assert existing.done == {"a.png", "b.png"} and (existing.task, existing.model) == ("digit", "cnn-v5")
    sink = open_sink(out, existing)
    sink.write(ROWS[2:])
    sink.close()
    assert _read(out) == ROWS


def test_a_missing_output_holds_nothing(tmp_path: Path) -> None:
    existing = read_existing(tmp_path / "none.csv")
    assert existing.done == set() and existing.task is None


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_half_written_last_line_is_cut_before_resuming(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    sink = open_sink(out)
    sink.write(ROWS[:2])
    sink.close()
    whole = out.read_bytes()
    with out.open("ab") as f:  # a run killed in the middle of writing a row
        f.write(b'{"path": "c.png", "task": "dig' if fmt == "jsonl" else b"c.png,digit,4,,,0.9")
    assert read_existing(out).done == {"a.png", "b.png"}
    assert out.read_bytes() == whole
    sink = open_sink(out, read_existing(out))
    sink.write(ROWS[2:])
    sink.close()
    assert _read(out) == ROWS


def test_parquet_is_written_beside_the_output_until_the_run_ends(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "out.parquet"
    sink = open_sink(out)
    sink.write(ROWS)
    assert not out.exists()  # killed now, a run leaves no unreadable output
    sink.close()
    assert _read(out) == ROWS and not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_an_unknown_extension_or_a_foreign_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match="extension"):
        open_sink(tmp_path / "out.xlsx")
    other = tmp_path / "other.csv"
    other.write_text("name,value\nx,1\n")
    with pytest.raises(SinkError, match="columns"):
        read_existing(other)
    notes = tmp_path / "notes.jsonl"
    notes.write_text("hello\n")
    with pytest.raises(SinkError, match="not JSON"):
        read_existing(notes)


def test_csv_holds_top_as_json_and_nulls_as_empty_fields(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    sink = open_sink(out)
    sink.write(ROWS[:1])
    sink.close()
    header, line = out.read_text().splitlines()
    assert header == ",".join(COLUMNS)
    assert line.startswith("a.png,digit,7,,,0.99,true,false,") and line.endswith(",cnn-v5,,")
    (record,) = csv.reader([line])
    assert json.loads(record[COLUMNS.index("top")]) == [{"digit": 7, "confidence": 0.99},
                                                        {"digit": 1, "confidence": 0.005}]
