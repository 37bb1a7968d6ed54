"""The recognizer store: list, find, load and install, first directory winning."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inkdigit.engine.modelcard import ModelCard, ModelCardError
from inkdigit.engine.store import RecognizerStore, shipped_dir


def _copy_shipped(to: Path, name: str = "cnn-v1", rename: str | None = None) -> Path:
    to.mkdir(parents=True, exist_ok=True)
    card = ModelCard.load(shipped_dir() / f"{name}.json")
    new = rename or name
    card.name, card.weights = new, f"{new}.onnx"
    shutil.copyfile(shipped_dir() / f"{name}.onnx", to / f"{new}.onnx")
    card.save(to / f"{new}.json")
    return to / f"{new}.json"


def test_the_standard_store_searches_extra_then_home_then_shipped(tmp_path: Path) -> None:
    extra, home = tmp_path / "extra", tmp_path / "home"
    _copy_shipped(extra, rename="mine")
    (extra / "metrics.json").write_text('{"accuracy": 1}')  # a run directory's other JSON is no card
    store = RecognizerStore.standard(home, extra)
    assert store.dirs == [extra, home / "models", shipped_dir()]
    assert store.list() == {"cnn-v1": shipped_dir() / "cnn-v1.json", "cnn-v2": shipped_dir() / "cnn-v2.json",
                            "cnn-v3": shipped_dir() / "cnn-v3.json", "cnn-v4": shipped_dir() / "cnn-v4.json",
                            "cnn-v5": shipped_dir() / "cnn-v5.json", "cnn-v6": shipped_dir() / "cnn-v6.json",
                            "cnn-v12": shipped_dir() / "cnn-v12.json",
                            "cnn-v15": shipped_dir() / "cnn-v15.json", "cnn-v17": shipped_dir() / "cnn-v17.json",
                            "mine": extra / "mine.json"}
    _copy_shipped(extra)  # the same name earlier in the order wins
    assert store.find("cnn-v1") == extra / "cnn-v1.json"
    assert store.find(str(extra / "mine.json")) == extra / "mine.json"  # a card path works as a name
    assert store.load("mine").name == "mine"


def test_an_unknown_name_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ModelCardError, match="No model named 'nope' in .*home"):
        RecognizerStore.standard(tmp_path / "home").find("nope")


def test_install_copies_card_and_weights_and_the_store_then_finds_it(tmp_path: Path) -> None:
    card = _copy_shipped(tmp_path / "run", rename="svm-v1")
    store = RecognizerStore.standard(tmp_path / "home")
    installed = store.install(card)
    assert installed == tmp_path / "home" / "models" / "svm-v1.json"
    assert (installed.parent / "svm-v1.onnx").read_bytes() == (shipped_dir() / "cnn-v1.onnx").read_bytes()
    assert store.find("svm-v1") == installed


def test_install_refuses_a_card_without_its_weights(tmp_path: Path) -> None:
    card = _copy_shipped(tmp_path / "run", rename="half")
    (tmp_path / "run" / "half.onnx").unlink()
    with pytest.raises(ModelCardError, match="half.onnx"):
        RecognizerStore.standard(tmp_path / "home").install(card)
    assert not (tmp_path / "home" / "models" / "half.json").exists()


def test_load_all_reports_a_broken_recognizer_and_loads_the_rest(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    _copy_shipped(extra, rename="broken")
    (extra / "broken.onnx").write_bytes(b"not onnx")
    loaded = RecognizerStore.standard(tmp_path / "home", extra).load_all(threads=1)
    assert set(loaded.recognizers) == {"cnn-v1", "cnn-v2", "cnn-v3", "cnn-v4", "cnn-v5", "cnn-v6", "cnn-v12", "cnn-v15",
                                       "cnn-v17"}
    assert set(loaded.failures) == {"broken"} and "Cannot load weights" in loaded.failures["broken"]


def test_install_never_replaces_weights_another_installed_card_uses(tmp_path: Path) -> None:
    """A card may name another model's weights (the shipped cnn-v17 names cnn-v15.onnx): installing
    different weights under that file name would change the other model behind its back."""
    import json

    home = tmp_path / "home"
    store = RecognizerStore.standard(home, None)
    theirs, mine = tmp_path / "theirs", tmp_path / "mine"
    for folder, source in ((theirs, "cnn-v1"), (mine, "cnn-v2")):
        folder.mkdir()
        card = json.loads((shipped_dir() / f"{source}.json").read_text(encoding="utf-8"))
        card["weights"] = "net.onnx"
        card["name"] = "theirs" if folder == theirs else "mine"
        (folder / f"{card['name']}.json").write_text(json.dumps(card), encoding="utf-8")
        shutil.copyfile(shipped_dir() / f"{source}.onnx", folder / "net.onnx")
    store.install(theirs / "theirs.json")
    with pytest.raises(ModelCardError, match="belongs to theirs"):
        store.install(mine / "mine.json")
    assert (home / "models" / "net.onnx").read_bytes() == (shipped_dir() / "cnn-v1.onnx").read_bytes()
    store.install(theirs / "theirs.json")  # the same bytes again: fine
    shutil.copyfile(shipped_dir() / "cnn-v2.onnx", theirs / "net.onnx")
    store.install(theirs / "theirs.json")  # its own new weights: an update, fine
