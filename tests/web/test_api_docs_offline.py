"""The API docs pages work with no internet: in Chromium, every request to another host is refused,
and ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) still render every operation of the schema.

The server is reached by a name (``docs.inkdigit.test``, mapped to loopback inside Chromium only)
as on a real deployment, not by 127.0.0.1, which some front-end code treats specially (Swagger UI's
online validator badge, for one, is never shown for localhost).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.web.conftest import ARGS, CHROMIUM

HOST = "docs.inkdigit.test"
TIMEOUT = 15_000  # the bundles are megabytes of JavaScript to parse on a shared 2-core machine

# what the Content-Security-Policy stopped, as "blocked-URI directive"
WATCH_POLICY = """window.__policyBlocked = [];
document.addEventListener('securitypolicyviolation',
    e => window.__policyBlocked.push(e.blockedURI + ' ' + e.effectiveDirective));"""


@dataclass
class Traffic:
    """What a page asked for: every URL, those refused for leaving the server, those that failed."""

    origin: str
    requested: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # uncaught exceptions in the page

    def route(self, route: Route) -> None:
        url = route.request.url
        self.requested.append(url)
        if f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" == self.origin:
            route.continue_()
        else:
            self.refused.append(url)
            route.abort("internetdisconnected")


@pytest.fixture(scope="module")
def named_browser(browser: Browser) -> Iterator[Browser]:
    """Chromium resolving ``HOST`` to loopback (and nothing else differently)."""
    b = browser.browser_type.launch(executable_path=CHROMIUM,
                                    args=[*ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"])
    yield b
    b.close()


@dataclass(frozen=True)
class Operation:
    """What the pages show of one documented operation."""

    method: str
    path: str
    tag: str
    operation_id: str
    summary: str


@pytest.fixture(scope="module")
def operations(web_server: str) -> list[Operation]:
    """Every operation in the server's schema: the pages must show them all."""
    schema = httpx.get(f"{web_server}/openapi.json", timeout=10).json()
    ops = [Operation(method.upper(), path, op["tags"][0], op["operationId"], op["summary"])
           for path, item in schema["paths"].items() for method, op in item.items()]
    assert Operation("POST", "/api/v1/predict", "predict", "predict_api_v1_predict_post", "Predict") in ops
    return ops


@pytest.fixture
def offline(named_browser: Browser, web_server: str) -> Iterator[tuple[Page, Traffic]]:
    """A page that can reach the server (by name) and nothing else."""
    traffic = Traffic(f"http://{HOST}:{urlsplit(web_server).port}")
    context = named_browser.new_context(viewport={"width": 1280, "height": 900}, base_url=traffic.origin)
    context.route("**/*", traffic.route)
    context.add_init_script(WATCH_POLICY)
    page = context.new_page()
    page.on("requestfailed", lambda r: traffic.failed.append(f"{r.url} {r.failure}"))
    page.on("pageerror", lambda e: traffic.errors.append(str(e)))
    yield page, traffic
    context.close()


def assert_stayed_on_the_server(page: Page, traffic: Traffic) -> None:
    """Nothing was asked of another host, nothing of the server's failed, no script broke, and the
    page's policy stopped only loads from elsewhere (never a script, style or worker of its own)."""
    origin = traffic.origin
    assert traffic.refused == [], "the page tried to load from outside the server"
    # what failed was never sent: the policy stopped it (ReDoc's logo on cdn.redoc.ly)
    assert [f for f in traffic.failed if f.startswith(origin) or not f.endswith(" csp")] == []
    blocked = page.evaluate("() => window.__policyBlocked")
    assert [b for b in blocked if not b.startswith(("http://", "https://")) or b.startswith(origin)] == []
    assert traffic.errors == []
    assert any(u.startswith(f"{origin}/static/vendor/") for u in traffic.requested)


def test_swagger_ui_lists_every_operation_offline(offline: tuple[Page, Traffic], operations: list[Operation]) -> None:
    page, traffic = offline
    page.goto("/docs")
    predict = page.locator("#operations-predict-predict_api_v1_predict_post")
    expect(predict).to_be_visible(timeout=TIMEOUT)
    expect(predict.locator(".opblock-summary-method")).to_have_text("POST")
    expect(predict.locator(".opblock-summary-path")).to_have_attribute("data-path", "/api/v1/predict")
    expect(page.locator(".opblock")).to_have_count(len(operations))
    for op in operations:
        block = page.locator(f"#operations-{op.tag}-{op.operation_id}")
        expect(block.locator(".opblock-summary-method")).to_have_text(op.method)
        expect(block.locator(".opblock-summary-path")).to_have_attribute("data-path", op.path)
    # the stylesheet applied: Swagger UI's CSS colours a POST's method badge green
    assert predict.locator(".opblock-summary-method").evaluate("e => getComputedStyle(e).backgroundColor") \
        == "rgb(73, 204, 144)"
    # and it works, within the page's policy: "Try it out" calls the server and shows the answer
    models = page.locator("#operations-models-list_models_api_v1_models_get")
    models.locator(".opblock-summary-control").click()
    models.get_by_role("button", name="Try it out").click()
    models.get_by_role("button", name="Execute").click()
    status = models.locator(".live-responses-table td.response-col_status:not(.col_header)")
    expect(status).to_have_text("200", timeout=TIMEOUT)
    assert_stayed_on_the_server(page, traffic)


def test_redoc_shows_every_operation_offline(offline: tuple[Page, Traffic], operations: list[Operation]) -> None:
    page, traffic = offline
    page.goto("/redoc")
    expect(page.locator("[data-section-id='operation/predict_api_v1_predict_post'] h2")).to_have_text(
        "Predict", timeout=TIMEOUT)
    for op in operations:
        section = page.locator(f"[data-section-id='operation/{op.operation_id}']")
        expect(section.locator("h2")).to_have_text(op.summary)
        expect(section).to_contain_text(op.path)
    assert_stayed_on_the_server(page, traffic)
