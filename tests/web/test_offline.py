"""What the service worker keeps for offline reading (``inkdigit.web.offline``), /sw.js and the
web app manifest, as the server hands them out."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
from PIL import Image

from inkdigit.web import STATIC_DIR
from inkdigit.web.offline import precache


def test_the_worker_keeps_every_file_the_page_loads(web_server: str) -> None:
    with httpx.Client(base_url=web_server, timeout=30) as client:
        sw = client.get("/sw.js")
        assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
        assert sw.headers["cache-control"] == "no-cache"  # checked on every load: a new version installs
        first, second, rest = sw.text.split("\n", 2)
        urls = json.loads(first.removeprefix("self.PRECACHE = ").removesuffix(";"))
        assert second.startswith("self.CACHE_VERSION = ")
        assert rest == (STATIC_DIR / "sw.js").read_text()
        modules = {f"/static/js/{p.name}" for p in (STATIC_DIR / "js").glob("*.mjs")}
        assert modules <= set(urls)
        assert {"/", "/manifest.webmanifest", "/static/app.css",
                "/static/vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm"} <= set(urls)
        for url in urls:  # cache.addAll fails the whole install if any one is missing
            assert client.get(url).status_code == 200, url
        # and everything the page itself names (stylesheets, its module, icons), not only what the
        # list's own glob finds
        named = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', client.get("/").text))
        assert named and named <= set(urls), named - set(urls)


def test_a_changed_file_is_a_new_version(tmp_path: Path) -> None:
    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR, static, ignore=shutil.ignore_patterns("vendor"))
    shutil.copytree(STATIC_DIR / "vendor" / "onnxruntime-web", static / "vendor" / "onnxruntime-web")
    before = precache(static)
    assert precache(static) == before
    main = static / "js" / "main.mjs"
    main.write_text(main.read_text() + "\n// changed\n")
    after = precache(static)
    assert after.version != before.version and after.urls == before.urls
    (static / "js" / "zzz.mjs").write_text("// zzz: new\nexport const x = 1;\n")
    assert "/static/js/zzz.mjs" in precache(static).urls


def test_the_page_is_installable(web_server: str) -> None:
    with httpx.Client(base_url=web_server, timeout=10) as client:
        page = client.get("/").text
        assert '<link rel="manifest" href="/manifest.webmanifest">' in page
        r = client.get("/manifest.webmanifest")
        assert r.status_code == 200 and r.headers["content-type"] == "application/manifest+json"
        manifest = r.json()
        assert manifest["start_url"] == "/" and manifest["display"] == "standalone" and manifest["name"]
        sizes = set()
        for icon in manifest["icons"]:
            image = Image.open(STATIC_DIR / icon["src"].removeprefix("/static/"))
            assert f"{image.width}x{image.height}" == icon["sizes"] and image.format == "PNG"
            assert client.get(icon["src"]).status_code == 200
            sizes.add(icon["sizes"])
        assert {"192x192", "512x512"} <= sizes  # what Chromium asks of an installable app
