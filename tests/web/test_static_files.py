"""The page's files as the server hands them out: browsers run a module only with a JavaScript type."""

from __future__ import annotations

import re

import httpx

from inkdigit.web import STATIC_DIR

JAVASCRIPT = ("text/javascript", "application/javascript")


def test_every_module_is_served_as_javascript(web_server: str) -> None:
    modules = sorted(p.name for p in (STATIC_DIR / "js").glob("*.mjs"))
    assert "main.mjs" in modules
    with httpx.Client(base_url=web_server, timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert re.search(r'<script type="module" src="/static/js/main\.mjs">', page.text)
        for name in modules:
            r = client.get(f"/static/js/{name}")
            assert r.status_code == 200, name
            assert r.headers["content-type"].split(";")[0].strip() in JAVASCRIPT, (name, r.headers["content-type"])
            assert r.content == (STATIC_DIR / "js" / name).read_bytes()
