"""The handwriting-font data set: pinned, verified, never a reserved font, and read as digits are."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from inkdigit.training import data, fonts


def test_the_splits_are_disjoint_and_hold_no_reserved_font() -> None:
    test = {f.package for f in fonts.FONTS if f.split == "test"}
    train = {f.package for f in fonts.FONTS if f.split == "train"}
    assert test and train and not test & train
    assert len(test | train) == len(fonts.FONTS)
    for font in fonts.FONTS:
        assert not any(r in font.package for r in fonts.RESERVED), font.package
        assert font.integrity.startswith("sha512-") and font.license in ("OFL-1.1", "Apache-2.0")


def _tarball(font_file: Path, package: str, version: str) -> tuple[bytes, str]:
    """An npm-style tarball holding ``font_file`` where a @fontsource package keeps its Latin font."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        raw = font_file.read_bytes()
        info = tarfile.TarInfo(f"package/files/{package}-latin-400-normal.woff")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    blob = buf.getvalue()
    return blob, "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()


@pytest.fixture(params=["test"])
def registry(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[fonts.Font]:
    """A loopback registry serving one font (Matplotlib's DejaVu Sans, a printed face) as the only
    font of the split ``request.param``."""
    import matplotlib

    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    blob, integrity = _tarball(dejavu, "print-sans", "1.0.0")
    served = tmp_path / "registry" / "@fontsource" / "print-sans" / "-"
    served.mkdir(parents=True)
    (served / "print-sans-1.0.0.tgz").write_bytes(blob)
    font = fonts.Font("print-sans", "1.0.0", integrity, request.param, "OFL-1.1")
    monkeypatch.setattr(fonts, "FONTS", (font,))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "registry"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("INKDIGIT_FONT_REGISTRY", f"http://127.0.0.1:{server.server_port}/")
    try:
        yield font
    finally:
        server.shutdown()


def test_a_font_is_downloaded_verified_and_drawn_as_a_data_set(registry: fonts.Font, tmp_path: Path) -> None:
    digits = data.load("fonts", "test", tmp_path / "data")
    assert digits.images.shape == (10 * fonts.VARIANTS, fonts.SIDE, fonts.SIDE)
    assert digits.images.dtype == np.uint8
    assert list(digits.labels[:: fonts.VARIANTS]) == list(range(10))
    assert (tmp_path / "data" / "fonts" / registry.tarball).exists()
    assert set(digits.checksums) == {"fonts/print-sans-latin-400-normal.woff", "fonts/test-images"}
    # ink bright on black, centred, 70 % of the height at most: a data set's digit
    first = digits.images[0]
    assert first[0].max() == 0 and first[:, 0].max() == 0 and first.max() > 200
    rows = np.flatnonzero(first.max(axis=1) > 0)
    assert rows[-1] - rows[0] + 1 <= 0.7 * fonts.SIDE + 1
    again = data.load("fonts", "test", tmp_path / "data", download=False)  # from the verified copy
    np.testing.assert_array_equal(again.images, digits.images)
    with pytest.raises(data.DataError, match="no train fonts"):
        data.load("fonts", "train", tmp_path / "data")  # the only font here is a test font


def test_printed_digits_from_the_font_are_read(registry: fonts.Font, tmp_path: Path) -> None:
    """The data set goes through the same path as any other: preprocessing, model, metrics."""
    from inkdigit.engine.recognizer import Recognizer
    from inkdigit.paths import default_model, store
    from inkdigit.training.evaluate import evaluate

    metrics = evaluate(Recognizer(store().find(default_model())), "fonts", str(tmp_path / "data"))
    assert metrics["n"] == 10 * fonts.VARIANTS and metrics["accuracy"] > 0.9, metrics["accuracy"]


def test_a_damaged_or_missing_font_says_what_to_do(registry: fonts.Font, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(data.DataError, match="is missing"):
        data.load("fonts", "test", tmp_path / "none", download=False)
    folder = tmp_path / "bad" / "fonts"
    folder.mkdir(parents=True)
    (folder / registry.tarball).write_bytes(b"not a tarball")
    with pytest.raises(data.DataError, match="expected checksum"):
        data.load("fonts", "test", tmp_path / "bad")
    monkeypatch.setenv("INKDIGIT_FONT_REGISTRY", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(data.DataError, match="could not be downloaded") as info:
        data.load("fonts", "test", tmp_path / "offline")
    assert "\n" not in str(info.value)
    assert not list((tmp_path / "offline" / "fonts").glob("*.part"))


def test_a_reserved_font_is_refused_by_name(tmp_path: Path) -> None:
    reserved = fonts.Font("dancing-script", "5.0.0", "sha512-x", "train", "OFL-1.1")
    with pytest.raises(data.DataError, match="reserved"):
        fonts.font_bytes(reserved, tmp_path)


@pytest.mark.parametrize("registry", ["train"], indirect=True)
def test_a_training_run_learns_from_the_train_fonts_and_records_them(registry: fonts.Font, tmp_path: Path) -> None:
    """``--fonts N``: the train fonts' own images and N renderings of them join the training set; the
    card says how many and which fonts, and its data section holds each font file's checksum."""
    pytest.importorskip("torch")
    from inkdigit import paths
    from inkdigit.engine.modelcard import ModelCard
    from inkdigit.training.train import TrainConfig, train

    root = tmp_path / "data"  # MNIST and USPS from the shared folder; the font lands here, not there
    root.mkdir()
    for name in ("mnist", "usps"):
        (root / name).symlink_to(paths.data_dir() / name)
    out = tmp_path / "run"
    train(TrainConfig(name="fonts-dry", out_dir=str(out), dry_run=True, limit=256, eval_limit=200, fonts=5000,
                      data_dir=str(root)))
    assert (root / "fonts" / registry.tarball).exists()
    card = ModelCard.load(out / "fonts-dry.json")
    record = card.training.extra["fonts"]
    assert record["clean"] == 10 * fonts.VARIANTS and record["fonts"] == ["print-sans"]
    assert record["rendered"] == 100 and sum(record["by_kind"].values()) == 100  # a dry run makes 2 %
    assert "checksums" not in record and card.training.config["fonts"] == 5000
    assert card.data["fonts/print-sans-latin-400-normal.woff"] == hashlib.sha256(
        fonts.font_bytes(registry, root)).hexdigest()
