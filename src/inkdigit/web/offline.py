"""What the page keeps for offline use: the service worker's list of files and its version.

The service worker (``static/sw.js``) must know every file the main page loads before the page is
used offline, since the first load happens before the worker exists. That list is made here from
the static folder, so a new module is kept without anyone remembering to add it, and the version
is a hash of the listed files' contents: any change to them makes the browser install a new worker
(a worker whose own bytes did not change is never replaced). The model the page reads with is not
in the list: the worker keeps it when the page first fetches it (it may change while the app runs).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from inkdigit.web import STATIC_DIR

RUNTIME = ("vendor/onnxruntime-web/ort.wasm.min.mjs", "vendor/onnxruntime-web/ort-wasm-simd-threaded.mjs",
           "vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm")


@dataclass(frozen=True)
class Precache:
    urls: tuple[str, ...]
    version: str


def _files(static: Path) -> list[Path]:
    """The main page's files: its stylesheets, every module (a few the main page does not import
    cost a few KB), the icons and the runtime."""
    return sorted([static / "app.css", static / "accounts.css", *static.glob("js/*.mjs"), *static.glob("icons/*.png"),
                   *(static / name for name in RUNTIME)])


def precache(static: Path = STATIC_DIR) -> Precache:
    files = _files(static)
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in [*files, static / "index.html",
                                                                             static / "sw.js"])
    return _precache(static, stamp)


@lru_cache(maxsize=4)
def _precache(static: Path, stamp: tuple[tuple[str, int, int], ...]) -> Precache:
    """Hashed once per version of the files (``stamp``: their paths, times and sizes)."""
    digest = hashlib.sha256()
    for path, _, _ in stamp:  # names relative to the folder: servers installed elsewhere agree
        digest.update(Path(path).relative_to(static).as_posix().encode())
        digest.update(Path(path).read_bytes())
    urls = ["/", "/manifest.webmanifest"] + [f"/static/{f.relative_to(static).as_posix()}" for f in _files(static)]
    return Precache(tuple(urls), digest.hexdigest()[:16])


def service_worker(static: Path = STATIC_DIR) -> str:
    """``static/sw.js`` with the list of files to keep and their version set before it."""
    found = precache(static)
    head = f"self.PRECACHE = {json.dumps(list(found.urls))};\nself.CACHE_VERSION = {json.dumps(found.version)};\n"
    return head + (static / "sw.js").read_text(encoding="utf-8")
