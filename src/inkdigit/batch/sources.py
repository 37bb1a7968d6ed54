"""Which images the arguments of ``inkdigit batch`` stand for, one :class:`Item` at a time.

A source is, by what it is on disk:

- a folder: the images in it and in all its folders (by suffix, :data:`IMAGE_SUFFIXES`), walked
  depth first with each folder's entries in name order, one folder listing held at a time;
  folder links are not followed (no cycles), archives inside are not opened;
- an archive (``.zip``, ``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz``): its image
  members, in the archive's own order, named ``ARCHIVE!member/name.png``. Members are read here,
  in one pass over the archive, and their bytes travel with the chunk (a worker never opens the
  archive: a compressed tar has no random access, and a cluster's workers need not see it);
  a member over the byte limit is read only up to the limit, for the engine to refuse;
- a manifest (``.csv`` or ``.parquet`` with a ``path`` column): each path in it, in order, a
  relative one resolved against the manifest's folder; read in batches, never whole;
- any other file: itself, whatever its name (the reader says if it is no image);
- a glob (``scans/**/*.png``), when no such path exists: the files it matches, sorted.

An image file is read by its absolute path where it is read (this process, a pool process or a cluster
worker: a cluster needs the files on a shared path). A source that does not exist is a
:class:`SourceError` before anything is read; a damaged archive or an unlistable folder found
during the walk becomes an :class:`Item` carrying its error, so it gets a row, not a crash.
"""

from __future__ import annotations

import csv
import glob
import os
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from inkdigit.cli_support import IMAGE_SUFFIXES
from inkdigit.engine.defaults import MAX_UPLOAD_BYTES

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
MANIFEST_SUFFIXES = (".csv", ".parquet")
#: separates an archive's path from a member's name in a row's path
MEMBER_SEP = "!"
#: manifest rows read at a time
MANIFEST_BATCH = 4096


class SourceError(ValueError):
    """A source that cannot be used at all (missing, a manifest without a ``path`` column)."""


@dataclass(frozen=True)
class ItemError:
    """Why an item cannot be read, known before reading it."""

    code: str
    message: str


@dataclass(frozen=True)
class Item:
    """One image to read: by ``file`` (its path) or by ``data`` (an archive member's bytes), or
    neither when ``error`` says why it cannot be."""

    path: str
    file: str | None = None
    data: bytes | None = None
    error: ItemError | None = None

    def image(self) -> str | bytes:
        """What the engine reads: the bytes, else the file's path."""
        if self.data is not None:
            return self.data
        if self.file is None:
            raise ValueError(f"item {self.path!r} has nothing to read")
        return self.file


