"""Fine-tuned-looking models for the tests of the live model: the smallest shipped model (cnn-v1)
copied under a new name, its card given a ``training.finetune`` section."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from inkdigit.engine.store import shipped_dir
from tests.conftest import png_bytes


def install_card(models: Path, name: str, *, passed: bool | None = True, owner: str | None = None,
                 parent: str = "cnn-v1") -> Path:
    """Install ``name`` into ``models`` (``$INKDIGIT_HOME/models``); ``passed=None``: no finetune section."""
    raw = json.loads((shipped_dir() / "cnn-v1.json").read_text())
    raw["name"], raw["weights"] = name, f"{name}.onnx"
    if passed is not None:
        raw["training"]["finetune"] = {
            "parent": parent, "corrections": {"used": 120, "users": 3},
            "gate": {"passed": passed, "rows": [{"measure": "corrections", "before": 0.6, "after": 0.8, "n": 40,
                                                 "ok": True},
                                                {"measure": "mnist_test", "before": 0.99,
                                                 "after": 0.99 if passed else 0.90, "n": 1000, "ok": passed}],
                     "reasons": [] if passed else ["mnist_test accuracy fell by 9 points"]},
            **({"owner": owner} if owner else {})}
    models.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shipped_dir() / "cnn-v1.onnx", models / f"{name}.onnx")
    card = models / f"{name}.json"
    card.write_text(json.dumps(raw))
    return card


def a_digit() -> bytes:
    """A PNG of a pen-drawn "1": any image will do, the tests look at which model answered."""
    canvas = np.full((120, 120), 255, np.uint8)
    canvas[20:100, 55:66] = 0
    return png_bytes(canvas)
