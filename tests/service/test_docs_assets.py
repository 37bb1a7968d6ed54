"""The API docs pages (``/docs``, ``/redoc``) name only files of this server, which serves each of
them with a type a browser accepts; and the vendored copies are the ones recorded (no browser here:
tests/web/test_api_docs_offline.py renders the pages)."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser

import httpx
import pytest

from inkdigit.service.app import create_app
from inkdigit.service.config import Settings
from inkdigit.web import STATIC_DIR

VENDOR_DIR = STATIC_DIR / "vendor"
TYPES = {".js": ("text/javascript", "application/javascript"), ".css": ("text/css",), ".png": ("image/png",),
         ".json": ("application/json",)}


class _Urls(HTMLParser):
    """Every URL an HTML page makes the browser load: src, href, ReDoc's spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href", "spec-url") and v]


def referenced(html: str) -> list[str]:
    parser = _Urls()
    parser.feed(html)
    # Swagger UI's schema URL is in its start-up script: ``url: '/openapi.json'``
    return parser.urls + re.findall(r"""\burl: '([^']*)'""", html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_files_of_this_server(client: httpx.Client, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text.lower()
    assert "cdn" not in html and "//" not in html  # no absolute or protocol-relative URL at all
    urls = referenced(r.text)
    assert "/openapi.json" in urls
    assert any(u.startswith("/static/vendor/") and u.endswith(".js") for u in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        kind = asset.headers["content-type"].split(";")[0].strip()
        assert kind in TYPES[url[url.rindex("."):]], (url, kind)
        if url.startswith("/static/"):
            assert asset.content == (STATIC_DIR / url.removeprefix("/static/")).read_bytes()
    # the browser is told to load nothing from elsewhere, whatever the page's scripts try
    policy = r.headers.get("content-security-policy", "")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives.get("default-src") == "'self'", policy
    assert all("http" not in v and "*" not in v for v in directives.values()), policy


def test_swagger_ui_does_not_call_the_online_validator(client: httpx.Client) -> None:
    # by default a badge (in Swagger UI's standalone layout) sends the schema's URL to validator.swagger.io
    assert '"validatorUrl": null' in client.get("/docs").text


def test_docs_pages_keep_a_proxy_prefix() -> None:
    """Behind a proxy that strips ``/inkdigit`` (root_path), the pages must ask for ``/inkdigit/...``."""
    from starlette.testclient import TestClient  # as tests.service.conftest: imported when used

    client = TestClient(create_app(Settings()), root_path="/inkdigit")  # no lifespan: no model needed
    for page in ("/docs", "/redoc"):
        urls = referenced(client.get(page).text)
        assert "/inkdigit/openapi.json" in urls
        assert all(u.startswith("/inkdigit/") for u in urls), urls


def test_vendored_files_are_the_recorded_ones() -> None:
    """``SHA256SUMS`` (written by scripts/vendor_docs_assets.py from the npm tarballs) covers every
    vendored file, and each still has its recorded content: none edited, added or left over."""
    sums = dict(reversed(line.split("  ", 1)) for line in (VENDOR_DIR / "SHA256SUMS").read_text().splitlines())
    present = {str(p.relative_to(VENDOR_DIR)) for p in VENDOR_DIR.rglob("*") if p.is_file()}
    assert present - set(sums) == {"SHA256SUMS", "VENDORED.md"}
    for path, digest in sums.items():
        assert hashlib.sha256((VENDOR_DIR / path).read_bytes()).hexdigest() == digest, path
    for folder in {p.split("/")[0] for p in sums}:
        assert f"{folder}/LICENSE" in sums  # each library ships with its licence
