"""Shared fixtures. Data comes from INKDIGIT_DATA_DIR (CI: ../shared/data) or the repo's sibling."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _data_dir() -> Path | None:
    env = os.environ.get("INKDIGIT_DATA_DIR")
    for candidate in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data"]:
        if (candidate / "mnist").is_dir() and (candidate / "usps").is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Local MNIST/USPS if configured or beside the repo, else the loader's own cache (downloaded)."""
    from inkdigit import paths

    return _data_dir() or paths.data_dir()


@pytest.fixture(autouse=True, scope="session")
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test session gets its own cache and home, so tests never read a developer's state."""
    old = {k: os.environ.get(k) for k in ("INKDIGIT_CACHE_DIR", "INKDIGIT_HOME", "INKDIGIT_DATA_DIR")}
    os.environ["INKDIGIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["INKDIGIT_HOME"] = str(tmp_path_factory.mktemp("home"))
    d = _data_dir()
    if d is not None:
        os.environ["INKDIGIT_DATA_DIR"] = str(d)
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def mnist_test(data_dir: Path):
    from inkdigit.training import data

    return data.load("mnist", "test", data_dir)


def render(digit: np.ndarray, canvas: int = 280, size: int = 200, at: tuple[int, int] | None = None,
           dark_ink: bool = True, thicken: int = 0) -> np.ndarray:
    """Draw a 28×28 MNIST digit as a user would on a canvas: large, anywhere, dark on light."""
    from scipy import ndimage

    img = Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC)
    ink = np.asarray(img, dtype=np.float32) / 255.0
    if thicken:
        ink = ndimage.grey_dilation(ink, size=(thicken, thicken))
    out = np.zeros((canvas, canvas), dtype=np.float32)
    y, x = at if at is not None else ((canvas - size) // 2, (canvas - size) // 2)
    out[y: y + size, x: x + size] = ink
    out = np.clip(out, 0, 1)
    return ((1 - out) if dark_ink else out) * 255


def png_bytes(arr: np.ndarray | Image.Image) -> bytes:
    """PNG-encode an image, or a uint8-convertible array (gray, RGB or RGBA by its shape)."""
    buf = io.BytesIO()
    img = arr if isinstance(arr, Image.Image) else Image.fromarray(np.asarray(arr).astype(np.uint8))
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def extra_model_dir(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A directory holding a second, small model (kNN ``knn-small``), as ``inkdigit train`` leaves one."""
    pytest.importorskip("skl2onnx")
    from inkdigit.training.dataset import prepare
    from inkdigit.training.families import KNNDigits

    train = prepare("mnist", "train", str(data_dir), limit=3000)
    cal = prepare("usps", "train", str(data_dir), limit=500)
    model = KNNDigits(k=3, n_components=40).fit(train.images / 255.0, train.labels)
    model.calibrate(cal.images / 255.0, cal.labels)
    out = tmp_path_factory.mktemp("models")
    model.save(out, "knn-small", metrics={"mnist_test": {"accuracy": 0.95, "n": 1}})
    return out
