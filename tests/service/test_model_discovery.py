"""A model installed while the server runs is listed and usable without a restart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from inkdigit.engine.store import shipped_dir
from tests.service.conftest import in_process


def install_copy(target: Path, name: str, source: str = "cnn-v1") -> None:
    """Copy a shipped model into ``target`` under a new ``name`` (its card renamed to match)."""
    card = json.loads((shipped_dir() / f"{source}.json").read_text(encoding="utf-8"))
    shutil.copyfile(shipped_dir() / card["weights"], target / f"{name}.onnx")
    card["name"], card["weights"] = name, f"{name}.onnx"
    (target / f"{name}.json").write_text(json.dumps(card), encoding="utf-8")


def test_a_model_installed_after_start_up_is_listed_and_usable(tmp_path: Path, digit_images: dict) -> None:
    extra = tmp_path / "models"
    extra.mkdir()
    with in_process({"INKDIGIT_MODEL_DIR": str(extra)}) as client:
        before = {m["name"] for m in client.get("/api/v1/models").json()["models"]}
        assert "cnn-late" not in before
        install_copy(extra, "cnn-late")
        (extra / "broken.json").write_text('{"family": "cnn", "weights": "cnn-late.onnx"}', encoding="utf-8")
        models = {m["name"]: m for m in client.get("/api/v1/models").json()["models"]}
        assert set(models) == before | {"cnn-late"}  # the broken card is skipped, never fatal
        assert models["cnn-late"]["family"] == "cnn" and models["cnn-late"]["default"] is False
        png, label = digit_images["png"]
        r = client.post("/api/v1/predict?model=cnn-late", content=png, headers={"content-type": "image/png"})
        assert r.status_code == 200, r.text
        assert r.json()["model"] == "cnn-late" and r.json()["digit"] == label
        again = {m["name"] for m in client.get("/api/v1/models").json()["models"]}
        assert again == set(models)  # nothing new: the list is stable


def test_a_model_whose_weights_are_repaired_is_loaded(tmp_path: Path) -> None:
    """The card unchanged, its broken weights replaced: the change is seen (the card's time alone
    was watched before, so a repaired model never appeared)."""
    import os
    import time

    extra = tmp_path / "models"
    extra.mkdir()
    install_copy(extra, "mended")
    (extra / "mended.onnx").write_bytes(b"not an onnx graph")
    with in_process({"INKDIGIT_MODEL_DIR": str(extra)}) as client:
        assert "mended" not in {m["name"] for m in client.get("/api/v1/models").json()["models"]}
        card_time = (extra / "mended.json").stat().st_mtime
        shutil.copyfile(shipped_dir() / "cnn-v1.onnx", extra / "mended.onnx")
        later = time.time() + 2
        os.utime(extra / "mended.onnx", (later, later))  # a different time, even on a coarse clock
        assert (extra / "mended.json").stat().st_mtime == card_time
        assert "mended" in {m["name"] for m in client.get("/api/v1/models").json()["models"]}


def test_repaired_weights_are_seen_under_a_card_that_names_another_file(tmp_path: Path) -> None:
    """A card may name weights that are not ``NAME.onnx`` (the default cnn-v17 names cnn-v15's):
    the file it names is the one watched."""
    import os
    import time

    extra = tmp_path / "models"
    extra.mkdir()
    install_copy(extra, "shared-net")
    card = json.loads((extra / "shared-net.json").read_text(encoding="utf-8"))
    card["name"], card["weights"] = "served-apart", "shared-net.onnx"
    (extra / "served-apart.json").write_text(json.dumps(card), encoding="utf-8")
    (extra / "shared-net.json").unlink()
    (extra / "shared-net.onnx").write_bytes(b"not an onnx graph")
    with in_process({"INKDIGIT_MODEL_DIR": str(extra)}) as client:
        assert "served-apart" not in {m["name"] for m in client.get("/api/v1/models").json()["models"]}
        shutil.copyfile(shipped_dir() / "cnn-v1.onnx", extra / "shared-net.onnx")
        later = time.time() + 2
        os.utime(extra / "shared-net.onnx", (later, later))
        assert "served-apart" in {m["name"] for m in client.get("/api/v1/models").json()["models"]}
