"""Preprocessing must keep producing what the shipped models were trained on, version by version.

``golden/preprocess_v1.npz`` holds 135 inputs (canvas PNGs of every stroke weight, specks, MNIST and
USPS digits, scans, photo-like images) and what preprocessing v1 made of them;
``golden/preprocess_v2.npz`` the same inputs plus 20 rendered by the robustness suite (photos with
shadows, pencil, boxes and ruled lines, thin and thick canvas pens, enlarged 8×8 scans) and what
v2 made of them; ``golden/preprocess_v3.npz`` those plus 12 enlarged scans (8×8 mosaics at 28,
64 and 112 px by every filter, USPS digits ×4) and what v3 made of them; ``golden/preprocess_v4.npz``
those plus 11 thumbnails (8×8 scans at their size, USPS digits reduced to 8×8 and enlarged ×4 and
×8 by every filter and ×2 by nearest neighbour) and what v4 made of them. Rewriting a stage for
speed is only allowed if these outputs survive; anything else must be a new version (and a
retrained model).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inkdigit.engine import native
from inkdigit.engine.preprocess import VERSIONS, PreprocessConfig, preprocess

GOLDEN = Path(__file__).parent / "golden"


def _cases() -> list[tuple[str, str, bytes | np.ndarray, np.ndarray]]:
    cases = []
    for version in VERSIONS:
        with np.load(GOLDEN / f"preprocess_v{version}.npz") as z:
            for key in z.files:
                if not key.startswith("in/"):
                    continue
                _, kind, name = key.split("/", 2)
                value = z[key]
                cases.append((version, name, value.tobytes() if kind == "png" else value, z[f"out/{name}"]))
    return cases


CASES = _cases()


@pytest.mark.parametrize("version", VERSIONS)
def test_each_fixture_covers_every_kind_of_input(version: str) -> None:
    names = [name for v, name, _, _ in CASES if v == version]
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


@pytest.mark.parametrize("version,name,source,expected", CASES, ids=[f"v{c[0]}-{c[1]}" for c in CASES])
def test_output_matches_its_version(version: str, name: str, source: bytes | np.ndarray, expected: np.ndarray,
                                    kernels: str) -> None:
    pre = preprocess(source, PreprocessConfig(version=version))
    if expected.shape == (1,):  # stored as "empty"
        assert pre.is_empty
        return
    assert not pre.is_empty
    np.testing.assert_allclose(pre.image, expected, atol=2e-5, rtol=0)
