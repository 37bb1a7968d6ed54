#!/usr/bin/env python3
"""Fetch the web app's vendored front-end files (API docs pages, charts, ONNX Runtime Web) from npm, at pinned versions.

``/docs`` (Swagger UI), ``/redoc`` (ReDoc) and the dashboard's charts (Chart.js) must work without
internet, so their JavaScript, CSS and licences are vendored under ``src/inkdigit/web/static/vendor/``
(the project rule: front-end libraries come from npm, pinned, vendored with their licences). This script makes that copy
reproducible: ``npm pack`` fetches each package's tarball, its integrity is checked against the
hash pinned here (so a changed registry answer is refused, not vendored), and only the files the
server serves, plus the licences, are extracted. ``SHA256SUMS`` records what was written; the
service tests check the tree against it.

    python scripts/vendor_docs_assets.py           # (re)write the vendored files
    python scripts/vendor_docs_assets.py --check   # fetch again and compare with the tree (exit 1 if they differ)

To upgrade, change a version and its integrity (``npm view PACKAGE@VERSION dist.integrity``), run
the script, and update ``VENDORED.md`` there.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parents[1] / "src" / "inkdigit" / "web" / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    """One npm package: what to fetch, the hash it must have, which files to keep and where."""

    name: str
    version: str
    integrity: str  # npm's ``dist.integrity`` (sha512 of the tarball)
    folder: str  # under VENDOR_DIR
    files: tuple[str, ...]  # paths inside the tarball's ``package/`` folder; kept under their base name
    # a file kept under another name (every library's licence is ``LICENSE``, which the tests look for)
    rename: tuple[tuple[str, str], ...] = ()


PACKAGES = (
    Package(
        name="swagger-ui-dist",
        version="5.35.0",
        integrity="sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        folder="swagger-ui",
        files=("swagger-ui-bundle.js", "swagger-ui-bundle.js.LICENSE.txt", "swagger-ui.css", "favicon-32x32.png",
               "LICENSE", "NOTICE"),
    ),
    # ReDoc 2.x, not 3.x: FastAPI's get_redoc_html is written for 2.x (FastAPI's own CDN default is
    # redoc@2), and 3.x sends usage telemetry to Redocly unless told not to
    Package(
        name="redoc",
        version="2.5.4",
        integrity="sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==",
        folder="redoc",
        files=("bundles/redoc.standalone.js", "bundles/redoc.standalone.js.LICENSE.txt", "LICENSE"),
    ),
    # the dashboard's charts (/dashboard): the UMD build, loaded by a plain <script> (the ES module
    # build imports "@kurkle/color" by bare name, which only an import map, an inline script the
    # pages' policy forbids, could resolve); Chart.js 3+ adds no <style> element, so it runs under
    # the pages' Content-Security-Policy as is
    Package(
        name="chart.js",
        version="4.5.1",
        integrity="sha512-GIjfiT9dbmHRiYi6Nl2yFCq7kkwdkp1W/lp2J99rX0yo9tgJGn3lKQATztIjb5tVtevcBtIdICNWqlq5+E8/Pw==",
        folder="chartjs",
        files=("dist/chart.umd.min.js", "LICENSE.md"),
        rename=(("LICENSE.md", "LICENSE"),),
    ),
    # reading in the browser (issue 17): ONNX Runtime Web's WebAssembly-only build, an ES module that
    # loads its glue module and its .wasm from beside itself (the CPU build: every operator the
    # server's ONNX Runtime runs, no WebGL/WebGPU code). Its tarball carries no licence file, only
    # "license": "MIT" in package.json; LICENSE and ThirdPartyNotices.txt come from the same
    # repository's Python wheel, installed with inkdigit (see licence_files)
    Package(
        name="onnxruntime-web",
        version="1.31.1",
        integrity="sha512-5GeH+bWQ+HxM10z7erGlsWqryrwMbSvm/1tkIsKTT48g0fI19VXVVC435t4t7VsPdSQeS7NmuZPXrQ73k82URw==",
        folder="onnxruntime-web",
        files=("dist/ort.wasm.min.mjs", "dist/ort-wasm-simd-threaded.mjs", "dist/ort-wasm-simd-threaded.wasm"),
    ),
)

# packages whose tarball has no licence file: where their licence texts are taken from instead
LICENCE_FROM_PYTHON = {"onnxruntime-web": ("onnxruntime", ("LICENSE", "ThirdPartyNotices.txt"))}


def licence_files(pkg: Package) -> dict[str, bytes]:
    """The licence texts of a package that ships none, from the installed Python package of the same
    project (ONNX Runtime's wheel, from github.com/microsoft/onnxruntime like onnxruntime-web)."""
    if pkg.name not in LICENCE_FROM_PYTHON:
        return {}
    from importlib.resources import files

    module, names = LICENCE_FROM_PYTHON[pkg.name]
    return {f"{pkg.folder}/{name}": (files(module) / name).read_bytes() for name in names}


def npm_pack(pkg: Package, into: Path) -> Path:
    """Download ``pkg``'s tarball with npm; refuse it unless its sha512 is the pinned one."""
    out = subprocess.run(["npm", "pack", f"{pkg.name}@{pkg.version}", "--json", "--pack-destination", str(into)],
                         check=True, capture_output=True, text=True, cwd=into).stdout
    tarball = into / json.loads(out)[0]["filename"]
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != pkg.integrity:
        raise SystemExit(f"{pkg.name}@{pkg.version}: integrity {digest} is not the pinned {pkg.integrity}")
    return tarball


def extract(pkg: Package, tarball: Path) -> dict[str, bytes]:
    """The files ``pkg`` contributes, as ``{path under VENDOR_DIR: content}``: only the members named in
    ``pkg.files``, read into memory, so no path inside the archive decides where anything is written."""
    found: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for name in pkg.files:
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise SystemExit(f"{pkg.name}@{pkg.version}: package/{name} is not a regular file")
            found[f"{pkg.folder}/{dict(pkg.rename).get(name, Path(name).name)}"] = member.read()
    return found


def fetch_all() -> dict[str, bytes]:
    """Every vendored file, fetched fresh, plus the ``SHA256SUMS`` that lists them."""
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in PACKAGES:
            files.update(extract(pkg, npm_pack(pkg, Path(tmp))))
            files.update(licence_files(pkg))
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items()))
    files["SHA256SUMS"] = sums.encode()
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare a fresh fetch with the tree; write nothing")
    args = parser.parse_args()
    files = fetch_all()
    if args.check:
        differ = [p for p, data in files.items()
                  if not (VENDOR_DIR / p).is_file() or (VENDOR_DIR / p).read_bytes() != data]
        # a file no package gives (a leftover of an older version) is a difference too
        differ += sorted(str(f.relative_to(VENDOR_DIR)) for f in VENDOR_DIR.rglob("*")
                         if f.is_file() and f.name != "VENDORED.md" and str(f.relative_to(VENDOR_DIR)) not in files)
        for p in differ:
            print(f"differs from npm: {p}", file=sys.stderr)
        print("vendored files match npm" if not differ else f"{len(differ)} file(s) differ")
        return 1 if differ else 0
    for path, data in files.items():
        target = VENDOR_DIR / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"wrote {target.relative_to(VENDOR_DIR.parents[4])} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
