"""``inkdigit compare`` on a tiny subset: every family, every section and plot of the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("torch")
pytest.importorskip("skl2onnx")

from inkdigit.training.compare import CompareConfig, compare

TINY = {"mlp": {"hidden": [32], "epochs": 1}, "cnn": {"width": 4, "hidden": 16, "epochs": 1},
        "knn": {"k_grid": [1, 3], "cv_limit": 300}}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("compare")
    data = compare(CompareConfig(out=str(root / "report"), work_dir=str(root / "work"), params=TINY,
                                 limit=400, eval_limit=150, latency_images=10, robustness_limit=10,
                                 data_dir=str(data_dir),
                                 command="inkdigit compare --limit 400"))
    return root, data


def test_every_family_and_baseline_is_trained_and_measured(report: tuple[Path, dict]) -> None:
    root, data = report
    assert list(data["models"]) == ["knn", "svm", "mlp", "cnn", "knn-raw", "svm-raw"]
    for key, r in data["models"].items():
        m = r["metrics"]["mnist_test"]
        assert m["n"] == 150 and r["metrics"]["usps_test"]["n"] == 150
        assert 0.0 <= m["accuracy"] <= 1.0
        assert {"precision", "recall", "specificity", "f1"} <= set(m["per_class"]["3"])
        assert r["latency"]["single_ms"] > 0 and r["latency"]["batched_ms"] > 0
        assert r["size_bytes"] == (root / "work" / key / f"{key}-v1.onnx").stat().st_size
        assert r["training"]["train_seconds"] >= 0
        assert {figures["n"] for figures in r["robustness"].values()} == {10}
        assert {name.split("/")[0] for name in r["robustness"]} == {"clean", "scale", "canvas", "photo", "scan"}
    assert set(map(int, data["models"]["knn"]["architecture"]["cv_curve"])) == {1, 3}
    assert data["small_digits"]["test"]["accuracy"] > 0.95
    assert data["total_seconds"] > 0


def test_report_has_every_section_and_plot(report: tuple[Path, dict]) -> None:
    root, data = report
    out = root / "report"
    md = (out / "report.md").read_text()
    for heading in ("## Summary", "## What PCA features cost", "## kNN: choosing k by cross-validation",
                    "## The classic small pipeline", "## Robustness: test digits as real input arrives",
                    "## Each model", "### knn", "### svm", "### mlp",
                    "### cnn", "## Reproduce"):
        assert heading in md
    assert "recall (sensitivity)" in md and "specificity" in md
    assert "inkdigit compare --limit 400" in md
    plots = ["accuracy", "latency", "cost", "per_class_f1", "knn_k_curve", "robustness",
             *(f"confusion_{k}" for k in data["models"])]
    for name in plots:
        assert f"]({name}.png)" in md
        with Image.open(out / f"{name}.png") as img:
            assert img.format == "PNG" and img.width > 200
    html = (out / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "<table>" in html and 'src="accuracy.png"' in html
    assert json.loads((out / "results.json").read_text())["models"].keys() == data["models"].keys()


def test_families_can_be_chosen_and_baselines_skipped(tmp_path: Path, data_dir: Path) -> None:
    data = compare(CompareConfig(out=str(tmp_path / "r"), work_dir=str(tmp_path / "w"), families=("svm",),
                                 raw_baselines=False, limit=300, eval_limit=100, latency_images=5,
                                 robustness_limit=0, data_dir=str(data_dir)))
    assert list(data["models"]) == ["svm"]
    md = (tmp_path / "r" / "report.md").read_text()
    assert "### svm" in md and "### knn" not in md and "What PCA features cost" not in md
    assert (tmp_path / "r" / "knn_k_curve.png").exists()  # the 8×8 curve is always there
