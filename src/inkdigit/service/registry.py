"""The models this process serves: discovered and loaded once, in the background, at start-up.

Loading off the event loop lets ``/healthz`` answer at once while ``/readyz`` says 503 until the
default model is ready, which is what orchestrators expect of a slow start.
"""

from __future__ import annotations

import logging
import threading
import time

from inkdigit.engine.modelcard import ModelCardError
from inkdigit.engine.recognizer import Recognizer, discover_models, model_dirs
from inkdigit.service.config import Settings
from inkdigit.service.errors import APIError

log = logging.getLogger("inkdigit.service")


class ModelRegistry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.default = settings.default_model
        self.models: dict[str, Recognizer] = {}
        self.failures: dict[str, str] = {}
        self._ready = threading.Event()

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.default in self.models

    def load(self) -> None:
        """Load every discovered model; a broken one is logged and skipped, never fatal."""
        if self.settings.load_delay_s:
            time.sleep(self.settings.load_delay_s)
        for name, card in discover_models(model_dirs(self.settings.model_dir, self.settings.home)).items():
            try:
                self.models[name] = Recognizer(card, threads=self.settings.inference_threads)
            except (ModelCardError, OSError, ValueError) as exc:
                self.failures[name] = str(exc)
                log.error("model %s not loaded: %s", name, exc)
        if self.default not in self.models:
            log.error("default model %r is not available; /readyz will stay 503", self.default)
        self._ready.set()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.load, name="model-loader", daemon=True)
        thread.start()
        return thread

    def get(self, name: str | None) -> Recognizer:
        """The model to use for a request, or the API error that explains why there is none."""
        if not self._ready.is_set():
            raise APIError(503, "model_not_loaded", "The model is still loading; try again in a moment.")
        key = name or self.default
        if key in self.models:
            return self.models[key]
        if key == self.default:
            raise APIError(503, "model_not_loaded", f"The default model {key!r} could not be loaded.")
        known = ", ".join(sorted(self.models)) or "none"
        raise APIError(404, "unknown_model", f"There is no model named {key!r}; available: {known}.")
