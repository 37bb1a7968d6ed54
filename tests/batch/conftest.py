"""What the batch tests share: real PNGs of MNIST test digits, bad files beside them, and the
``inkdigit`` command run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.conftest import png_bytes, render

BIN = Path(sys.executable).with_name("inkdigit")


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@dataclass(frozen=True)
class Digit:
    png: bytes
    label: int


@pytest.fixture(scope="session")
def digits(mnist_test) -> list[Digit]:
    """The first 10 MNIST test digits drawn as a user draws them, PNG-encoded, with their labels."""
    return [Digit(png_bytes(render(mnist_test.images[i])), int(mnist_test.labels[i])) for i in range(10)]


@dataclass
class Mixed:
    """A folder of good digits (``labels`` by path) and bad files (``codes``: the error each gets)."""

    root: Path
    labels: dict[str, int] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)


def huge_png() -> bytes:
    """A small file declaring 20000×20000 pixels, past the engine's limit."""
    return png_bytes(Image.new("1", (20000, 20000), 1))


@pytest.fixture(scope="session")
def bad_files() -> dict[str, tuple[bytes, str]]:
    """Bad files by name, with their bytes and the code the engine gives each."""
    good = png_bytes(np.full((64, 64), 255, np.uint8))
    return {"notes.png": (b"hello, I am a text file named notes.png\n", "not_an_image"),
            "truncated.png": (good[:60], "corrupt_image"),
            "empty.png": (b"", "empty_input"),
            "huge.png": (huge_png(), "image_too_large")}


@pytest.fixture
def mixed(tmp_path: Path, digits: list[Digit], bad_files: dict[str, tuple[bytes, str]]) -> Mixed:
    """Ten digits spread over a folder and its folders, and the bad files, some in a subfolder."""
    found = Mixed(tmp_path / "in")
    for i, d in enumerate(digits):
        p = found.root / ("" if i % 2 else f"sub{i % 3}") / f"digit{i}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(d.png)
        found.labels[str(p)] = d.label
    for i, (name, (data, code)) in enumerate(bad_files.items()):
        p = found.root / ("deep/er" if i % 2 else "") / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        found.codes[str(p)] = code
    (found.root / "README.txt").write_text("not an image by its name: a folder walk skips it\n")
    return found
