"""Where recognizers live: one API to list, find, load and install them.

A recognizer on disk is a model card ``NAME.json`` with its weights beside it. A store searches an
ordered list of directories, the first holding a name winning, and installs into one of them. The
standard order is an optional extra directory, the user's own models under the app's home, then the
models shipped inside the package; which directories those are is decided at the edges (the CLI,
the service's settings, :mod:`inkdigit.paths`) and handed in, so the engine reads no environment.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from inkdigit.engine.modelcard import ModelCard, ModelCardError
from inkdigit.engine.recognizer import Recognizer

log = logging.getLogger("inkdigit.engine")


def shipped_dir() -> Path:
    """The recognizers that come inside the package."""
    return Path(str(resources.files("inkdigit") / "models"))


@dataclass
class Loaded:
    """Every recognizer a store could load, and why each of the others could not be."""

    recognizers: dict[str, Recognizer] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


class RecognizerStore:
    """Recognizers found in ``dirs`` (first match wins); new ones are installed into ``install_dir``."""

    def __init__(self, dirs: Sequence[Path], install_dir: Path | None = None) -> None:
        self.dirs = [Path(d) for d in dirs]
        self.install_dir = install_dir

    @classmethod
    def standard(cls, home: Path, extra: Path | None = None) -> RecognizerStore:
        """``extra`` (if any), then ``home/models`` (where ``install`` copies to), then the shipped ones."""
        user = Path(home) / "models"
        return cls([*([Path(extra)] if extra else []), user, shipped_dir()], install_dir=user)

    def list(self) -> dict[str, Path]:
        """Every recognizer's card path by name, in name order."""
        found: dict[str, Path] = {}
        for d in self.dirs:
            if d.is_dir():
                for card in sorted(d.glob("*.json")):
                    if card.stem not in found and _is_card(card):
                        found[card.stem] = card
        return dict(sorted(found.items()))

    def find(self, name: str) -> Path:
        """The card of recognizer ``name``, or of the card file ``name`` points at."""
        candidate = Path(name)
        if candidate.suffix == ".json" and candidate.exists():
            return candidate
        found = self.list()
        if name in found:
            return found[name]
        raise ModelCardError(f"No model named {name!r} in {', '.join(str(d) for d in self.dirs)}.")

    def load(self, name: str, threads: int | None = None) -> Recognizer:
        """Recognizer ``name`` (or a card path), with its own ONNX Runtime session."""
        return Recognizer(self.find(name), threads)

    def load_all(self, threads: int | None = None) -> Loaded:
        """Every recognizer in the store; a broken one is logged and reported, never fatal."""
        loaded = Loaded()
        for name, card in self.list().items():
            try:
                loaded.recognizers[name] = Recognizer(card, threads)
            except (ModelCardError, OSError, ValueError) as exc:
                loaded.failures[name] = str(exc)
                log.error("model %s not loaded: %s", name, exc)
        return loaded

    def install(self, card_path: Path) -> Path:
        """Copy a recognizer (card and weights) into ``install_dir``; returns the installed card.
        The card is checked first, so nothing half-usable is installed."""
        if self.install_dir is None:
            raise ModelCardError("This store has no directory to install into.")
        card = ModelCard.load(card_path)
        weights = Path(card_path).parent / card.weights_file
        if not weights.exists():
            raise ModelCardError(f"{card_path} names weights {weights.name}, which are not beside it.")
        if Path(card_path).resolve().parent == self.install_dir.resolve():
            return Path(card_path)  # already installed
        self.install_dir.mkdir(parents=True, exist_ok=True)
        target_weights = self.install_dir / weights.name
        if target_weights.exists() and target_weights.read_bytes() != weights.read_bytes():
            # a card may name another model's weights (cnn-v17 names cnn-v15.onnx): new weights
            # under a name another installed card uses would change that model behind its back
            users = [c.stem for c in sorted(self.install_dir.glob("*.json"))
                     if c.stem != card.name and weights_path(c) == target_weights]
            if users:
                raise ModelCardError(f"{weights.name} in {self.install_dir} belongs to {', '.join(users)} and "
                                     f"differs from {card.name}'s; rename the weights (and the card's "
                                     "\"weights\") before installing.")
        shutil.copyfile(weights, target_weights)
        target = self.install_dir / f"{card.name}.json"
        shutil.copyfile(card_path, target)
        return target


def weights_path(card_path: Path) -> Path | None:
    """The weights file a card names (``weights``, else ``NAME.onnx``) beside it, read without
    checking the rest of the card; None when the file is not a card (no family) or unreadable.
    A card may name another card's weights: cnn-v17 is cnn-v15's network, served differently."""
    try:
        raw = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or "family" not in raw:
        return None
    return card_path.parent / str(raw.get("weights") or f"{raw.get('name', card_path.stem)}.onnx")


def _is_card(path: Path) -> bool:
    """A JSON file is a model card only if it names a family and its weights lie beside it
    (a run directory also holds metrics.json and the like)."""
    weights = weights_path(path)
    return weights is not None and weights.exists()
