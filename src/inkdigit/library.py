"""The library's front door: the recognizer the environment names, loaded once per process.

>>> import inkdigit
>>> rec = inkdigit.load_recognizer()          # INKDIGIT_DEFAULT_MODEL, else the shipped CNN
>>> rec.predict("seven.png").digit
7
"""

from __future__ import annotations

from inkdigit import paths
from inkdigit.engine.recognizer import Recognizer

_loaded: dict[str, Recognizer] = {}


def load_recognizer(name: str | None = None) -> Recognizer:
    """Recognizer ``name`` (or a card path; default: the environment's default model) from the
    standard store, loaded once per process: an ONNX Runtime session costs milliseconds to make."""
    key = name or paths.default_model()
    if key not in _loaded:
        _loaded[key] = paths.store().load(key)
    return _loaded[key]
