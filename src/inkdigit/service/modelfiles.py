"""What a browser needs to read drawings itself: a model's ONNX file and card, with validators.

The page runs the default model in ONNX Runtime Web (issue 17), so the server hands out the very
file it serves with and the card that says how to use it (preprocessing version, calibration,
rejection rule). Both are cached by browsers and the page's service worker, so each answer carries
a strong ``ETag``, the SHA-256 of the bytes, and a conditional request with a matching
``If-None-Match`` gets ``304``. The hash is computed once per version of the file (its path, size
and modification time), not per request.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from inkdigit.engine.recognizer import Recognizer

# a model the browser is offered: a network exported from PyTorch (standard ONNX operators only,
# which every ONNX Runtime Web build runs) and small enough to download on a phone; kNN and SVM
# models hold their training data or support vectors (tens of MB) and use the ai.onnx.ml operators
BROWSER_FAMILIES = frozenset({"cnn", "mlp"})
BROWSER_MAX_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ModelFile:
    path: Path
    size: int
    etag: str  # quoted, as the header carries it


_lock = threading.Lock()
_known: dict[tuple[str, int, int], ModelFile] = {}


def model_file(path: Path) -> ModelFile:
    """``path``'s size and ETag, hashed again only when the file changed. Raises ``OSError``."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _lock:
        found = _known.get(key)
    if found is not None:
        return found
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    found = ModelFile(path, st.st_size, f'"{digest.hexdigest()}"')
    with _lock:
        for old in [k for k in _known if k[0] == key[0]]:  # one entry per path: the current version
            del _known[old]
        _known[key] = found
    return found


def browser_capable(recognizer: Recognizer) -> bool:
    """Whether a browser can run ``recognizer``'s ONNX file (see BROWSER_FAMILIES)."""
    try:
        size = recognizer.weights.stat().st_size
    except OSError:
        return False
    return recognizer.card.family in BROWSER_FAMILIES and size <= BROWSER_MAX_BYTES


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether a request's ``If-None-Match`` names ``etag`` (or ``*``): then it gets 304."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags
