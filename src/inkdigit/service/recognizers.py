"""The recognizers this process serves: loaded in the background at start-up, and any model
installed later (a new card in one of the store's directories) picked up by :meth:`Recognizers.refresh`,
which ``GET /api/v1/models`` calls, so a model appears without restarting the server.

Loading off the event loop lets ``/healthz`` answer at once while ``/readyz`` says 503 until the
default recognizer is ready, which is what orchestrators expect of a slow start. Finding and
loading belong to the engine's :class:`~inkdigit.engine.store.RecognizerStore`; this holder adds
only readiness and the HTTP errors a request gets when there is nothing to read with.
"""

from __future__ import annotations

import logging
import threading
import time

from inkdigit.engine.modelcard import ModelCardError, owner_of
from inkdigit.engine.recognizer import Recognizer
from inkdigit.engine.store import RecognizerStore, weights_path
from inkdigit.service.errors import APIError

log = logging.getLogger("inkdigit.service")


class Recognizers:
    """Every recognizer in ``store``, each with ``threads`` ONNX Runtime threads; ``default`` answers
    requests that name none."""

    def __init__(self, store: RecognizerStore, default: str, threads: int = 1, load_delay_s: float = 0.0) -> None:
        self.store = store
        self.default = default
        self.threads = threads
        self.load_delay_s = load_delay_s
        self.loaded: dict[str, Recognizer] = {}
        self.failures: dict[str, str] = {}
        self._done = threading.Event()
        self._refresh_lock = threading.Lock()
        self._seen: dict[str, tuple[str, float, float]] = {}  # name -> (card path, mtime) already tried

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self.default in self.loaded

    def load(self) -> None:
        """Load every recognizer in the store; a broken one is logged and skipped, never fatal."""
        if self.load_delay_s:
            time.sleep(self.load_delay_s)
        seen = self._stamps()  # before loading: a card installed meanwhile is picked up by refresh()
        result = self.store.load_all(self.threads)
        self.loaded, self.failures = result.recognizers, result.failures
        self._seen = seen
        if self.default not in self.loaded:
            log.error("default model %r is not available; /readyz will stay 503", self.default)
        else:
            log.info("models loaded: %s (default %s)", ", ".join(sorted(self.loaded)), self.default)
        self._done.set()

    def _stamps(self) -> dict[str, tuple[str, float, float]]:
        """Each card's path and the times its card and the weights it names last changed: new
        weights under an unchanged card (a broken model repaired) count as a change too."""
        stamps: dict[str, tuple[str, float, float]] = {}
        for name, card in self.store.list().items():
            try:
                weights = weights_path(card)
                stamps[name] = (str(card), card.stat().st_mtime,
                                weights.stat().st_mtime if weights is not None and weights.exists() else 0.0)
            except OSError:
                continue
        return stamps

    def refresh(self) -> list[str]:
        """Load the models installed since start-up (or whose card changed); returns their names.
        Models already loaded keep serving; one that fails to load is logged and skipped. A no-op
        until the start-up load is done."""
        if not self._done.is_set():
            return []
        with self._refresh_lock:
            stamps = self._stamps()
            new = [name for name, stamp in stamps.items() if self._seen.get(name) != stamp]
            if not new:
                return []
            loaded, failures = dict(self.loaded), dict(self.failures)
            added = []
            for name in new:
                try:
                    loaded[name] = self.store.load(name, self.threads)
                    failures.pop(name, None)
                    added.append(name)
                except (ModelCardError, OSError, ValueError) as exc:
                    failures[name] = str(exc)
                    log.error("model %s not loaded: %s", name, exc)
            self.loaded, self.failures, self._seen = loaded, failures, stamps
            if added:
                log.info("models loaded since start-up: %s", ", ".join(added))
            return added

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.load, name="model-loader", daemon=True)
        thread.start()
        return thread

    def get(self, name: str | None) -> Recognizer:
        """The recognizer for a request, or the API error that explains why there is none."""
        if not self._done.is_set():
            raise APIError(503, "model_not_loaded", "The model is still loading; try again in a moment.")
        key = name or self.default
        if key in self.loaded:
            return self.loaded[key]
        if key == self.default:
            raise APIError(503, "model_not_loaded", f"The default model {key!r} could not be loaded.")
        raise self.unknown(key)

    def unknown(self, name: str) -> APIError:
        """404 for a model this server lacks, or for someone else's personal model: to the caller the
        two look alike, so the list of those available names no personal model."""
        known = ", ".join(sorted(n for n, rec in self.loaded.items() if owner_of(rec.card) is None)) or "none"
        return APIError(404, "unknown_model", f"There is no model named {name!r}; available: {known}.")
