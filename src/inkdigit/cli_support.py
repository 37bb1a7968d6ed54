"""What the command line needs besides its commands: which files a folder argument means, and
help text that names types as people know them.

Kept apart from ``cli.py`` so that module stays the list of commands, read top to bottom.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from inkdigit.service.config import Settings

#: what a folder given to ``predict`` or ``read`` is searched for (case-insensitive)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"})


def image_files(paths: Iterable[Path], recursive: bool = False) -> Iterator[tuple[Path, Path | None]]:
    """Each argument with each file it stands for, in order: a file stands for itself (whatever its
    name: the reader says if it is no image), a folder for the images in it, sorted (and in its
    folders with ``recursive``); a folder with none yields ``(folder, None)`` once."""
    for path in paths:
        if not path.is_dir():
            yield path, path
            continue
        found = sorted(p for p in (path.rglob("*") if recursive else path.iterdir())
                       if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not found:
            yield path, None
        for p in found:
            yield path, p


_LABELS = {"int": "INTEGER", "int range": "INTEGER", "float": "FLOAT", "float range": "FLOAT",
           "str": "TEXT", "Path": "PATH", "path": "PATH", "file": "FILE", "directory": "DIRECTORY"}


def _plain(label: str) -> str:
    """``int range`` → INTEGER, ``list[Path]`` → PATH, ``knn|svm`` stays: click's words for types."""
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    return _LABELS.get(label, label)


def plain_help_types() -> None:
    """Make ``--help`` name types as click does (INTEGER, PATH, TEXT, no label for a flag) rather
    than as Python annotations (Typer 0.29 shows ``<bool>``, ``<list[Path]>``, ``<int range>``)."""
    from typer.core import TyperArgument, TyperOption

    for cls in (TyperArgument, TyperOption):
        annotated = getattr(cls, "display_type_rich", None)
        if annotated is None:  # a Typer without this hook labels types its own way
            continue

        def display_type_rich(self: Any, ctx: Any, _annotated: Any = annotated) -> str | None:
            if getattr(self, "is_flag", False):
                return None
            label = _annotated(self, ctx)
            return None if label is None else _plain(label.strip("<>"))

        cls.display_type_rich = display_type_rich  # type: ignore[method-assign,assignment]


def service_settings() -> Settings:
    """The server's settings (``INKDIGIT_*``), so a command acts on what the server uses."""
    from inkdigit.service.config import Settings

    return Settings()


@contextmanager
def service_database() -> Iterator[Engine]:
    """The server's database, migrated to this version, through a blocking engine."""
    from sqlalchemy import create_engine

    from inkdigit.service.db.migrate import upgrade
    from inkdigit.service.db.session import sync_url

    url = service_settings().database
    upgrade(url)
    engine = create_engine(sync_url(url))
    try:
        yield engine
    finally:
        engine.dispose()


def fail(message: str) -> typer.Exit:
    """Print ``message`` on stderr (plain text: brackets in it are not markup) and give the exit to raise."""
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(1)
