"""A model as files that travel: what a cluster worker needs to load the recognizer a run names.

The client reads the card and its ONNX weights once (:meth:`ModelFiles.read`); a worker writes
them into a folder of its own, named by their digest, and loads the recognizer once per process
(:func:`load_files`). Tasks then name the model by that digest alone (:func:`loaded`), so the
weights cross the network once per worker, not once per chunk, and two runs with different
models on one cluster never mix them up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inkdigit.engine.modelcard import ModelCard

if TYPE_CHECKING:
    from inkdigit.engine.recognizer import Recognizer

#: recognizers this process has loaded from shipped files, by digest
_LOADED: dict[str, Recognizer] = {}


@dataclass(frozen=True)
class ModelFiles:
    """A model card and its weights, as bytes, with the digest of both."""

    name: str
    card_file: str
    weights_file: str
    card: bytes
    weights: bytes
    digest: str

    @classmethod
    def read(cls, card_path: Path) -> ModelFiles:
        """The files of the model whose card is ``card_path`` (checked: the card must load)."""
        card = ModelCard.load(card_path)
        card_bytes = card_path.read_bytes()
        weights = (card_path.parent / card.weights_file).read_bytes()
        digest = hashlib.sha256(card_bytes + b"\0" + weights).hexdigest()
        return cls(card.name, card_path.name, card.weights_file, card_bytes, weights, digest)

    def write(self, folder: Path) -> Path:
        """Write the card and weights into ``folder/DIGEST/`` (once; a later call finds them) and
        give the card's path."""
        target = folder / self.digest
        card = target / self.card_file
        if card.exists():
            return card
        target.mkdir(parents=True, exist_ok=True)
        for name, data in ((self.weights_file, self.weights), (self.card_file, self.card)):
            partial = target / f".{name}.partial"
            partial.write_bytes(data)
            partial.replace(target / name)  # the card last: when it exists, so do its weights
        return card


def load_files(files: ModelFiles, folder: Path, threads: int | None = None) -> Recognizer:
    """The recognizer ``files`` hold, written under ``folder`` and loaded once per process."""
    from inkdigit.engine.recognizer import Recognizer

    if files.digest not in _LOADED:
        _LOADED[files.digest] = Recognizer(files.write(folder), threads)
    return _LOADED[files.digest]


def loaded(digest: str) -> Recognizer:
    """The recognizer :func:`load_files` loaded in this process for ``digest``."""
    try:
        return _LOADED[digest]
    except KeyError:
        raise RuntimeError(f"model {digest[:12]} was not loaded in this process (its worker plugin did "
                           "not run here)") from None
