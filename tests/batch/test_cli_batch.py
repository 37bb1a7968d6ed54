"""``inkdigit batch`` end to end, as a user runs it: one correct row per file, whatever the file."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from inkdigit.batch.sinks import read_rows
from tests.batch.conftest import Digit, Mixed, jsonl, run


def test_a_folder_of_good_and_bad_files_gives_one_correct_row_per_file(tmp_path: Path, mixed: Mixed) -> None:
    out = tmp_path / "rows.jsonl"
    res = run("batch", str(mixed.root), "--out", str(out), "--chunk-size", "4")
    assert res.returncode == 0, res.stderr
    rows = jsonl(out)
    assert sorted(r["path"] for r in rows) == sorted([*mixed.labels, *mixed.codes])  # README.txt: no image
    by_path = {r["path"]: r for r in rows}
    right = sum(by_path[p]["digit"] == label for p, label in mixed.labels.items())
    assert right >= 9, [(p, by_path[p]["digit"], label) for p, label in mixed.labels.items()]
    for path, code in mixed.codes.items():
        assert by_path[path]["error_code"] == code and by_path[path]["error_message"]
        assert by_path[path]["digit"] is None and by_path[path]["confidence"] is None
    for path in mixed.labels:
        row = by_path[path]
        assert row["error_code"] is None and row["model"] and row["task"] == "digit"
        assert row["top"][0]["digit"] == row["digit"] and len(row["top"]) == 3
    assert [r["path"] for r in rows] == sorted(by_path, key=lambda p: Path(p).relative_to(mixed.root).parts)
    assert "unreadable: not_an_image" in res.stdout and "images/s" in res.stdout


def test_two_processes_give_the_rows_one_gives(tmp_path: Path, mixed: Mixed) -> None:
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert run("batch", str(mixed.root), "--out", str(one), "--chunk-size", "3").returncode == 0
    res = run("batch", str(mixed.root), "--out", str(two), "--chunk-size", "3", "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert list(read_rows(two)) == list(read_rows(one)) and len(list(read_rows(one))) == 14


def test_resume_completes_a_partial_output_without_duplicates(tmp_path: Path, mixed: Mixed) -> None:
    full = tmp_path / "full.jsonl"
    assert run("batch", str(mixed.root), "--out", str(full)).returncode == 0
    lines = full.read_text().splitlines(keepends=True)
    partial = tmp_path / "partial.jsonl"
    partial.write_text("".join(lines[:5]) + lines[5][:30])  # killed while writing the sixth row
    res = run("batch", str(mixed.root), "--out", str(partial))
    assert res.returncode == 1 and "--resume" in res.stderr  # an output is never replaced unasked
    res = run("batch", str(mixed.root), "--out", str(partial), "--resume")
    assert res.returncode == 0, res.stderr
    assert partial.read_text() == full.read_text()
    assert "already in the output" in res.stdout
    res = run("batch", str(mixed.root), "--out", str(partial), "--resume", "--task", "number")
    assert res.returncode == 1 and "--task digit" in res.stderr


def test_numbers_fill_text_and_formatted(tmp_path: Path, mnist_test) -> None:
    from tests.service.test_recognize import _number

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "n1.png").write_bytes(_number(mnist_test, "4217"))
    (tmp_path / "in" / "n2.png").write_bytes(_number(mnist_test, "380"))
    (tmp_path / "in" / "n3.png").write_text("not an image")
    out = tmp_path / "numbers.jsonl"
    res = run("batch", str(tmp_path / "in"), "--out", str(out), "--task", "number")
    assert res.returncode == 0, res.stderr
    first, second, third = jsonl(out)
    assert (first["text"], second["text"]) == ("4217", "380")
    assert first["task"] == "number" and first["digit"] is None and first["top"] is None and first["is_digit"]
    assert third["error_code"] == "not_an_image" and third["text"] is None


def test_archives_to_parquet_a_damaged_one_a_row_of_its_own(tmp_path: Path, digits: list[Digit]) -> None:
    pytest.importorskip("pyarrow")
    archive = tmp_path / "digits.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, d in enumerate(digits[:4]):
            zf.writestr(f"set/{i}.png", d.png)
        zf.writestr("set/labels.txt", "skipped: no image by its name")
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 not the rest of a gzip stream")
    out = tmp_path / "rows.parquet"
    res = run("batch", str(archive), str(broken), "--out", str(out))
    assert res.returncode == 0, res.stderr
    rows = list(read_rows(out))
    assert [r["path"] for r in rows] == [*(f"{archive}!set/{i}.png" for i in range(4)), str(broken)]
    assert sum(r["digit"] == d.label for r, d in zip(rows, digits, strict=False)) >= 3
    assert rows[-1]["error_code"] == "unreadable_archive" and rows[-1]["digit"] is None


def test_usage_errors_are_one_line_and_exit_1(tmp_path: Path, mixed: Mixed) -> None:
    nowhere = tmp_path / ("nowhere-" + "long-folder-name-" * 8)  # longer than any terminal line
    for args, words in ((["batch", str(nowhere), "--out", str(tmp_path / "o.jsonl")], "no such file"),
                        (["batch", str(mixed.root), "--out", str(tmp_path / "o.xlsx")], "extension"),
                        (["batch", str(mixed.root), "--out", str(tmp_path / "o.csv"), "--workers", "2",
                          "--scheduler", "tcp://127.0.0.1:9"], "--workers")):
        res = run(*args)
        assert res.returncode == 1 and words in res.stderr and "Traceback" not in res.stderr
        assert res.stderr.count("\n") == 1, res.stderr


def test_without_the_batch_extra_jsonl_works_and_parquet_or_a_cluster_names_the_extra(
        tmp_path: Path, mixed: Mixed) -> None:
    hide = ("import sys; sys.modules.update(pyarrow=None, distributed=None, dask=None); "
            "from inkdigit.cli import main; sys.argv[0] = 'inkdigit'; main()")

    def bare(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", hide, *args], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ))

    res = bare("batch", str(mixed.root), "--out", str(tmp_path / "o.jsonl"))
    assert res.returncode == 0, res.stderr
    assert len(jsonl(tmp_path / "o.jsonl")) == 14
    for args in (["--out", str(tmp_path / "o.parquet")],
                 ["--out", str(tmp_path / "o2.jsonl"), "--scheduler", "tcp://127.0.0.1:9"]):
        res = bare("batch", str(mixed.root), *args)
        assert res.returncode == 1 and "inkdigit[batch]" in res.stderr and "Traceback" not in res.stderr
