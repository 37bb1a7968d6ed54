"""Data loaders: good files, damaged files, and missing files with and without a mirror."""

from __future__ import annotations

import functools
import gzip
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from inkdigit import paths
from inkdigit.training import data


def test_mnist_test_split_loads_and_verifies(mnist_test: data.Digits) -> None:
    assert mnist_test.images.shape == (10000, 28, 28)
    assert mnist_test.images.dtype == np.uint8
    assert sorted(np.unique(mnist_test.labels)) == list(range(10))
    assert mnist_test.images.mean() == pytest.approx(33.3, abs=1.0)  # MNIST's known mean intensity


def test_usps_test_split_loads_with_bright_ink(data_dir: Path) -> None:
    usps = data.load("usps", "test", data_dir)
    assert usps.images.shape == (2007, 16, 16)
    assert np.bincount(usps.labels).tolist() == [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]
    assert np.median(usps.images) == 0  # background is dark, ink bright


def test_optdigits_are_real_8x8_scans_for_measuring_only() -> None:
    scans = data.load("optdigits", "test")
    assert scans.images.shape == (1797, 8, 8) and scans.images.dtype == np.uint8
    assert np.bincount(scans.labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert scans.images.max() == 255 and np.median(scans.images[:, 0]) == 0  # ink bright on dark
    assert list(scans.checksums) == ["optdigits/sklearn-load_digits"]
    with pytest.raises(data.DataError, match="only a test split"):
        data.load("optdigits", "train")


def test_optdigits_without_scikit_learn_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # as if scikit-learn were not installed
    with pytest.raises(data.DataError, match=r"inkdigit\[train\]"):
        data.load("optdigits", "test")


def _copy_usps(data_dir: Path, dest: Path) -> Path:
    (dest / "usps").mkdir(parents=True)
    target = dest / "usps" / "zip.test.gz"
    shutil.copy(data_dir / "usps" / "zip.test.gz", target)
    return target


def test_wrong_checksum_is_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    target = _copy_usps(data_dir, tmp_path)
    raw = bytearray(gzip.decompress(target.read_bytes()))
    raw[100] = ord("7") if raw[100] != ord("7") else ord("8")
    target.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(data.DataError, match="checksum.*delete it"):
        data.load("usps", "test", tmp_path)


def test_truncated_file_is_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    target = _copy_usps(data_dir, tmp_path)
    target.write_bytes(target.read_bytes()[:5000])
    with pytest.raises(data.DataError, match="not a complete gzip file"):
        data.load("usps", "test", tmp_path)


def test_missing_file_without_network_says_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INKDIGIT_DATA_MIRRORS", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(data.DataError) as info:
        data.load("mnist", "test", tmp_path)
    message = str(info.value)
    assert "could not be downloaded" in message and "--data-dir" in message
    assert "\n" not in message


def test_missing_file_is_downloaded_from_a_mirror_and_verified(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(data_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        mirrors = f"http://127.0.0.1:9,http://127.0.0.1:{server.server_port}"
        monkeypatch.setenv("INKDIGIT_DATA_MIRRORS", mirrors)
        usps = data.load("usps", "test", tmp_path / "fresh")
    finally:
        server.shutdown()
    assert len(usps) == 2007
    assert (tmp_path / "fresh" / "usps" / "zip.test.gz").exists()
    assert not list((tmp_path / "fresh" / "usps").glob("*.part"))


def test_data_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INKDIGIT_DATA_DIR", str(tmp_path / "env"))
    assert paths.data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert paths.data_dir() == tmp_path / "env"
    monkeypatch.delenv("INKDIGIT_DATA_DIR")
    assert paths.data_dir().name == "data"
