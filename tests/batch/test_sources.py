"""Which items the sources stand for, in which order, with what to read."""

from __future__ import annotations

import csv
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from inkdigit.batch.sources import Item, SourceError, check_sources, iter_items


def _touch(root: Path, *names: str) -> None:
    for name in names:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(name.encode())


def _paths(items: list[Item]) -> list[str]:
    return [i.path for i in items]


def test_a_folder_is_walked_depth_first_in_name_order_skipping_what_is_no_image(tmp_path: Path) -> None:
    _touch(tmp_path, "b.png", "a/z/y.JPG", "a/c.png", "a-x.png", "notes.txt", "a/archive.zip", "c/d/e.webp")
    (tmp_path / "empty").mkdir()
    items = list(iter_items([str(tmp_path)]))
    rel = [os.path.relpath(p, tmp_path) for p in _paths(items)]
    assert rel == ["a/c.png", "a/z/y.JPG", "a-x.png", "b.png", "c/d/e.webp"]
    assert all(i.file == os.path.abspath(i.path) and i.data is None for i in items)


def test_a_file_named_explicitly_is_always_tried_and_relative_paths_read_from_anywhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _touch(tmp_path, "notes.txt")
    monkeypatch.chdir(tmp_path)
    (item,) = iter_items(["notes.txt"])
    assert item.path == "notes.txt" and item.file == str(tmp_path / "notes.txt")


def test_a_glob_names_the_files_it_matches_sorted(tmp_path: Path) -> None:
    _touch(tmp_path, "x/2.png", "x/1.png", "x/y/3.png", "x/y/notes.txt")
    (tmp_path / "x" / "folder.png").mkdir()  # a folder a pattern matches is no file to read
    items = list(iter_items([str(tmp_path / "x" / "**" / "*.png")]))
    assert [os.path.relpath(p, tmp_path) for p in _paths(items)] == ["x/1.png", "x/2.png", "x/y/3.png"]


def test_a_missing_source_or_a_glob_matching_nothing_is_refused(tmp_path: Path) -> None:
    _touch(tmp_path, "a.png")
    check_sources([str(tmp_path), str(tmp_path / "a.png"), str(tmp_path / "*.png")])
    with pytest.raises(SourceError, match="no such file"):
        check_sources([str(tmp_path), str(tmp_path / "missing")])
    with pytest.raises(SourceError, match="no file matches"):
        check_sources([str(tmp_path / "*.gif")])


def test_zip_members_are_read_with_their_bytes_in_archive_order(tmp_path: Path) -> None:
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("z/last.png", b"one")
        zf.writestr("a.png", b"two")
        zf.writestr("readme.txt", b"skipped")
        zf.writestr("dir/", b"")
    items = list(iter_items([str(archive)]))
    assert _paths(items) == [f"{archive}!z/last.png", f"{archive}!a.png"]
    assert [i.image() for i in items] == [b"one", b"two"] and all(i.file is None for i in items)
    # skipped members (already in the output) are neither listed nor read
    assert _paths(list(iter_items([str(archive)], skip=lambda p: p.endswith("last.png")))) == [f"{archive}!a.png"]


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_tar_members_are_read_in_one_pass(tmp_path: Path, mode: str) -> None:
    archive = tmp_path / ("set.tar" if mode == "w" else "set.tgz")
    with tarfile.open(archive, mode) as tf:
        for name, data in (("b/1.png", b"first"), ("notes.md", b"no"), ("a.jpg", b"second")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    items = list(iter_items([str(archive)]))
    assert _paths(items) == [f"{archive}!b/1.png", f"{archive}!a.jpg"]
    assert [i.data for i in items] == [b"first", b"second"]
    counted = list(iter_items([str(archive)], read_members=False))
    assert _paths(counted) == _paths(items) and all(i.data is None for i in counted)


def test_a_damaged_archive_is_an_item_with_its_error_not_a_crash(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 this is not the rest of a zip file")
    (item,) = iter_items([str(archive)])
    assert item.path == str(archive) and item.error is not None and item.error.code == "unreadable_archive"


def test_a_csv_manifest_resolves_relative_paths_against_its_folder(tmp_path: Path) -> None:
    manifest = tmp_path / "lists" / "m.csv"
    manifest.parent.mkdir()
    with manifest.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "path"])
        w.writerows([[1, "../imgs/a.png"], [2, "/data/abs.png"], [3, ""], [4, "b.txt"]])
    items = list(iter_items([str(manifest)]))
    assert _paths(items) == [str(manifest.parent / "../imgs/a.png"), "/data/abs.png", str(manifest.parent / "b.txt")]
    assert items[0].file == str(tmp_path / "imgs" / "a.png")  # a listed file is tried, whatever its name


def test_a_manifest_without_a_path_column_is_refused_before_any_work(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("file\na.png\n")
    with pytest.raises(SourceError, match="'path' column"):
        check_sources([str(manifest)])


def test_a_parquet_manifest_is_read_in_batches(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from inkdigit.batch import sources

    manifest = tmp_path / "m.parquet"
    names = [f"img/{i:05d}.png" for i in range(sources.MANIFEST_BATCH + 5)]
    pq.write_table(pa.table({"path": names, "label": list(range(len(names)))}), manifest)
    check_sources([str(manifest)])
    assert _paths(list(iter_items([str(manifest)]))) == [str(tmp_path / n) for n in names]
    pq.write_table(pa.table({"file": ["a.png"]}), tmp_path / "bad.parquet")
    with pytest.raises(SourceError, match="'path' column"):
        check_sources([str(tmp_path / "bad.parquet")])
