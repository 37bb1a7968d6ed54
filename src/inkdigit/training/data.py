"""Loaders for the MNIST and USPS digit sets, with checksum-verified download (and UCI's 8×8
optdigits test set, which scikit-learn ships, for measuring only).

Where the files live is :func:`inkdigit.paths.data_dir`: an explicit directory (the CLI's
``--data-dir``), the ``INKDIGIT_DATA_DIR`` environment variable, else a per-user cache directory.
The directory holds ``mnist/`` and ``usps/`` sub-folders. A missing file is downloaded from public
mirrors into that directory; every file is verified against the SHA-256 of its *decompressed*
content, so a gzip that was re-compressed elsewhere still passes and a corrupted one never does.
Any failure becomes a :class:`DataError` whose message is one sentence a person can act on.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from inkdigit import paths

Split = Literal["train", "test"]
DatasetName = Literal["mnist", "usps", "optdigits", "fonts"]


class DataError(RuntimeError):
    """A data set is missing, unreachable or corrupt; ``str()`` says what to do."""


@dataclass(frozen=True)
class DataFile:
    """One gzip file of a data set and the SHA-256 of its decompressed bytes."""

    dataset: str
    name: str
    sha256: str
    mirrors: tuple[str, ...]


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_USPS_MIRRORS = (
    "https://hastie.su.domains/ElemStatLearn/datasets/",
    "https://web.stanford.edu/~hastie/ElemStatLearn/datasets/",
)

FILES: dict[str, DataFile] = {
    f.dataset + "/" + f.name: f
    for f in (
        DataFile("mnist", "train-images-idx3-ubyte.gz",
                 "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", _MNIST_MIRRORS),
        DataFile("mnist", "train-labels-idx1-ubyte.gz",
                 "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", _MNIST_MIRRORS),
        DataFile("mnist", "t10k-images-idx3-ubyte.gz",
                 "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", _MNIST_MIRRORS),
        DataFile("mnist", "t10k-labels-idx1-ubyte.gz",
                 "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", _MNIST_MIRRORS),
        DataFile("usps", "zip.train.gz",
                 "abc9f5c75b997cabe66b5d01727d5a681c69298e1641a8d37b55433a52129dc0", _USPS_MIRRORS),
        DataFile("usps", "zip.test.gz",
                 "6bde17b4f1cd68e0630cd2751d6495b5795d9165ab2dc4a0be8b7002b732f4cc", _USPS_MIRRORS),
    )
}


@dataclass(frozen=True)
class Digits:
    """Raw images of one split: ``images`` is (N, H, W) uint8, ink bright on dark; ``labels`` (N,)."""

    images: np.ndarray
    labels: np.ndarray
    checksums: dict[str, str]

    def __len__(self) -> int:
        return len(self.labels)


def _mirrors(file: DataFile) -> tuple[str, ...]:
    """Mirrors for ``file``: the public ones, unless ``INKDIGIT_DATA_MIRRORS`` names others (for an
    internal mirror, or for tests), each holding ``mnist/`` and ``usps/``."""
    bases = paths.data_mirrors()
    if bases is not None:
        return tuple(f"{base}/{file.dataset}/" for base in bases)
    return file.mirrors


def _read_verified(path: Path, file: DataFile) -> bytes:
    """Decompress ``path`` and check its digest; raise :class:`DataError` if it is damaged."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path} is not a complete gzip file ({exc}); delete it and run the command again "
            "to download a fresh copy."
        ) from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != file.sha256:
        raise DataError(
            f"{path} does not match its expected checksum (got {digest[:12]}…, expected "
            f"{file.sha256[:12]}…); delete it and run the command again to download a fresh copy."
        )
    return raw


