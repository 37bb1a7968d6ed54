"""kNN and SVM train without PyTorch: nothing on their path imports it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("skl2onnx")

CODE = """
import sys
from inkdigit.training.train import TrainConfig, train
card = train(TrainConfig(name="{family}-t", out_dir={out!r}, family="{family}", limit=600, eval_limit=100,
                         params={params}, data_dir={data!r}))
loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
assert not loaded, f"training {family} imported {{loaded[:3]}}"
print(card.metrics["mnist_test"]["accuracy"])
"""


@pytest.mark.parametrize(("family", "params"), [("svm", {}), ("knn", {"k": 3})])
def test_a_scikit_learn_family_trains_without_importing_pytorch(
        family: str, params: dict[str, int], tmp_path: Path, data_dir: Path) -> None:
    code = CODE.format(family=family, out=str(tmp_path / family), params=params, data=str(data_dir))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "INKDIGIT_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr[-3000:]
    assert 0.5 < float(r.stdout.strip().splitlines()[-1]) <= 1.0