def is_image_name(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_SUFFIXES


def _has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    return path.name.lower().endswith(suffixes)


def check_sources(sources: Iterable[str]) -> None:
    """Refuse, before any work, a source that names nothing (a missing path, a glob matching
    nothing) and a manifest without a ``path`` column."""
    for source in sources:
        path = Path(source)
        if path.is_file() and _has_suffix(path, MANIFEST_SUFFIXES):
            next(manifest_paths(path), None)  # reads the header (a Parquet file's schema) only
            continue
        if path.exists():
            continue
        if glob.has_magic(source):
            if next(glob.iglob(source, recursive=True), None) is None:
                raise SourceError(f"{source}: no file matches this pattern")
            continue
        raise SourceError(f"{source}: no such file or folder")


def iter_items(sources: Iterable[str], skip: Callable[[str], bool] = lambda _: False,
               read_members: bool = True) -> Iterator[Item]:
    """Every item the sources stand for, in order, but those whose path ``skip`` accepts (what an
    earlier run already wrote: archive members skipped are not read). With ``read_members``
    false, archive members carry no bytes (to count items cheaply)."""
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found: Iterator[Item] = (Item(str(p), file=os.path.abspath(p)) for p in walk(path))
        elif path.exists() and _has_suffix(path, ARCHIVE_SUFFIXES):
            found = archive_items(path, skip, read_members)
        elif path.exists() and _has_suffix(path, MANIFEST_SUFFIXES):
            found = (Item(p, file=os.path.abspath(p)) for p in manifest_paths(path))
        elif path.exists() or not glob.has_magic(source):
            found = iter([Item(source, file=os.path.abspath(source))])
        else:
            found = (Item(p, file=os.path.abspath(p)) for p in sorted(glob.iglob(source, recursive=True))
                     if os.path.isfile(p))
        for item in found:
            if not skip(item.path):
                yield item


def walk(folder: Path) -> Iterator[Path]:
    """The image files under ``folder``, depth first, each folder's entries in name order."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return  # an unreadable folder holds no images we can name; its parent's walk goes on
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from walk(Path(entry.path))
        elif is_image_name(entry.name) and entry.is_file():
            yield Path(entry.path)


def archive_items(archive: Path, skip: Callable[[str], bool], read_members: bool) -> Iterator[Item]:
    """The image members of a zip or tar archive, with their bytes (one pass over the archive)."""
    prefix = f"{archive}{MEMBER_SEP}"
    try:
        if archive.name.lower().endswith(".zip"):
            yield from _zip_items(archive, prefix, skip, read_members)
        else:
            yield from _tar_items(archive, prefix, skip, read_members)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        yield Item(str(archive), error=ItemError("unreadable_archive", f"{archive} cannot be read as an "
                                                 f"archive ({type(exc).__name__}: {exc})."))


def _zip_items(archive: Path, prefix: str, skip: Callable[[str], bool], read: bool) -> Iterator[Item]:
    with zipfile.ZipFile(archive) as zf:  # the central directory is read whole: one small entry per member
        for info in zf.infolist():
            if info.is_dir() or not is_image_name(info.filename) or skip(prefix + info.filename):
                continue
            if not read:
                yield Item(prefix + info.filename)
                continue
            try:
                with zf.open(info) as f:
                    data = f.read(MAX_UPLOAD_BYTES + 1)  # past the limit: the engine refuses it
            except (OSError, zipfile.BadZipFile, RuntimeError, ValueError) as exc:  # damaged, encrypted
                yield Item(prefix + info.filename, error=ItemError(
                    "unreadable_member", f"{prefix + info.filename} cannot be extracted ({exc})."))
                continue
            yield Item(prefix + info.filename, data=data)


def _tar_items(archive: Path, prefix: str, skip: Callable[[str], bool], read: bool) -> Iterator[Item]:
    with tarfile.open(archive, "r|*") as tf:  # a stream: one pass, whatever the compression
        for info in tf:
            tf.members = []  # type: ignore[attr-defined]  # a tar keeps every header it has read; a stream needs none of them back
            if not info.isfile() or not is_image_name(info.name) or skip(prefix + info.name):
                continue
            if not read:
                yield Item(prefix + info.name)
                continue
            f = tf.extractfile(info)
            data = f.read(MAX_UPLOAD_BYTES + 1) if f is not None else b""
            yield Item(prefix + info.name, data=data)


def manifest_paths(manifest: Path) -> Iterator[str]:
    """The ``path`` column of a CSV or Parquet manifest, relative paths resolved against its folder."""
    base = manifest.parent
    for raw in (_parquet_paths(manifest) if manifest.suffix.lower() == ".parquet" else _csv_paths(manifest)):
        text = (raw or "").strip()
        if text:
            yield text if os.path.isabs(text) else str(base / text)


def _csv_paths(manifest: Path) -> Iterator[str]:
    with manifest.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if "path" not in (reader.fieldnames or []):
            raise SourceError(f"{manifest}: a manifest needs a 'path' column (it has {reader.fieldnames or 'none'})")
        for record in reader:
            yield record["path"]


def _parquet_paths(manifest: Path) -> Iterator[str]:
    from inkdigit.batch.extras import pyarrow_parquet

    pq = pyarrow_parquet("a Parquet manifest")
    try:
        pf = pq.ParquetFile(manifest)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid for a file that is no Parquet
        raise SourceError(f"{manifest}: not a Parquet file ({exc})") from exc
    if "path" not in pf.schema_arrow.names:
        raise SourceError(f"{manifest}: a manifest needs a 'path' column (it has {pf.schema_arrow.names})")
    for batch in pf.iter_batches(batch_size=MANIFEST_BATCH, columns=["path"]):
        yield from (str(p) if p is not None else "" for p in batch.column(0).to_pylist())
