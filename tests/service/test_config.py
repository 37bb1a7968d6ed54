"""Settings read the environment the way ``inkdigit.paths`` does, so the CLI and the server agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkdigit import paths
from inkdigit.service.config import Settings


def test_paths_expand_home_and_an_empty_value_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INKDIGIT_HOME", "~/inkdigit-home")
    monkeypatch.setenv("INKDIGIT_MODEL_DIR", "")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    s = Settings()
    assert s.home == paths.home_dir() == Path("~/inkdigit-home").expanduser()
    assert s.model_dir is None and paths.model_dir() is None
    assert s.metrics_dir is None
    assert s.store().dirs == paths.store().dirs


def test_limits_and_the_shared_metrics_directory_come_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("INKDIGIT_MAX_PIXELS", "1234")
    s = Settings()
    assert s.metrics_dir == tmp_path
    assert s.limits.max_pixels == 1234 and s.limits.max_bytes == s.max_upload_bytes
