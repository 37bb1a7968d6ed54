"""Preprocessing must keep producing what the shipped models were trained on.

``golden/preprocess_v1.npz`` holds 135 inputs (canvas PNGs of every stroke weight, specks, MNIST and
USPS digits, scans, photo-like images) and what preprocessing v1 made of them. Rewriting a stage for
speed is only allowed if these outputs survive; anything else must bump ``VERSION`` and retrain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inkdigit.engine import native
from inkdigit.engine.preprocess import V1_CONFIG, preprocess

GOLDEN = Path(__file__).parent / "golden" / "preprocess_v1.npz"


def _cases() -> list[tuple[str, bytes | np.ndarray, np.ndarray]]:
    with np.load(GOLDEN) as z:
        cases = []
        for key in z.files:
            if not key.startswith("in/"):
                continue
            _, kind, name = key.split("/", 2)
            value = z[key]
            cases.append((name, value.tobytes() if kind == "png" else value, z[f"out/{name}"]))
    return cases


CASES = _cases()


def test_the_fixture_covers_every_kind_of_input() -> None:
    names = [name for name, _, _ in CASES]
    for prefix in ("canvas_", "mnist_", "usps_", "scan_", "photo_"):
        assert sum(n.startswith(prefix) for n in names) >= 4, prefix


@pytest.fixture(params=["compiled", "numpy"])
def kernels(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each case with the compiled kernels and with the NumPy reference they replace."""
    if request.param == "numpy":
        monkeypatch.setattr(native, "kernels", None)
    elif native.kernels is None:
        pytest.skip("the compiled kernels are not built here")
    return str(request.param)


@pytest.mark.parametrize("name,source,expected", CASES, ids=[c[0] for c in CASES])
def test_output_matches_version_1(name: str, source: bytes | np.ndarray, expected: np.ndarray, kernels: str) -> None:
    pre = preprocess(source, V1_CONFIG)
    if expected.shape == (1,):  # stored as "empty"
        assert pre.is_empty
        return
    assert not pre.is_empty
    np.testing.assert_allclose(pre.image, expected, atol=2e-5, rtol=0)
