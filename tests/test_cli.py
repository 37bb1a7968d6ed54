"""The installed ``inkdigit`` command, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from inkdigit.engine.defaults import DEFAULT_MODEL
from tests.conftest import render

BIN = Path(sys.executable).with_name("inkdigit")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_train_dry_run_on_a_small_subset(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run("train", "--dry-run", "--limit", "256", "--eval-limit", "200", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert (out / "cnn-v1-dry-run.onnx").exists() and "MNIST test accuracy" in res.stdout


def test_evaluate_json_last_line(tmp_path: Path) -> None:
    res = run("evaluate", "--dataset", "usps", "--limit", "300", "--json")
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout.strip().splitlines()[-1])
    assert result["model"] == DEFAULT_MODEL and result["dataset"] == "usps" and result["n"] == 300
    assert result["accuracy"] > 0.9 and len(result["per_class"]) == 10


def test_predict_pngs_and_a_bad_file(tmp_path: Path, mnist_test) -> None:
    paths = []
    for i in range(3):
        p = tmp_path / f"d{i}.png"
        Image.fromarray(render(mnist_test.images[i]).astype(np.uint8)).save(p)
        paths.append(str(p))
    res = run("predict", "--json", *paths)
    assert res.returncode == 0, res.stderr
    digits = [json.loads(line)["digit"] for line in res.stdout.splitlines()]
    assert digits == mnist_test.labels[:3].tolist()
    bad = tmp_path / "notes.png"
    bad.write_text("not really a png")
    res = run("predict", str(bad))
    assert res.returncode == 1 and "not an image" in res.stderr


def test_read_numbers_as_text_and_json_and_a_bad_file(tmp_path: Path, mnist_test) -> None:
    from tests.service.test_recognize import _number

    number = tmp_path / "n.png"
    number.write_bytes(_number(mnist_test, "4217"))
    blank = tmp_path / "blank.png"
    Image.new("L", (600, 150), 255).save(blank)
    res = run("read", "--json", str(number), str(blank))
    assert res.returncode == 0, res.stderr
    first, second = (json.loads(line) for line in res.stdout.splitlines())
    assert first["text"] == "4217" and len(first["digits"]) == 4 and len(first["digits"][0]["box"]) == 4
    assert second["is_empty"] and second["text"] == ""
    res = run("read", str(number))
    assert res.returncode == 0 and "4217" in res.stdout and "confidence" in res.stdout
    bad = tmp_path / "notes.png"
    bad.write_text("not really a png")
    res = run("read", str(number), str(bad))
    assert res.returncode == 1 and "not an image" in res.stderr and "4217" in res.stdout


def test_missing_data_without_network_is_one_clear_sentence(tmp_path: Path) -> None:
    res = run("evaluate", "--data-dir", str(tmp_path / "nothing"), "--limit", "10",
              env={"INKDIGIT_DATA_MIRRORS": "http://127.0.0.1:9"})
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and "could not be downloaded" in res.stderr


def test_train_another_family_and_install_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    res = run("train", "--family", "svm", "--limit", "500", "--eval-limit", "100", "--out", str(tmp_path / "svm"),
              "-p", "C=10", "--install", env={"INKDIGIT_HOME": str(home)})
    assert res.returncode == 0, res.stderr
    card = json.loads((home / "models" / "svm-v1.json").read_text())
    assert card["family"] == "svm" and card["architecture"]["params"]["C"] == 10
    assert (home / "models" / "svm-v1.onnx").exists()
    res = run("predict", "--model", "svm-v1", "--json", str(Path(__file__).parents[1] / "examples" / "seven.png"),
              env={"INKDIGIT_HOME": str(home)})
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1])["digit"] is not None


def test_train_rejects_options_that_do_not_fit_the_family(tmp_path: Path) -> None:
    res = run("train", "--family", "knn", "--epochs", "3", "--out", str(tmp_path / "x"))
    assert res.returncode == 1 and "only apply to mlp and cnn" in res.stderr
    res = run("train", "--family", "knn", "-p", "colour=red", "--limit", "300", "--out", str(tmp_path / "y"))
    assert res.returncode == 1 and "colour" in res.stderr
    res = run("train", "--usps-rendered", "0.4", "--rendered", "100", "--out", str(tmp_path / "z"))
    assert res.returncode == 1 and "--usps-rendered needs --usps and --rendered" in res.stderr
    res = run("train", "--usps-copies", "2", "--out", str(tmp_path / "c"))
    assert res.returncode == 1 and "--usps-copies needs --usps" in res.stderr
    res = run("train", "--preprocessing", "9", "--out", str(tmp_path / "p"))
    assert res.returncode == 1 and "preprocessing v9 does not exist" in res.stderr


def test_compare_writes_a_report(tmp_path: Path) -> None:
    res = run("compare", "-f", "svm", "-f", "knn", "--skip", "knn", "--no-raw-baselines", "--limit", "300",
              "--eval-limit", "100", "--robustness-limit", "5", "--out", str(tmp_path / "report"),
              "--work-dir", str(tmp_path / "work"))
    assert res.returncode == 0, res.stderr
    md = (tmp_path / "report" / "report.md").read_text()
    assert "### svm" in md and "### knn" not in md and "8×8" in md
    assert (tmp_path / "report" / "report.html").exists() and (tmp_path / "work" / "svm" / "svm-v1.onnx").exists()