def download_to(url: str, dest: Path, check: Callable[[Path], object]) -> None:
    """``url`` saved as ``dest`` through a ``.part`` file beside it, which ``check`` must accept (it
    raises :class:`DataError` otherwise); on any failure nothing is left behind. Raises what
    ``check`` raises, or ``OSError`` (``URLError`` included) and ``TimeoutError`` for the network."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part: Path | None = None
    try:
        with urllib.request.urlopen(url, timeout=30) as resp, tempfile.NamedTemporaryFile(
            dir=dest.parent, delete=False, suffix=".part"
        ) as tmp:
            part = Path(tmp.name)
            shutil.copyfileobj(resp, tmp)
        check(part)
        part.replace(dest)
    except BaseException:
        if part is not None:
            part.unlink(missing_ok=True)
        raise


def _download(file: DataFile, dest: Path) -> None:
    errors = []
    for base in _mirrors(file):
        url = base + file.name
        try:
            download_to(url, dest, lambda part: _read_verified(part, file))
            return
        except (DataError, OSError, TimeoutError) as exc:
            errors.append(f"{url}: {exc}")
    raise DataError(
        f"{file.dataset.upper()} file {file.name} is not in {dest.parent} and could not be "
        f"downloaded ({'; '.join(errors) or 'no mirror'}); copy the {file.dataset} files there or "
        "point --data-dir / INKDIGIT_DATA_DIR at a directory that holds them."
    )


def fetch(dataset: str, name: str, root: str | os.PathLike[str] | None = None,
          download: bool = True) -> bytes:
    """Return the verified, decompressed bytes of one data file, downloading it if missing."""
    file = FILES[f"{dataset}/{name}"]
    path = paths.data_dir(root) / dataset / name
    if not path.exists():
        if not download:
            raise DataError(
                f"{path} is missing; point --data-dir / INKDIGIT_DATA_DIR at a directory holding "
                f"{dataset}/{name}, or allow downloading."
            )
        _download(file, path)
    return _read_verified(path, file)


def _parse_idx(raw: bytes, ndim: int, source: str) -> np.ndarray:
    if len(raw) < 4 + 4 * ndim or raw[2] != 0x08 or raw[3] != ndim:
        raise DataError(f"{source} is not an IDX file of unsigned bytes with {ndim} dimensions.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{source} holds {body.size} values but its header promises {dims}.")
    return body.reshape(dims)


def load_mnist(split: Split, root: str | os.PathLike[str] | None = None,
               download: bool = True) -> Digits:
    """MNIST as 28×28 uint8 images (white ink on black), verified against known checksums."""
    prefix = "train" if split == "train" else "t10k"
    names = (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
    images = _parse_idx(fetch("mnist", names[0], root, download), 3, names[0])
    labels = _parse_idx(fetch("mnist", names[1], root, download), 1, names[1])
    if len(images) != len(labels):
        raise DataError(f"MNIST {split}: {len(images)} images but {len(labels)} labels.")
    sums = {f"mnist/{n}": FILES[f"mnist/{n}"].sha256 for n in names}
    return Digits(images.copy(), labels.astype(np.int64), sums)


def load_usps(split: Split, root: str | os.PathLike[str] | None = None,
              download: bool = True) -> Digits:
    """USPS as 16×16 uint8 images: the file's [-1, 1] values mapped to [0, 255], ink bright."""
    name = "zip.train.gz" if split == "train" else "zip.test.gz"
    text = fetch("usps", name, root, download).decode("ascii")
    try:
        rows = np.array([line.split() for line in text.splitlines() if line.strip()], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"USPS {name} has a malformed line ({exc}).") from exc
    if rows.ndim != 2 or rows.shape[1] != 257:
        raise DataError(f"USPS {name} rows should hold a label and 256 values.")
    pixels = np.clip((rows[:, 1:] + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    return Digits(pixels.reshape(-1, 16, 16), rows[:, 0].astype(np.int64),
                  {f"usps/{name}": FILES[f"usps/{name}"].sha256})


def load_optdigits(split: Split) -> Digits:
    """Real low-resolution scans: the 1,797 test digits of UCI's "optdigits" (pen digits by 13
    writers scanned to 32×32 bitmaps and reduced to 8×8 counts 0–16, Alpaydin & Kaynak 1998), as
    scikit-learn ships them (no download), as 8×8 uint8, ink bright. Only a test split: they are
    for measuring how 8×8 scans are read, never for training."""
    if split != "test":
        raise DataError("optdigits has only a test split here (scikit-learn's 1,797 digits); it measures, "
                        "it is not trained on.")
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DataError("optdigits ships with scikit-learn, which is in the train extra: "
                        "pip install 'inkdigit[train]'.") from exc
    raw = load_digits()
    images = np.rint(np.asarray(raw.images) * (255 / 16)).astype(np.uint8)
    labels = np.asarray(raw.target, dtype=np.int64)
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    return Digits(images, labels, {"optdigits/sklearn-load_digits": digest})


def load(dataset: DatasetName, split: Split, root: str | os.PathLike[str] | None = None,
         download: bool = True) -> Digits:
    """Load ``dataset`` (``mnist``, ``usps``, ``optdigits`` or ``fonts``) ``split`` (``train`` or ``test``)."""
    if dataset == "mnist":
        return load_mnist(split, root, download)
    if dataset == "usps":
        return load_usps(split, root, download)
    if dataset == "optdigits":
        return load_optdigits(split)
    if dataset == "fonts":
        from inkdigit.training.fonts import load_fonts  # Pillow's font code, only when asked

        return load_fonts(split, root, download)
    raise DataError(f"Unknown data set {dataset!r}; choose mnist, usps, optdigits or fonts.")
