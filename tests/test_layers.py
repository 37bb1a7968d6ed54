"""The layering rules a reader relies on, checked on the source itself.

- Only the edges read ``INKDIGIT_*`` (or any) environment variables: ``inkdigit.paths``, the CLI
  and the service's ``Settings`` (through pydantic-settings, so no ``os.environ`` there either).
- The engine imports no service, web or training code; the service holds no model code.
- Values travel typed through the service: no ``tuple[Any`` there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "inkdigit"
EDGES = {SRC / "paths.py", SRC / "cli.py"}


def _sources(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


@pytest.mark.parametrize("path", _sources(SRC), ids=lambda p: str(p.relative_to(SRC)))
def test_only_the_edges_read_the_environment(path: Path) -> None:
    if path in EDGES:
        return
    assert not re.search(r"os\.environ|getenv\(", path.read_text()), f"{path.name} reads the environment"


@pytest.mark.parametrize("path", _sources(SRC / "engine"), ids=lambda p: p.name)
def test_the_engine_imports_no_outer_layer(path: Path) -> None:
    imports = re.findall(r"^\s*(?:from|import) (inkdigit\.\w+)", path.read_text(), re.M)
    assert not {i for i in imports if i in ("inkdigit.service", "inkdigit.web", "inkdigit.training",
                                            "inkdigit.cli", "inkdigit.paths")}


@pytest.mark.parametrize("path", _sources(SRC / "service"), ids=lambda p: p.name)
def test_the_service_passes_typed_values_and_holds_no_model_code(path: Path) -> None:
    text = path.read_text()
    assert "tuple[Any" not in text
    assert not re.search(r"^\s*import (onnxruntime|torch|sklearn)|^\s*from inkdigit\.training", text, re.M)
