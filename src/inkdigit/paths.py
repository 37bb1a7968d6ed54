"""The library's one reader of ``INKDIGIT_*`` environment variables: where things live by default.

The engine takes explicit paths and names. This module (for the library, the CLI and training,
which asks it for the data and cache directories when a caller gives none) and the service's
``Settings`` are the only places that turn the environment into those arguments.

| variable | default |
| --- | --- |
| ``INKDIGIT_HOME`` (app state: database, installed recognizers) | the user data directory |
| ``INKDIGIT_CACHE_DIR`` (derived data: preprocessed data sets) | the user cache directory |
| ``INKDIGIT_DATA_DIR`` (MNIST and USPS) | ``<user cache>/data`` |
| ``INKDIGIT_DATA_MIRRORS`` (comma-separated base URLs replacing the public mirrors) | none |
| ``INKDIGIT_MODEL_DIR`` (a directory searched first for recognizers) | none |
| ``INKDIGIT_DEFAULT_MODEL`` (the recognizer used when none is named) | ``cnn-v17`` |
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from inkdigit.engine.defaults import DEFAULT_MODEL
from inkdigit.engine.store import RecognizerStore


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def default_home() -> Path:
    """The app's state directory when ``INKDIGIT_HOME`` is not set."""
    return Path(platformdirs.user_data_dir("inkdigit"))


def home_dir() -> Path:
    """The app's own state (database, installed recognizers): ``INKDIGIT_HOME`` or the user data dir."""
    return _env_path("INKDIGIT_HOME") or default_home()


def cache_dir() -> Path:
    """Where derived data (preprocessed data sets) is cached: ``INKDIGIT_CACHE_DIR`` or user cache."""
    return _env_path("INKDIGIT_CACHE_DIR") or Path(platformdirs.user_cache_dir("inkdigit"))


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``explicit`` (``--data-dir``), then ``INKDIGIT_DATA_DIR``, then the user cache."""
    if explicit:
        return Path(explicit).expanduser()
    return _env_path("INKDIGIT_DATA_DIR") or Path(platformdirs.user_cache_dir("inkdigit")) / "data"


def data_mirrors() -> tuple[str, ...] | None:
    """Base URLs (each holding ``mnist/`` and ``usps/``) replacing the public mirrors, or None."""
    value = os.environ.get("INKDIGIT_DATA_MIRRORS")
    if value is None:
        return None
    return tuple(b.strip().rstrip("/") for b in value.split(",") if b.strip())


def font_registry() -> str:
    """Where handwriting-font tarballs come from (``INKDIGIT_FONT_REGISTRY``, a mirror laid out as
    npm's registry is), else npm's registry."""
    return (os.environ.get("INKDIGIT_FONT_REGISTRY") or "https://registry.npmjs.org").rstrip("/")


def model_dir() -> Path | None:
    """An extra directory searched first for recognizers (``INKDIGIT_MODEL_DIR``)."""
    return _env_path("INKDIGIT_MODEL_DIR")


def default_model() -> str:
    """The recognizer used when a caller names none (``INKDIGIT_DEFAULT_MODEL``)."""
    return os.environ.get("INKDIGIT_DEFAULT_MODEL") or DEFAULT_MODEL


def store() -> RecognizerStore:
    """The standard store for this environment: the extra directory, the home's, the shipped one."""
    return RecognizerStore.standard(home_dir(), model_dir())
