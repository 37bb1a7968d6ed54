"""What a new user runs into with the command line (issue 14, items 9-13), each run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkdigit.service.errors import ERROR_CODES, error_codes_markdown
from tests.conftest import ROOT, render
from tests.test_cli import BIN, run


@pytest.fixture
def digits(tmp_path: Path, mnist_test) -> Path:
    """A folder with two digit PNGs, a text file, and a sub-folder with one more digit."""
    images = mnist_test.images
    folder = tmp_path / "scans"
    (folder / "more").mkdir(parents=True)
    for name, i in (("a.png", 0), ("b.PNG", 1)):
        Image.fromarray(render(images[i]).astype(np.uint8)).save(folder / name)
    Image.fromarray(render(images[2]).astype(np.uint8)).save(folder / "more" / "c.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_predict_a_folder_reads_the_images_in_it(digits: Path) -> None:
    res = run("predict", str(digits), "--json")
    assert res.returncode == 0, res.stderr
    files = [json.loads(line)["file"] for line in res.stdout.splitlines()]
    assert [Path(f).name for f in files] == ["a.png", "b.PNG"]  # sorted; not the text file, not the sub-folder
    res = run("predict", "-r", str(digits), "--json")
    assert [Path(json.loads(line)["file"]).name for line in res.stdout.splitlines()] == ["a.png", "b.PNG", "c.png"]
    res = run("read", "--recursive", str(digits))
    assert res.returncode == 0 and res.stdout.count("confidence") == 3, res.stdout


def test_a_folder_without_images_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    res = run("predict", str(tmp_path / "empty"))
    assert res.returncode == 1
    assert "a folder with no images" in " ".join(res.stderr.split()) and "Traceback" not in res.stderr + res.stdout


def test_predict_json_has_top_and_is_empty(digits: Path) -> None:
    res = run("predict", str(digits / "a.png"), "--json", "--top", "4")
    result = json.loads(res.stdout)
    assert result["is_empty"] is False and len(result["top"]) == 4
    assert result["top"][0]["digit"] == result["digit"]
    blank = digits / "blank.png"
    Image.new("L", (100, 100), 255).save(blank)
    result = json.loads(run("predict", str(blank), "--json", "--top", "2").stdout)
    assert result["is_empty"] is True and result["digit"] is None


def test_version() -> None:
    from importlib.metadata import version

    res = run("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"inkdigit {version('inkdigit')}"


@pytest.mark.parametrize("command", ["predict", "read", "train", "evaluate", "robustness", "serve", "compare"])
def test_help_names_types_as_people_know_them(command: str) -> None:
    out = run(command, "--help", env={"COLUMNS": "200"}).stdout
    assert not re.search(r"<(bool|str|int|float|Path|list\[|int range|float range)", out), out
    assert "--help" in out


def test_serve_on_a_busy_port_is_one_line_and_exit_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run("serve", "--port", str(port))
    assert res.returncode == 1, (res.returncode, res.stderr[-500:])
    assert f"cannot listen on 127.0.0.1:{port}" in res.stderr
    assert "terminate called" not in res.stderr and "Traceback" not in res.stderr


def test_a_missing_train_extra_says_what_to_install(tmp_path: Path) -> None:
    """Rich took ``[train]`` for markup and printed ``pip install 'inkdigit'``."""
    fake = tmp_path / "fake" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n")
    res = run("train", "--dry-run", env={"PYTHONPATH": str(fake.parent)})
    assert res.returncode == 1
    message = " ".join(res.stderr.split())
    assert "'inkdigit[train]'" in message and "download.pytorch.org/whl/cpu" in message, res.stderr


def test_a_dry_run_is_never_named_like_the_real_model(tmp_path: Path) -> None:
    res = subprocess_in(tmp_path, "train", "--dry-run", "--limit", "256", "--eval-limit", "200")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "runs" / "cnn-v1-dry-run" / "cnn-v1-dry-run.json").exists()
    assert not (tmp_path / "runs" / "cnn-v1").exists()
    card = json.loads((tmp_path / "runs" / "cnn-v1-dry-run" / "cnn-v1-dry-run.json").read_text())
    assert card["name"] == "cnn-v1-dry-run"
    res = subprocess_in(tmp_path, "train", "--dry-run", "--install", "--limit", "256")
    assert res.returncode == 1 and "not installed" in res.stderr


def test_compare_never_overwrites_the_committed_report_by_default() -> None:
    out = run("compare", "--help", env={"COLUMNS": "200"}).stdout
    assert "runs/compare/report" in out and "[default: docs/comparison]" not in out


def subprocess_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command run from ``cwd`` (its default paths are relative)."""
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ})


def test_the_readme_lists_every_error_code() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- error-codes:start -->\n", 1)[1].split("\n<!-- error-codes:end -->", 1)[0]
    assert block == error_codes_markdown(), "run: python -m inkdigit.service.errors, paste into the README"


def test_every_code_the_source_answers_with_is_listed() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "inkdigit").rglob("*.py"))
    raised = set(re.findall(r"(?:APIError|error_response|_refuse_head|_answer)\(\s*\d{3},\s*\"([a-z_]+)\"", source))
    raised |= set(re.findall(r"^\s+code = \"([a-z_]+)\"", source, flags=re.MULTILINE))
    raised |= set(re.findall(r"\d{3}: \"([a-z_]+)\"", source))
    assert len(raised) > 20
    assert raised <= set(ERROR_CODES), sorted(raised - set(ERROR_CODES))


def test_the_readme_says_evaluate_needs_no_train_extra() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "download.pytorch.org/whl/cpu" in readme
    row = next(line for line in readme.splitlines() if line.startswith("| `inkdigit evaluate"))
    assert "train" not in row.split("|")[2].lower() or "no train extra" in row.lower(), row

