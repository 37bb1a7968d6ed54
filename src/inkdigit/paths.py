"""Per-user directories (cache, models), each overridable by an ``INKDIGIT_*`` environment variable."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_dir() -> Path:
    """Where derived data (preprocessed data sets) is cached: ``INKDIGIT_CACHE_DIR`` or user cache."""
    env = os.environ.get("INKDIGIT_CACHE_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("inkdigit"))


def home_dir() -> Path:
    """The app's own state (database, user-trained models): ``INKDIGIT_HOME`` or user data dir."""
    env = os.environ.get("INKDIGIT_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("inkdigit"))
